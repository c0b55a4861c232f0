"""Tests of the GRU encoder and decoder (e2t.rnn) and the e-mail reply model (e2t.reply)."""

import pytest
import torch

import e2t
from e2t import reply, rnn, train
from e2t.data import replies


def test_encoder_shapes_final_state_and_padding():
    e2t.set_seed(0)
    enc = rnn.GRUEncoder(vocab_size=10, d_embed=4, d_hidden=6, num_layers=2).eval()
    src = torch.tensor([[4, 5, 6, 0, 0], [7, 8, 9, 4, 5]])
    out = enc(src, torch.tensor([3, 5]))
    assert out.states.shape == (2, 5, 6) and out.final.shape == (2, 6) and out.hidden.shape == (2, 2, 6)
    assert bool((out.states[0, 3:] == 0).all())  # padding positions are zero
    torch.testing.assert_close(out.final[0], out.states[0, 2])  # the state after the last real token
    torch.testing.assert_close(out.final[1], out.states[1, 4])
    # Padding does not change the result: the short sequence alone gives the same final state.
    alone = enc(src[:1, :3])
    torch.testing.assert_close(alone.final[0], out.final[0])
    torch.testing.assert_close(alone.hidden[:, 0], out.hidden[:, 0])


def test_bidirectional_encoder_concatenates_directions():
    enc = rnn.GRUEncoder(vocab_size=10, d_embed=4, d_hidden=3, bidirectional=True).eval()
    out = enc(torch.tensor([[4, 5, 6]]))
    assert enc.d_out == 6 and out.states.shape == (1, 3, 6) and out.hidden.shape == (1, 1, 6)
    torch.testing.assert_close(out.final[0, :3], out.states[0, -1, :3])  # forward direction ends at the end
    torch.testing.assert_close(out.final[0, 3:], out.states[0, 0, 3:])  # backward direction ends at the start


def test_decoder_shapes_context_and_stepwise_equals_teacher_forced():
    e2t.set_seed(0)
    dec = rnn.GRUDecoder(vocab_size=9, d_embed=4, d_hidden=5, d_context=3).eval()
    h0, ctx = torch.randn(1, 2, 5), torch.randn(2, 3)
    tokens = torch.tensor([[1, 4, 5], [1, 6, 7]])
    logits, h = dec(tokens, h0, ctx)
    assert logits.shape == (2, 3, 9) and h.shape == (1, 2, 5)
    hs, steps = h0, []
    for t in range(3):
        lt, hs = dec(tokens[:, t:t + 1], hs, ctx)
        steps.append(lt)
    torch.testing.assert_close(torch.cat(steps, 1), logits)
    with pytest.raises(ValueError, match="pass context"):
        dec(tokens, h0)
    with pytest.raises(ValueError, match=r"hidden must have shape \(L, B, H\)"):
        dec(tokens, torch.randn(1, 3, 5), ctx)
    with pytest.raises(ValueError, match="vocabulary has 9 entries"):
        dec(torch.tensor([[12]]), h0[:, :1], ctx[:1])


def test_greedy_decode_stops_at_eos_and_pads_after_it():
    dec = rnn.GRUDecoder(vocab_size=5, d_embed=2, d_hidden=3)
    with torch.no_grad():  # a decoder that always writes token 4, whatever its input
        for p in dec.parameters():
            p.zero_()
        dec.out.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0]))
    ids = rnn.greedy_decode(dec, torch.zeros(1, 2, 3), bos_id=1, eos_id=4, max_len=6)
    assert ids.tolist() == [[4], [4]]  # both end at once
    ids = rnn.greedy_decode(dec, torch.zeros(1, 2, 3), bos_id=1, eos_id=2, max_len=6)
    assert ids.shape == (2, 6)  # eos never written: stops at max_len
    with pytest.raises(ValueError, match="max_len"):
        rnn.greedy_decode(dec, torch.zeros(1, 1, 3), bos_id=1, eos_id=2, max_len=0)


def test_encoder_rejects_bad_tokens_and_lengths():
    enc = rnn.GRUEncoder(vocab_size=10, d_embed=4, d_hidden=6)
    with pytest.raises(TypeError, match="torch.long"):
        enc(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="lengths must lie"):
        enc(torch.ones(2, 3, dtype=torch.long), torch.tensor([3, 4]))
    with pytest.raises(ValueError, match="lengths has 1 entries"):
        enc(torch.ones(2, 3, dtype=torch.long), torch.tensor([3]))


def test_reply_model_a_few_steps_lower_the_loss_and_predicts_words():
    e2t.set_seed(0)
    vocab = replies.reply_vocab()
    pairs = replies.reply_pairs(64, seed=0)
    model = reply.make_reply_model(reply.ReplyConfig(vocab_size=len(vocab), d_hidden=32))
    batch = reply.reply_batch(pairs, vocab)
    assert batch[2][:, 0].eq(vocab.BOS).all() and batch[3].eq(vocab.EOS).any(1).all()
    h = train.fit(model, reply.reply_loss, [batch], steps=40, lr=1e-2, progress=False)
    assert sum(h.losses[-5:]) < 0.6 * sum(h.losses[:5])
    out = reply.predict_replies(model, pairs[:4], vocab)
    assert len(out) == 4 and all(len(r) <= model.config.max_reply_len for r in out)
    assert model.encode(batch[0], batch[1]).shape == (64, 32)
