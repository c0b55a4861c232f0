"""Tests of e2t.decoding: greedy decoding, batched beam search and the state helpers."""

import math

import pytest
import torch

from e2t.train.decoding import beam_search, expand_state, greedy_decode, map_state, reorder_state

PAD, BOS, EOS, A, B = 0, 1, 2, 3, 4


def _table_step(table):
    """A hand-built decoder: the next-token distribution depends on the previous token only."""
    logp = torch.log(torch.tensor(table, dtype=torch.float64).clamp(min=1e-12))

    def step(prev, state):
        return logp[prev], state
    return step, logp


def _seq_logprob(logp, seq, *, eos=True):
    prev, total = BOS, 0.0
    for t in list(seq) + ([EOS] if eos else []):
        total += float(logp[prev, t])
        prev = t
    return total


# After bos: A (0.5) beats B (0.4), but after A everything is uncertain, while B -> eos is almost sure.
TRAP = [
    [0.0, 0.0, 0.0, 0.5, 0.5],      # pad (unused)
    [0.0, 0.0, 0.1, 0.5, 0.4],      # bos
    [0.0, 0.0, 1.0, 0.0, 0.0],      # eos
    [0.0, 0.0, 0.32, 0.36, 0.32],   # A
    [0.0, 0.0, 0.9, 0.05, 0.05],    # B
]


def test_beam_search_finds_a_more_probable_sequence_than_greedy():
    step, logp = _table_step(TRAP)
    greedy, g_score = greedy_decode(step, None, batch_size=1, bos=BOS, eos=EOS, max_len=6, return_scores=True)
    beam, b_score = beam_search(step, None, batch_size=1, bos=BOS, eos=EOS, max_len=6, beam_size=3,
                                length_penalty=0.0, return_scores=True)
    assert greedy[0][:2] == [A, A]
    assert beam == [[B]]
    # the returned scores are the true log-probabilities of the returned sequences
    assert b_score[0] == pytest.approx(_seq_logprob(logp, beam[0]))
    assert g_score[0] == pytest.approx(_seq_logprob(logp, greedy[0], eos=len(greedy[0]) < 6))
    assert b_score[0] > g_score[0] + 0.5


def _rnn_step(seed=0, V=7, D=5):
    g = torch.Generator().manual_seed(seed)
    E = torch.randn(V, D, generator=g)
    U = torch.randn(D, D, generator=g)
    W = torch.randn(D, V, generator=g) * 2

    def step(prev, state):
        h = torch.tanh(state["h"] @ U + E[prev])  # (B, D)
        return torch.log_softmax(h @ W, dim=-1), {"h": h, "n": state["n"]}
    return step, g


def test_beam_width_one_equals_greedy():
    step, g = _rnn_step()
    h0 = torch.randn(12, 5, generator=g)
    state = {"h": h0, "n": 3}
    greedy, gs = greedy_decode(step, state, batch_size=12, bos=BOS, eos=EOS, max_len=15, return_scores=True)
    beam, bs = beam_search(step, state, batch_size=12, bos=BOS, eos=EOS, max_len=15, beam_size=1,
                           return_scores=True)
    assert beam == greedy
    assert bs == pytest.approx(gs)
    assert any(len(s) < 15 for s in greedy) and all(EOS not in s for s in greedy)


def test_beam_search_is_batched_row_by_row():
    step, g = _rnn_step(seed=1)
    h0 = torch.randn(6, 5, generator=g)
    together, s_all = beam_search(step, {"h": h0, "n": 0}, batch_size=6, bos=BOS, eos=EOS, max_len=12,
                                  beam_size=4, return_scores=True)
    for i in range(6):
        alone, s = beam_search(step, {"h": h0[i:i + 1], "n": 0}, batch_size=1, bos=BOS, eos=EOS, max_len=12,
                               beam_size=4, return_scores=True)
        assert alone[0] == together[i]
        assert s[0] == pytest.approx(s_all[i])
    # a wider beam never returns a less probable sequence (ranked by probability alone)
    _, narrow = beam_search(step, {"h": h0, "n": 0}, batch_size=6, bos=BOS, eos=EOS, max_len=12, beam_size=1,
                            length_penalty=0.0, return_scores=True)
    _, wide = beam_search(step, {"h": h0, "n": 0}, batch_size=6, bos=BOS, eos=EOS, max_len=12, beam_size=6,
                          length_penalty=0.0, return_scores=True)
    assert all(w >= n - 1e-9 for w, n in zip(wide, narrow))


