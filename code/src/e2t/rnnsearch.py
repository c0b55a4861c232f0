"""RNNsearch (Bahdanau et al. 2015): a bidirectional encoder and a decoder that attends to all of its states.

    encoder:   h_i = [->h_i ; <-h_i]                                  (a bidirectional GRU, i = 1..S)
    start:     s_0 = tanh(W_s <-h_1)
    attention: e_{t,i} = score(s_{t-1}, h_i),  alpha_t = softmax(e_t),  c_t = sum_i alpha_{t,i} h_i
    decoder:   s_t = GRU([E y_{t-1}; c_t], s_{t-1})
    output:    p(y_t | y_<t, x) = softmax(W_o tanh(W_h [s_t; c_t; E y_{t-1}]))

The score is an argument: the paper's additive one by default (``e2t.scores.AdditiveScore``), or any other of
``e2t.scores`` (``RNNsearchConfig.score``, or a callable passed to ``make_rnnsearch``); chapter 4 trains the same
model with each. Compared with chapter 2's fixed-vector "RNNenc" (``e2t.seq2seq``), the decoder no longer has to
carry the whole source in one vector: it reads a fresh context ``c_t`` at every step.

The paper's output layer is a maxout layer fed with s_{t-1}; ours is a tanh layer fed with s_t (a common
simplification that changes nothing essential here).

Introduced in: chapter 3.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from e2t.attention import BahdanauAttention
from e2t.checks import check_tokens
from e2t.data.text import Example, NumberTask, collate
from e2t.masks import padding_mask
from e2t.scores import SCORE_NAMES, make_score
from e2t.train.decoding import greedy_decode

__all__ = ["RNNsearchConfig", "RNNsearch", "make_rnnsearch", "Alignment", "alignments", "decoding_step_macs"]


@dataclass(frozen=True)
class RNNsearchConfig:
    """Everything that defines an RNNsearch model.

    ``d_enc`` is the width of EACH direction of the encoder, so an annotation $h_i$ has ``2 * d_enc`` numbers.
    ``score`` names the alignment score (one of ``e2t.scores.SCORE_NAMES``); ``d_attn`` is the additive score's
    hidden width; ``max_src_len`` bounds the sources the location score can see.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    d_embed: int = 64
    d_enc: int = 128
    d_dec: int = 256
    d_attn: int = 128
    d_out: int = 256
    score: str = "additive"
    max_src_len: int = 64
    pad_id: int = 0

    def __post_init__(self):
        for name in ("src_vocab_size", "tgt_vocab_size", "d_embed", "d_enc", "d_dec", "d_attn", "d_out",
                     "max_src_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.score not in SCORE_NAMES:
            raise ValueError(f"score must be one of {SCORE_NAMES}, got {self.score!r}")

    @classmethod
    def for_task(cls, task: NumberTask, **kwargs) -> RNNsearchConfig:
        """A config sized for ``task``'s vocabularies."""
        return cls(src_vocab_size=len(task.src_vocab), tgt_vocab_size=len(task.tgt_vocab),
                   pad_id=task.src_vocab.pad, **kwargs)


class RNNsearch(nn.Module):
    """The encoder-decoder with attention of Bahdanau et al. (2015); see the module docstring for the equations.

    ``score`` overrides the config's score with any callable ``score(q (B, T, Dq), k (B, S, Dk)) -> (B, T, S)``.

    Shapes:
        start:  src (B, S) long, src_lengths (B,) -> state dict: keys h (B, S, 2*d_enc), s_0 (B, d_dec), mask (B, 1, S)
        step:   prev (B,) long, state dict -> logits (B, V), state dict (its "alpha" (B, S): the step's weights)
        forward: src (B, S), src_lengths (B,), tgt_in (B, T) -> logits (B, T, V) [and weights (B, T, S)]
    """

    def __init__(self, config: RNNsearchConfig, *, score: Callable | None = None):
        super().__init__()
        self.config = config
        c = config
        d_key = 2 * c.d_enc
        self.src_embed = nn.Embedding(c.src_vocab_size, c.d_embed, padding_idx=c.pad_id)
        self.encoder = nn.GRU(c.d_embed, c.d_enc, batch_first=True, bidirectional=True)
        self.W_s = nn.Linear(c.d_enc, c.d_dec)  # s_0 = tanh(W_s <-h_1)
        if score is None:
            score = make_score(c.score, d_query=c.d_dec, d_key=d_key, d_attn=c.d_attn, max_len=c.max_src_len)
        self.attention = BahdanauAttention(d_query=c.d_dec, d_key=d_key, score=score)
        self.tgt_embed = nn.Embedding(c.tgt_vocab_size, c.d_embed, padding_idx=c.pad_id)
        self.cell = nn.GRUCell(c.d_embed + d_key, c.d_dec)  # s_t = GRU([E y_{t-1}; c_t], s_{t-1})
        self.W_h = nn.Linear(c.d_dec + d_key + c.d_embed, c.d_out)
        self.W_o = nn.Linear(c.d_out, c.tgt_vocab_size)

    # -- encoder ---------------------------------------------------------------------------------------------
    def start(self, src: torch.Tensor, src_lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """Run the bidirectional encoder; return the decoder's starting state (a dict of batch-first tensors)."""
        check_tokens("src", src, self.config.src_vocab_size)
        B, S = src.shape
        if src_lengths.shape != (B,):
            raise ValueError(f"src_lengths must be (B,) = ({B},), got shape {tuple(src_lengths.shape)}")
        if int(src_lengths.min()) < 1 or int(src_lengths.max()) > S:
            raise ValueError(f"src_lengths must lie in 1..S={S}, got {src_lengths.tolist()}")
        if S > self.config.max_src_len and self.config.score == "location":
            raise ValueError(f"src has {S} positions but the location score was built for max_src_len="
                             f"{self.config.max_src_len}")
        x = self.src_embed(src)  # (B, S, E)
        packed = pack_padded_sequence(x, src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.encoder(packed)
        keys, _ = pad_packed_sequence(out, batch_first=True, total_length=S)  # (B, S, 2*d_enc), zeros at padding
        backward_first = keys[:, 0, self.config.d_enc:]  # (B, d_enc)  <-h_1, which has read the whole source
        s0 = torch.tanh(self.W_s(backward_first))  # (B, d_dec)
        mask = padding_mask(src_lengths.to(src.device), S)[:, 0]  # (B, 1, S) True = a real token
        alpha = torch.zeros(B, S, device=src.device)  # (B, S) no step taken yet
        prepared = self.attention.prepare(keys)  # (B, S, A) for the additive score, else None
        return {"s": s0, "keys": keys, "mask": mask, "alpha": alpha, "prepared": prepared}

    # -- decoder ---------------------------------------------------------------------------------------------
    def step(self, prev: torch.Tensor, state: dict[str, torch.Tensor]):
        """One decoder step with the signature of ``e2t.train.decoding``: attend with $s_{t-1}$, update, predict.

        Returns ``logits`` (B, V) and the new state; ``state["alpha"]`` (B, S) holds this step's attention
        weights $\\alpha_{t,\\cdot}$ (for alignment plots).
        """
        y = self.tgt_embed(prev)  # (B, E)
        context, state = self._recur(y, state)
        return self._output(state["s"], context, y), state  # (B, V)

    def _recur(self, y: torch.Tensor, state: dict[str, torch.Tensor]):
        r"""Attend with $s_{t-1}$, then $s_t = \mathrm{GRU}([E y_{t-1}; c_t], s_{t-1})$; y is $E y_{t-1}$ (B, E)."""
        s_prev = state["s"]
        context, alpha = self.attention(s_prev, state["keys"], state["mask"],
                                        prepared=state["prepared"])  # c_t (B, 2*d_enc), alpha_t (B, S)
        s = self.cell(torch.cat([y, context], dim=-1), s_prev)  # (B, d_dec)
        return context, {**state, "s": s, "alpha": alpha}

    def _output(self, s: torch.Tensor, context: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        r"""Logits of $p(y_t \mid y_{<t}, x) = \mathrm{softmax}(W_o \tanh(W_h [s_t; c_t; E y_{t-1}]))$."""
        hidden = torch.tanh(self.W_h(torch.cat([s, context, y], dim=-1)))  # (..., d_out)
        return self.W_o(hidden)  # (..., V)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, *,
                return_weights: bool = False):
        """Teacher forcing over a whole target prefix ``tgt_in`` (starting with ``bos``)."""
        check_tokens("tgt_in", tgt_in, self.config.tgt_vocab_size)
        if tgt_in.shape[0] != src.shape[0]:
            raise ValueError(f"tgt_in must be (B, T) with B = {src.shape[0]}, got shape {tuple(tgt_in.shape)}")
        state = self.start(src, src_lengths)
        y = self.tgt_embed(tgt_in)  # (B, T, E)
        states, contexts, weights = [], [], []
        for t in range(tgt_in.shape[1]):  # the recurrence is sequential; the output layer is not
            context, state = self._recur(y[:, t], state)
            states.append(state["s"])
            contexts.append(context)
            weights.append(state["alpha"])
        logits = self._output(torch.stack(states, dim=1), torch.stack(contexts, dim=1), y)  # (B, T, V)
        if return_weights:
            return logits, torch.stack(weights, dim=1)  # (B, T, V), (B, T, S)
        return logits


def make_rnnsearch(config: RNNsearchConfig | dict, *, score: Callable | None = None) -> RNNsearch:
    """Build an ``RNNsearch`` from its config or the config's dict, as a card stores it (``score`` overrides
    ``config.score`` with any score callable).
    """
    return RNNsearch(RNNsearchConfig(**config) if isinstance(config, dict) else config, score=score)


@dataclass(frozen=True)
class Alignment:
    """One translated example and its alignment matrix: row t = output token t, column i = source word i.

    ``weights`` (T+1, S) includes the row of the final ``<eos>``; ``correct`` says whether the output equals the
    reference.
    """

    example: Example
    output: tuple[str, ...]
    weights: torch.Tensor

    @property
    def correct(self) -> bool:
        return self.output == tuple(self.example.tgt)

    @property
    def rows(self) -> list[str]:
        return [*self.output, "<eos>"]


@torch.no_grad()
def alignments(model: RNNsearch, task: NumberTask, examples: Sequence[Example], *, max_len: int = 40
               ) -> list[Alignment]:
    """Translate ``examples`` greedily and return each output with its attention weights.

    The weights come from re-running the decoder with teacher forcing on its own output, which gives exactly the
    weights of the greedy decoding (the decoder is deterministic given its inputs).
    """
    model.eval()
    examples = list(examples)
    if not examples:
        raise ValueError("examples is empty")
    b = collate(examples, task)
    V = task.tgt_vocab
    with torch.no_grad():
        ids = greedy_decode(model.step, model.start(b.src, b.src_lengths), batch_size=len(b), bos=V.bos, eos=V.eos,
                            max_len=max_len)
    out = []
    for i, (e, seq) in enumerate(zip(examples, ids)):
        tgt_in = torch.tensor([[V.bos, *seq]])  # (1, T+1)
        S = int(b.src_lengths[i])
        with torch.no_grad():
            _, w = model(b.src[i:i + 1, :S], b.src_lengths[i:i + 1], tgt_in, return_weights=True)  # (1, T+1, S)
        out.append(Alignment(example=e, output=tuple(V.decode(seq)), weights=w[0]))
    return out


# ---------------------------------------------------------------------------------------------- cost

def decoding_step_macs(model: nn.Module, S: int) -> dict[str, int]:
    r"""Multiply-adds of ONE greedy decoding step for one sentence with ``S`` source words, counted from the
    layer sizes: ``{"fixed": ..., "per_source_word": ..., "per_step": ..., "once_per_sentence": ...}``.

    RNNenc (``e2t.seq2seq``, one layer): a GRU step $3H(E + H)$ and the output layer $HV$, whatever ``S`` is.
    RNNsearch (additive score): the same kind of fixed work, plus for every source word $A$ for
    $v_a^\top \tanh(\cdot)$ and $D_k$ for its share of $c_t = \sum_i \alpha_{t,i} h_i$; the keys' half of the
    score, $W_a^{(h)} h_i$, costs $S D_k A$ once per sentence. So a sentence of ``T`` output words costs
    $O(T \cdot S)$ with attention and $O(T)$ without (after the encoder's $O(S)$).
    """
    if not isinstance(S, int) or S < 1:
        raise ValueError(f"S must be a positive int, got {S!r}")
    c = model.config
    if isinstance(model, RNNsearch):
        if c.score != "additive":
            raise ValueError(f"decoding_step_macs counts the additive score only, got score={c.score!r}")
        d_key = 2 * c.d_enc
        fixed = (c.d_attn * c.d_dec + 3 * c.d_dec * (c.d_embed + d_key + c.d_dec)
                 + c.d_out * (c.d_dec + d_key + c.d_embed) + c.d_out * c.tgt_vocab_size)
        per_word = c.d_attn + d_key
        once = S * d_key * c.d_attn
    else:
        if getattr(c, "num_layers", 1) != 1 or getattr(c, "cell", "gru") != "gru":
            raise ValueError("decoding_step_macs counts a one-layer GRU seq2seq only")
        fixed = 3 * c.d_hidden * (c.d_embed + c.d_hidden) + c.d_hidden * c.tgt_vocab_size
        per_word, once = 0, 0
    return {"fixed": fixed, "per_source_word": per_word, "per_step": fixed + per_word * S, "once_per_sentence": once}


