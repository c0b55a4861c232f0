"""Tests of e2t.transformer: multi-head attention, positions, layers, the model, the key/value cache."""

import math

import pytest
import torch
import torch.nn.functional as F

import e2t
from e2t.masks import causal_mask, padding_mask
from e2t.data.text import collate, number_task
from e2t.recipes import transformer as recipe
from e2t.train import checkpoints
from e2t.train.translate import translator
from e2t.transformer import DecoderLayer, EncoderLayer, MultiHeadAttention, record_attention, sinusoidal_positions
from e2t.transformer_model import TransformerConfig, make_transformer
from e2t.viz.masking import example_mask, masking_demo, masking_explorer


def _mha(d_model=8, num_heads=2, seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return MultiHeadAttention(d_model=d_model, num_heads=num_heads).to(dtype)


def _copy_into_torch_mha(ours: MultiHeadAttention) -> torch.nn.MultiheadAttention:
    D, H = ours.d_model, ours.num_heads
    theirs = torch.nn.MultiheadAttention(D, H, batch_first=True, dtype=ours.W_q.weight.dtype)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(torch.cat([ours.W_q.weight, ours.W_k.weight, ours.W_v.weight]))
        theirs.in_proj_bias.copy_(torch.cat([ours.W_q.bias, ours.W_k.bias, ours.W_v.bias]))
        theirs.out_proj.weight.copy_(ours.W_o.weight)
        theirs.out_proj.bias.copy_(ours.W_o.bias)
    return theirs


def test_mha_has_the_stable_api():
    m = MultiHeadAttention(d_model=12, num_heads=3)
    for name in ("W_q", "W_k", "W_v", "W_o"):
        lin = getattr(m, name)
        assert isinstance(lin, torch.nn.Linear) and lin.weight.shape == (12, 12) and lin.bias is not None
    with pytest.raises(TypeError):
        MultiHeadAttention(12, 3)  # keyword-only
    out, w = m(torch.randn(2, 5, 12), torch.randn(2, 7, 12), torch.randn(2, 7, 12))
    assert out.shape == (2, 5, 12) and w.shape == (2, 3, 5, 7)


def test_mha_heads_match_torch_functional_sdpa():
    """Each head is softmax(Q W_q^i (K W_k^i)^T / sqrt(Dh)) V W_v^i; check against torch's fused kernel."""
    m = _mha(d_model=8, num_heads=2)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(3, 4, 8, generator=g, dtype=torch.float64)
    y = torch.randn(3, 6, 8, generator=g, dtype=torch.float64)
    mask = padding_mask(torch.tensor([6, 3, 1]), 6)  # (B, 1, 1, S)
    out, _ = m(x, y, y, mask)
    q, k, v = m.split_heads(m.W_q(x)), m.split_heads(m.W_k(y)), m.split_heads(m.W_v(y))  # (B, H, L, Dh)
    heads = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, H, T, Dh)
    torch.testing.assert_close(out, m.W_o(m.merge_heads(heads)))


@pytest.mark.parametrize("mask_kind", ["none", "causal", "padding", "both"])
def test_mha_matches_torch_multihead_attention(mask_kind):
    m = _mha(d_model=12, num_heads=3)
    theirs = _copy_into_torch_mha(m)
    g = torch.Generator().manual_seed(2)
    B, T = 3, 5
    x = torch.randn(B, T, 12, generator=g, dtype=torch.float64)
    lengths = torch.tensor([5, 3, 2])
    ours_mask = {"none": None, "causal": causal_mask(T), "padding": padding_mask(lengths, T),
                 "both": causal_mask(T) & padding_mask(lengths, T)}[mask_kind]
    out, w = m(x, x, x, ours_mask)
    kwargs = {}
    if mask_kind == "causal":
        kwargs["attn_mask"] = ~causal_mask(T)  # torch's bool masks mean True = blocked: the opposite of ours
    elif mask_kind == "padding":
        kwargs["key_padding_mask"] = ~padding_mask(lengths, T)[:, 0, 0]  # (B, S), True = blocked
    elif mask_kind == "both":
        kwargs["attn_mask"] = ~causal_mask(T)
        kwargs["key_padding_mask"] = ~padding_mask(lengths, T)[:, 0, 0]
    expected, expected_w = theirs(x, x, x, need_weights=True, average_attn_weights=False, **kwargs)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(w, expected_w)