def _scripted_step():
    """State (t, stop): row b emits A until step stop[b], then eos (stop < 0 = never). The state is expanded
    and reordered by beam search like any other."""
    def step(prev, state):
        t, stop = state
        out = torch.full((prev.shape[0], 5), -5.0)  # (B, V)
        ends = (stop >= 0) & (t >= stop)  # (B,)
        out[ends, EOS] = 0.0
        out[~ends, A] = 0.0
        return torch.log_softmax(out, dim=-1), (t + 1, stop)
    return step


@pytest.mark.parametrize("decode", ["greedy", "beam"])
def test_decoding_stops_at_eos_and_at_max_len(decode):
    step = _scripted_step()
    state = (torch.zeros(3, dtype=torch.long), torch.tensor([2, 4, -1]))
    if decode == "greedy":
        out = greedy_decode(step, state, batch_size=3, bos=BOS, eos=EOS, max_len=7)
    else:
        out = beam_search(step, state, batch_size=3, bos=BOS, eos=EOS, max_len=7, beam_size=3)
    assert out == [[A, A], [A, A, A, A], [A] * 7]


def test_greedy_stops_calling_step_when_all_rows_ended():
    calls = []
    inner = _scripted_step()

    def step(prev, t):
        calls.append(1)
        return inner(prev, t)
    greedy_decode(step, (torch.zeros(2, dtype=torch.long), torch.tensor([1, 2])), batch_size=2, bos=BOS, eos=EOS, max_len=50)
    assert len(calls) == 3


def test_state_helpers_on_nested_states():
    state = {"h": torch.arange(3.0).view(3, 1), "pair": (torch.arange(6).view(3, 2), [torch.zeros(3, 2, 2)]),
             "step": 4, "none": None}
    big = expand_state(state, 2)
    assert big["h"].flatten().tolist() == [0, 0, 1, 1, 2, 2]
    assert big["pair"][0].shape == (6, 2) and big["pair"][1][0].shape == (6, 2, 2)
    assert big["step"] == 4 and big["none"] is None
    picked = reorder_state(big, torch.tensor([5, 0]))
    assert picked["h"].flatten().tolist() == [2, 0]
    assert isinstance(picked["pair"], tuple) and isinstance(picked["pair"][1], list)
    assert map_state(None, lambda t: t) is None


def test_bad_arguments_raise_clear_errors():
    step, _ = _table_step(TRAP)
    with pytest.raises(ValueError, match="max_len"):
        greedy_decode(step, None, batch_size=1, bos=BOS, eos=EOS, max_len=0)
    with pytest.raises(ValueError, match="beam_size"):
        beam_search(step, None, batch_size=1, bos=BOS, eos=EOS, max_len=3, beam_size=0)
    with pytest.raises(ValueError, match=r"dim 0 = the batch \(4 rows"):
        greedy_decode(step, torch.zeros(3, 2), batch_size=4, bos=BOS, eos=EOS, max_len=3)

    def bad(prev, state):
        return torch.zeros(5), state
    with pytest.raises(ValueError, match="logits of shape"):
        beam_search(bad, None, batch_size=1, bos=BOS, eos=EOS, max_len=3)


def test_length_penalty_prefers_longer_complete_outputs():
    # The empty output (bos -> eos) is the single most probable sequence, but "A B" is better per token:
    # ranking by probability (alpha = 0) and by length-normalised probability (alpha = 1) disagree.
    table = [
        [0.2, 0.2, 0.2, 0.2, 0.2],
        [0.0, 0.0, 0.45, 0.55, 0.0],    # bos: eos 0.45 or A 0.55
        [0.0, 0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 0.2, 0.0, 0.8],      # A: -> B (0.8)
        [0.0, 0.0, 0.85, 0.0, 0.15],    # B: -> eos (0.85)
    ]
    step, logp = _table_step(table)
    short = beam_search(step, None, batch_size=1, bos=BOS, eos=EOS, max_len=5, beam_size=3, length_penalty=0.0)
    normed = beam_search(step, None, batch_size=1, bos=BOS, eos=EOS, max_len=5, beam_size=3, length_penalty=1.0)
    assert short == [[]]                      # log 0.45 = -0.80 beats log(.55*.8*.85) = -0.98
    assert normed == [[A, B]]                 # per token: -0.80 / 1 < -0.98 / 3
    assert math.isfinite(_seq_logprob(logp, [A, B]))
