"""Tests of the GRU encoder and decoder (e2t.rnn) and the e-mail reply model (e2t.reply)."""

import pytest
import torch

import e2t
from e2t import reply, rnn, train
from e2t.train.decoding import greedy_decode
from e2t.train.losses import teacher_forced_loss
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
    torch.testing.assert_close(alone.hidden[0], out.hidden[0])  # hidden is batch first: (B, L, D)


def test_bidirectional_encoder_concatenates_directions():
    enc = rnn.GRUEncoder(vocab_size=10, d_embed=4, d_hidden=3, bidirectional=True).eval()
    out = enc(torch.tensor([[4, 5, 6]]))
    assert enc.d_out == 6 and out.states.shape == (1, 3, 6) and out.hidden.shape == (1, 1, 6)
    torch.testing.assert_close(out.final[0, :3], out.states[0, -1, :3])  # forward direction ends at the end
    torch.testing.assert_close(out.final[0, 3:], out.states[0, 0, 3:])  # backward direction ends at the start


def test_decoder_shapes_context_and_stepwise_equals_teacher_forced():
    e2t.set_seed(0)
    dec = rnn.GRUDecoder(vocab_size=9, d_embed=4, d_hidden=5, d_context=3).eval()
    h0, ctx = torch.randn(2, 1, 5), torch.randn(2, 3)  # hidden batch first: (B, L, H)
    tokens = torch.tensor([[1, 4, 5], [1, 6, 7]])
    logits, h = dec(tokens, h0, ctx)
    assert logits.shape == (2, 3, 9) and h.shape == (2, 1, 5)
    state, steps = {"hidden": h0, "context": ctx}, []
    for t in range(3):
        lt, state = dec.step(tokens[:, t], state)
        steps.append(lt)
    torch.testing.assert_close(torch.stack(steps, 1), logits)
    torch.testing.assert_close(state["hidden"], h)
    with pytest.raises(ValueError, match="pass context"):
        dec(tokens, h0)
    with pytest.raises(ValueError, match=r"hidden must have shape \(B, L, H\)"):
        dec(tokens, torch.randn(3, 1, 5), ctx)
    with pytest.raises(ValueError, match="vocabulary has 9 entries"):
        dec(torch.tensor([[12]]), h0[:1], ctx[:1])


def test_greedy_decoding_of_a_decoder_stops_at_eos():
    dec = rnn.GRUDecoder(vocab_size=5, d_embed=2, d_hidden=3)
    with torch.no_grad():  # a decoder that always writes token 4, whatever its input
        for p in dec.parameters():
            p.zero_()
        dec.out.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.0, 1.0]))
    state = {"hidden": torch.zeros(2, 1, 3)}
    assert greedy_decode(dec.step, state, batch_size=2, bos=1, eos=4, max_len=6) == [[], []]  # eos at once
    out = greedy_decode(dec.step, state, batch_size=2, bos=1, eos=2, max_len=6)
    assert out == [[4] * 6, [4] * 6]  # eos never written: stops at max_len


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
    assert batch.tgt_in[:, 0].eq(vocab.bos).all() and batch.tgt_out.eq(vocab.eos).any(1).all()
    h = train.fit(model, teacher_forced_loss, [batch], steps=40, lr=1e-2, progress=False)
    assert sum(h.losses[-5:]) < 0.6 * sum(h.losses[:5])
    out = reply.predict_replies(model, pairs[:4], vocab)
    assert len(out) == 4 and all(len(r) <= model.config.max_reply_len for r in out)
    assert model.encode(batch.src, batch.src_lengths).shape == (64, 32)
    with torch.no_grad():  # start + step give the teacher-forced logits
        full, state = model(batch.src, batch.src_lengths, batch.tgt_in), model.start(batch.src, batch.src_lengths)
        for t in range(batch.tgt_in.shape[1]):
            logits, state = model.step(batch.tgt_in[:, t], state)
            torch.testing.assert_close(logits, full[:, t])