def test_mha_fully_masked_query_gives_zero_weights_and_no_nan():
    m = _mha()
    x = torch.randn(2, 3, 8, dtype=torch.float64)
    mask = torch.ones(2, 1, 3, 3, dtype=torch.bool)
    mask[1, 0, 2] = False  # query 2 of sequence 1 may see nothing
    out, w = m(x, x, x, mask)
    assert torch.equal(w[1, :, 2], torch.zeros(2, 3, dtype=torch.float64))
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out[1, 2], m.W_o.bias)  # zero heads -> only the output bias
    out.sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in m.parameters())


def test_mha_bad_input_raises_clear_errors():
    m = MultiHeadAttention(d_model=8, num_heads=2)
    x = torch.randn(2, 3, 8)
    with pytest.raises(TypeError, match="mask must be a torch.bool"):
        m(x, x, x, torch.ones(3, 3))
    with pytest.raises(ValueError, match=r"mask of shape \(4, 4\) cannot broadcast"):
        m(x, x, x, torch.ones(4, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match="needs a head axis"):
        m(x, x, x, torch.ones(2, 3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="query has width 6 but d_model is 8"):
        m(torch.randn(2, 3, 6), x, x)
    with pytest.raises(ValueError, match="key and value must have the same batch and length"):
        m(x, x, torch.randn(2, 4, 8))
    with pytest.raises(ValueError, match="not divisible"):
        MultiHeadAttention(d_model=10, num_heads=3)


def test_sinusoidal_positions_formula_and_shape():
    pe = sinusoidal_positions(50, 16)
    assert pe.shape == (50, 16)
    pos, i = 7, 3
    assert math.isclose(pe[pos, 2 * i].item(), math.sin(pos / 10000 ** (2 * i / 16)), abs_tol=1e-6)
    assert math.isclose(pe[pos, 2 * i + 1].item(), math.cos(pos / 10000 ** (2 * i / 16)), abs_tol=1e-6)
    assert sinusoidal_positions(4, 5).shape == (4, 5)  # odd widths work
    assert torch.unique(pe, dim=0).shape[0] == 50  # every position gets its own code
    with pytest.raises(ValueError, match="max_len"):
        sinusoidal_positions(0, 4)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_matches_torch(norm_first):
    torch.manual_seed(0)
    D, H, F_ = 16, 4, 32
    ours = EncoderLayer(d_model=D, num_heads=H, d_ff=F_, dropout=0.0, norm_first=norm_first).double().eval()
    theirs = torch.nn.TransformerEncoderLayer(D, H, F_, dropout=0.0, batch_first=True, norm_first=norm_first,
                                              dtype=torch.float64)
    with torch.no_grad():
        theirs.self_attn.load_state_dict(_copy_into_torch_mha(ours.self_attn).state_dict())
        theirs.linear1.load_state_dict(ours.feed_forward.W_1.state_dict())
        theirs.linear2.load_state_dict(ours.feed_forward.W_2.state_dict())
        theirs.norm1.load_state_dict(ours.norm1.state_dict())
        theirs.norm2.load_state_dict(ours.norm2.state_dict())
    theirs.train()  # the training path (dropout is 0) avoids the fast path, which zeroes padded positions
    x = torch.randn(3, 6, D, dtype=torch.float64)
    lengths = torch.tensor([6, 4, 1])
    out = ours(x, padding_mask(lengths, 6))
    expected = theirs(x, src_key_padding_mask=~padding_mask(lengths, 6)[:, 0, 0])  # torch: True = blocked
    torch.testing.assert_close(out, expected)


def _tiny_config(**kw):
    base = dict(src_vocab_size=11, tgt_vocab_size=13, d_model=16, num_heads=2, num_encoder_layers=2,
                num_decoder_layers=2, d_ff=32, dropout=0.0, max_len=40)
    return TransformerConfig(**{**base, **kw})


def test_decoder_layer_has_three_sublayers():
    layer = DecoderLayer(d_model=8, num_heads=2, d_ff=16)
    children = {name for name, _ in layer.named_children()}
    assert {"self_attn", "cross_attn", "feed_forward", "norm1", "norm2", "norm3"} <= children


def test_config_is_frozen_and_checked():
    c = _tiny_config()
    with pytest.raises(Exception):
        c.d_model = 32
    with pytest.raises(ValueError, match="not divisible"):
        _tiny_config(d_model=15)
    with pytest.raises(TypeError, match="TransformerConfig"):
        make_transformer(42)
    assert make_transformer({"src_vocab_size": 5, "tgt_vocab_size": 6, "d_model": 8, "num_heads": 2,
                             "num_encoder_layers": 1, "num_decoder_layers": 1, "d_ff": 8}).config.d_model == 8


@pytest.mark.parametrize("norm_first", [False, True])
def test_no_peeking_future_targets_do_not_change_earlier_outputs(norm_first):
    torch.manual_seed(0)
    model = make_transformer(_tiny_config(norm_first=norm_first)).eval()
    src = torch.randint(3, 11, (2, 7))
    lengths = torch.tensor([7, 4])
    tgt = torch.randint(3, 13, (2, 9))
    changed = tgt.clone()
    changed[:, 5:] = torch.randint(3, 13, (2, 4))
    a, b = model(src, lengths, tgt), model(src, lengths, changed)
    torch.testing.assert_close(a[:, :5], b[:, :5])
    assert not torch.allclose(a[:, 5:], b[:, 5:])  # the later positions do change


def test_source_padding_does_not_change_outputs():
    torch.manual_seed(0)
    model = make_transformer(_tiny_config()).eval()
    src = torch.randint(3, 11, (1, 5))
    tgt = torch.randint(3, 13, (1, 6))
    padded = torch.cat([src, torch.zeros(1, 4, dtype=torch.long)], dim=1)  # (1, 9)
    torch.testing.assert_close(model(src, torch.tensor([5]), tgt), model(padded, torch.tensor([5]), tgt))


@pytest.mark.parametrize("norm_first", [False, True])
def test_kv_cache_equals_full_recomputation(norm_first):
    torch.manual_seed(1)
    model = make_transformer(_tiny_config(norm_first=norm_first)).eval()
    src = torch.randint(3, 11, (3, 6))
    lengths = torch.tensor([6, 2, 4])
    tokens = torch.randint(3, 13, (3, 8))
    full = model(src, lengths, tokens)  # (B, T, V)
    with torch.no_grad():
        cached, recomputed = model.start(src, lengths), model.start(src, lengths, cache=False)
        for t in range(tokens.shape[1]):
            lp_c, cached = model.step(tokens[:, t], cached)
            lp_r, recomputed = model.step_without_cache(tokens[:, t], recomputed)
            torch.testing.assert_close(lp_c, full[:, t], atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(lp_r, full[:, t], atol=1e-5, rtol=1e-5)
    assert cached["self_k"].shape == (3, 2, 2, 8, 8)  # (B, N, H, t, Dh)


def test_record_attention_collects_every_head():
    model = make_transformer(_tiny_config()).eval()
    with record_attention(model) as maps:
        model(torch.randint(3, 11, (2, 5)), torch.tensor([5, 3]), torch.randint(3, 13, (2, 4)))
    assert maps["decoder.layers.1.cross_attn"].shape == (2, 2, 4, 5)
    assert maps["encoder.layers.0.self_attn"].shape == (2, 2, 5, 5)
    assert (maps["encoder.layers.0.self_attn"][1, :, :, 3:] == 0).all()  # padding gets no weight
    assert len(maps) == 2 + 2 * 2
    assert not model.encoder.layers[0].self_attn._forward_hooks  # hooks removed


def test_model_overfits_a_batch_of_8():
    e2t.set_seed(0)
    model = make_transformer(_tiny_config(d_model=32, num_heads=4, d_ff=64))
    g = torch.Generator().manual_seed(0)
    src = torch.randint(3, 11, (8, 6), generator=g)
    lengths = torch.tensor([6, 6, 5, 5, 4, 4, 3, 3])
    tgt = torch.randint(3, 13, (8, 7), generator=g)
    tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(150):
        loss = F.cross_entropy(model(src, lengths, tgt_in).flatten(0, 1), tgt_out.flatten(), ignore_index=0)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    pred = model(src, lengths, tgt_in).argmax(-1)
    assert loss.item() < 0.05
    assert torch.equal(pred, tgt_out)


def test_warmup_decay_schedule():
    f = [recipe.warmup_decay(s, warmup=10, total=100) for s in range(100)]
    assert f[0] == pytest.approx(0.1) and f[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(f[10:], f[11:])) and f[-1] < 0.01


def test_checkpoint_job_quick_trains_evaluates_and_reloads(tmp_path):
    import json

    card = recipe.checkpoint_job(quick=True, directory=tmp_path)
    saved = json.loads((tmp_path / "transformer_numbers.json").read_text())
    assert saved["trained_steps"] == 5 and set(saved["metrics"]["exact_match_by_bucket"]) >= {"1-5", "6-10"}
    # the shipped step is the evaluation with the best validation exact match (ties: the later one)
    scores = [(e["valid_exact_match"], e["step"]) for e in saved["valid_curve"]]
    assert saved["steps"] == max(scores)[1] and "validation" in saved["selection_rule"]
    assert 0.0 <= card["metrics"]["beam4_exact_match_upto10"] <= 1.0
    model, loaded = checkpoints.load("transformer_numbers", make_transformer, directory=tmp_path)
    assert loaded["config"] == saved["config"] and not model.training
    with pytest.raises(ValueError, match="directory"):
        recipe.checkpoint_job(quick=True)


def test_translator_greedy_and_beam_agree_with_and_without_cache():
    task = number_task()
    torch.manual_seed(0)
    model = make_transformer(recipe.task_config(task, d_model=16, num_heads=2, num_encoder_layers=1,
                                                num_decoder_layers=1, d_ff=32)).eval()
    examples = list(task.test[:6])
    a = translator(model, task, max_len=12)(examples)
    c = translator(model, task, max_len=12, beam_size=1)(examples)
    # the same greedy decoding without the key/value cache
    b = collate(examples, task)
    with torch.no_grad():
        state, prev, out = model.start(b.src, b.src_lengths, cache=False), torch.full((6,), task.tgt_vocab.bos), []
        for _ in range(12):
            logits, state = model.step_without_cache(prev, state)
            prev = logits.argmax(-1)
            out.append(prev)
    uncached = [task.tgt_vocab.decode(row) for row in torch.stack(out, 1)]
    assert a == c == uncached and len(a) == 6
    assert all(len(x) <= 12 for x in translator(model, task, beam_size=3, max_len=12)(examples))
    assert all(len(x) <= 2 * b.src.shape[1] + 10 for x in recipe.task_translator(model, task)(examples))


def test_token_ids_out_of_range_get_a_clear_error():
    model = make_transformer(_tiny_config())
    with pytest.raises(ValueError, match="src holds ids in .* vocabulary has 11"):
        model(torch.tensor([[3, 11]]), torch.tensor([2]), torch.tensor([[1, 2]]))
    with pytest.raises(ValueError, match="tgt_in holds ids"):
        model(torch.tensor([[3, 4]]), torch.tensor([2]), torch.tensor([[1, 13]]))
    with pytest.raises(ValueError, match="tgt_in holds ids"):
        model(torch.tensor([[3, 4]]), torch.tensor([2]), torch.tensor([[-1, 2]]))


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_matches_torch(norm_first):
    """The three sub-layers (masked self-attention, encoder-decoder attention, feed-forward) against
    torch.nn.TransformerDecoderLayer with the same weights, causal and padding masks included."""
    torch.manual_seed(0)
    D, H, F_ = 16, 4, 32
    ours = DecoderLayer(d_model=D, num_heads=H, d_ff=F_, dropout=0.0, norm_first=norm_first).double().eval()
    theirs = torch.nn.TransformerDecoderLayer(D, H, F_, dropout=0.0, batch_first=True, norm_first=norm_first,
                                              dtype=torch.float64)
    with torch.no_grad():
        theirs.self_attn.load_state_dict(_copy_into_torch_mha(ours.self_attn).state_dict())
        theirs.multihead_attn.load_state_dict(_copy_into_torch_mha(ours.cross_attn).state_dict())
        theirs.linear1.load_state_dict(ours.feed_forward.W_1.state_dict())
        theirs.linear2.load_state_dict(ours.feed_forward.W_2.state_dict())
        for i in (1, 2, 3):
            getattr(theirs, f"norm{i}").load_state_dict(getattr(ours, f"norm{i}").state_dict())
    theirs.train()
    x = torch.randn(3, 5, D, dtype=torch.float64)
    memory = torch.randn(3, 7, D, dtype=torch.float64)
    lengths = torch.tensor([7, 4, 2])
    out = ours(x, memory, self_mask=causal_mask(5), memory_mask=padding_mask(lengths, 7))
    expected = theirs(x, memory, tgt_mask=~causal_mask(5),  # torch's bool masks: True = blocked
                      memory_key_padding_mask=~padding_mask(lengths, 7)[:, 0, 0])
    torch.testing.assert_close(out, expected)


def test_two_heads_by_hand():
    """A 2-head attention worked out with identity projections: each head looks at its own half of the width."""
    m = MultiHeadAttention(d_model=4, num_heads=2).double()
    with torch.no_grad():
        for lin in (m.W_q, m.W_k, m.W_v, m.W_o):
            lin.weight.copy_(torch.eye(4, dtype=torch.float64))
            lin.bias.zero_()
    q = torch.tensor([[[1.0, 0.0, 0.0, 2.0]]], dtype=torch.float64)  # (1, 1, 4)
    k = torch.tensor([[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 1.0]]], dtype=torch.float64)  # (1, 2, 4)
    v = torch.tensor([[[10.0, 20.0, 30.0, 40.0], [50.0, 60.0, 70.0, 80.0]]], dtype=torch.float64)
    out, w = m(q, k, v)
    # head 1 sees columns 0-1: scores (1, 0) / sqrt(2); head 2 sees columns 2-3: scores (0, 2) / sqrt(2)
    a1 = math.exp(1 / math.sqrt(2)) / (math.exp(1 / math.sqrt(2)) + 1)
    a2 = 1 / (1 + math.exp(2 / math.sqrt(2)))
    torch.testing.assert_close(w[0, :, 0], torch.tensor([[a1, 1 - a1], [a2, 1 - a2]], dtype=torch.float64))
    expected = [a1 * 10 + (1 - a1) * 50, a1 * 20 + (1 - a1) * 60, a2 * 30 + (1 - a2) * 70, a2 * 40 + (1 - a2) * 80]
    torch.testing.assert_close(out[0, 0], torch.tensor(expected, dtype=torch.float64))


def test_masking_widget_masks_and_weights():
    both = example_mask("both", 4, 6)
    assert torch.equal(both, causal_mask(6) & padding_mask(torch.tensor([4]), 6)[0, 0])
    assert example_mask("none", 2, 6).all() and not example_mask("padding", 2, 6)[:, 2:].any()
    with pytest.raises(ValueError, match="kind"):
        example_mask("future", 2, 6)
    with pytest.raises(ValueError, match="length"):
        example_mask("both", 7, 6)
    state = torch.get_rng_state()
    attn, x = masking_demo()
    assert torch.equal(torch.get_rng_state(), state) and x.shape == (1, 8, 16)
    _, w = attn(x[:, :6], x[:, :6], x[:, :6], both)
    assert torch.allclose(w.sum(-1), torch.ones(1, 2, 6)) and (w[..., ~both] == 0).all()
    ex = masking_explorer()
    assert [c.name for c in ex.controls] == ["kind", "length", "padded"]
    assert ex.render(kind="none") != ex.render(kind="causal") != ex.render(padded=8)
