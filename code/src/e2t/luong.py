r"""Global and local attention (Luong et al. 2015), and the small translator chapter 4 trains them in.

*Global* attention weighs every source position: $a_t(s) = \mathrm{softmax}_s(\mathrm{score}(h_t, \bar h_s))$.
*Local* attention first picks an aligned position $p_t$ and looks only at the window $[p_t - D, p_t + D]$:

- **local-m** (monotonic): $p_t = t$, weights $a_t(s) = \mathrm{softmax}_{s \in \text{window}}(\mathrm{score})$;
- **local-p** (predictive): $p_t = S \cdot \mathrm{sigmoid}(v_p^\top \tanh(W_p h_t))$, and the window's weights are
  multiplied by a Gaussian centred at $p_t$,
  $a_t(s) = \mathrm{align}(h_t, \bar h_s) \exp\!\big(-\frac{(s - p_t)^2}{2\sigma^2}\big)$ with $\sigma = D/2$
  (Luong's eq. 10; as in the paper the product is not renormalised, so the weights may sum to less than 1).

$S$ is each sentence's own source length; positions are counted from 0, so $p_t \in [0, S]$. Masks are
``True`` = may attend and are applied in one place, ``e2t.attention.masked_softmax``.

``LuongTranslator`` is Luong's decoder without input feeding: $h_t = \mathrm{GRU}(y_{t-1}, h_{t-1})$,
$c_t = \sum_s a_t(s) \bar h_s$, $\tilde h_t = \tanh(W_c [c_t; h_t])$, $p(y_t) = \mathrm{softmax}(W_s \tilde h_t)$.
Because the attention reads $h_t$ (not $s_{t-1}$ as Bahdanau's does) and nothing is fed back, all target steps
are computed at once under teacher forcing, which makes it quick to train. Any score of ``e2t.scores`` can be
passed in (default: Luong's "general").

Introduced in: chapter 4.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .attention import masked_softmax
from .checks import check_tensor, check_tokens
from .masks import padding_mask
from .scores import SCORE_NAMES, make_score

__all__ = ["MODES", "window_mask", "gaussian_window", "local_weights", "PredictivePosition", "LuongAttention",
           "LuongConfig", "LuongTranslator", "make_luong"]

#: The three attentions of Luong et al. 2015.
MODES = ("global", "local-m", "local-p")


def _check_p(p: torch.Tensor) -> None:
    check_tensor("p", p, ndim=2, dtype_kind="float")


def window_mask(p: torch.Tensor, *, S: int, D: int) -> torch.Tensor:
    r"""The window $[p_t - D, p_t + D]$ as a mask: ``mask[b, t, s] = |s - p[b, t]| <= D``.

    Shapes: p (B, T) float positions -> (B, T, S) bool (True = may attend).
    """
    _check_p(p)
    if not isinstance(D, int) or D < 0:
        raise ValueError(f"D must be an int >= 0, got {D!r}")
    s = torch.arange(S, device=p.device, dtype=p.dtype)  # (S,)
    return (s.view(1, 1, S) - p.unsqueeze(-1)).abs() <= D + 1e-6  # (B, T, S)


def gaussian_window(p: torch.Tensor, *, S: int, D: int) -> torch.Tensor:
    r"""$\exp(-(s - p_t)^2 / (2\sigma^2))$ with $\sigma = D/2$ (Luong et al. 2015, eq. 10).

    ``D = 0`` gives a Kronecker delta at $s = p_t$ (1 where they coincide, else 0), never NaN.

    Shapes: p (B, T) -> (B, T, S).
    """
    _check_p(p)
    if not isinstance(D, int) or D < 0:
        raise ValueError(f"D must be an int >= 0, got {D!r}")
    s = torch.arange(S, device=p.device, dtype=p.dtype)  # (S,)
    diff = s.view(1, 1, S) - p.unsqueeze(-1)  # (B, T, S)
    if D == 0:
        return (diff.abs() < 1e-6).to(p.dtype)
    sigma = D / 2
    return torch.exp(-diff ** 2 / (2 * sigma ** 2))  # (B, T, S)


def local_weights(scores: torch.Tensor, p: torch.Tensor, *, D: int, mask: torch.Tensor | None = None,
                  gaussian: bool = True) -> torch.Tensor:
    r"""Local attention weights: softmax of ``scores`` over the window $[p_t - D, p_t + D]$ (and ``mask``), times
    the Gaussian of ``gaussian_window`` when ``gaussian`` (local-p); without it, local-m.

    A query whose window holds no allowed position gets all-zero weights.

    Shapes: scores (B, T, S), p (B, T), mask bool broadcastable to (B, T, S) -> (B, T, S).
    """
    check_tensor("scores", scores, ndim=3, dtype_kind="float")
    _check_p(p)
    B, T, S = scores.shape
    if p.shape != (B, T):
        raise ValueError(f"p must have shape (B, T) = {(B, T)} to match scores {tuple(scores.shape)}, "
                         f"got {tuple(p.shape)}")
    allowed = window_mask(p, S=S, D=D)  # (B, T, S)
    if mask is not None:
        allowed = allowed & mask
    weights = masked_softmax(scores, allowed)  # (B, T, S)
    if gaussian:
        weights = weights * gaussian_window(p, S=S, D=D)  # (B, T, S)
    return weights


class PredictivePosition(nn.Module):
    r"""Luong's predicted position $p_t = S \cdot \mathrm{sigmoid}(v_p^\top \tanh(W_p h_t))$.

    ``S`` is each sentence's source length (``lengths``), so $p_t \in [0, S_b]$.

    Shapes: h (B, T, Dq), lengths (B,) -> p (B, T).
    """

    def __init__(self, *, d_query: int, d_hidden: int):
        super().__init__()
        self.W_p = nn.Linear(d_query, d_hidden, bias=False)
        self.v_p = nn.Linear(d_hidden, 1, bias=False)

    def forward(self, h: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        check_tensor("h", h, ndim=3, dtype_kind="float")
        if lengths.shape != (h.shape[0],):
            raise ValueError(f"lengths must have shape (B,) = ({h.shape[0]},), got {tuple(lengths.shape)}")
        gate = torch.sigmoid(self.v_p(torch.tanh(self.W_p(h)))).squeeze(-1)  # (B, T)
        return lengths.to(h.dtype).unsqueeze(1) * gate  # (B, T)


class LuongAttention(nn.Module):
    r"""Global, local-m or local-p attention with any score of ``e2t.scores`` (default: general, $h_t^\top W_a \bar h_s$).

    ``forward(query, keys, lengths, positions=None)`` returns ``(context, weights, p)``; ``positions`` are the
    target steps $t$ of the queries (default ``0..T-1``), used by local-m; ``p`` is ``None`` for global.

    Shapes: query (B, T, Dq), keys (B, S, Dk), lengths (B,), positions (T,) -> context (B, T, Dk),
    weights (B, T, S), p (B, T).
    """

    def __init__(self, *, d_query: int, d_key: int, mode: str = "global", D: int = 2, score=None,
                 d_position: int = 64):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        if not isinstance(D, int) or D < 0:
            raise ValueError(f"D must be an int >= 0, got {D!r}")
        self.mode, self.D = mode, D
        self.score = score if score is not None else make_score("general", d_query=d_query, d_key=d_key)
        self.position = PredictivePosition(d_query=d_query, d_hidden=d_position) if mode == "local-p" else None

    def forward(self, query: torch.Tensor, keys: torch.Tensor, lengths: torch.Tensor,
                positions: torch.Tensor | None = None):
        check_tensor("query", query, ndim=3, dtype_kind="float")
        check_tensor("keys", keys, ndim=3, dtype_kind="float")
        B, T, _ = query.shape
        S = keys.shape[1]
        if keys.shape[0] != B or lengths.shape != (B,):
            raise ValueError(f"query {tuple(query.shape)}, keys {tuple(keys.shape)} and lengths "
                             f"{tuple(lengths.shape)} must share the batch size")
        pad = padding_mask(lengths, S)[:, 0]  # (B, 1, S) True = a real token
        scores = self.score(query, keys)  # (B, T, S)
        p = None
        if self.mode == "global":
            weights = masked_softmax(scores, pad)  # (B, T, S)
        elif self.mode == "local-m":
            if positions is None:
                positions = torch.arange(T, device=query.device)
            p = positions.to(query.dtype).view(1, T).expand(B, T)  # (B, T)
            weights = local_weights(scores, p, D=self.D, mask=pad, gaussian=False)  # (B, T, S)
        else:
            p = self.position(query, lengths)  # (B, T)
            weights = local_weights(scores, p, D=self.D, mask=pad, gaussian=True)  # (B, T, S)
        return weights @ keys, weights, p  # (B, T, Dk), (B, T, S), (B, T)


# ---------------------------------------------------------------------------------------------- the translator

@dataclass(frozen=True)
class LuongConfig:
    """A bidirectional-GRU encoder and a GRU decoder with Luong attention.

    ``score`` names one of ``e2t.scores.SCORE_NAMES`` (the query is the decoder state, width ``d_hidden``; the keys
    are the encoder states, width ``d_hidden`` = 2 x ``d_hidden // 2``).
    """

    src_vocab_size: int
    tgt_vocab_size: int
    mode: str = "global"
    score: str = "general"
    D: int = 2
    d_embed: int = 64
    d_hidden: int = 128
    max_src_len: int = 32
    pad_id: int = 0


class LuongTranslator(nn.Module):
    """Luong et al.'s attentional encoder-decoder (without input feeding). Build it with ``make_luong``.

    The interface of every sequence model of the book: ``start(src, src_lengths)``, ``step(prev_tokens, state) ->
    (logits, state)``, ``forward(src, src_lengths, tgt_in) -> logits`` (and the weights (B, T, S) with
    ``return_weights=True``).
    """

    def __init__(self, config: LuongConfig):
        super().__init__()
        if config.d_hidden % 2:
            raise ValueError(f"d_hidden must be even (two GRU directions), got {config.d_hidden}")
        if config.score not in SCORE_NAMES:
            raise ValueError(f"score must be one of {SCORE_NAMES}, got {config.score!r}")
        self.config = config
        H = config.d_hidden
        self.src_embed = nn.Embedding(config.src_vocab_size, config.d_embed, padding_idx=config.pad_id)
        self.encoder = nn.GRU(config.d_embed, H // 2, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(H, H)
        self.tgt_embed = nn.Embedding(config.tgt_vocab_size, config.d_embed, padding_idx=config.pad_id)
        self.decoder = nn.GRU(config.d_embed, H, batch_first=True)
        score = make_score(config.score, d_query=H, d_key=H, d_attn=H, max_len=config.max_src_len)
        self.attention = LuongAttention(d_query=H, d_key=H, mode=config.mode, D=config.D, score=score)
        self.W_c = nn.Linear(2 * H, H, bias=False)
        self.W_s = nn.Linear(H, config.tgt_vocab_size)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor):
        """Encoder states $\\bar h_s = [\\overrightarrow{h}_s; \\overleftarrow{h}_s]$ (B, S, H) and the decoder's
        first state (B, H)."""
        check_tokens("src", src, self.config.src_vocab_size)
        if src_lengths.shape != (src.shape[0],) or int(src_lengths.min()) < 1 or int(src_lengths.max()) > src.shape[1]:
            raise ValueError(f"src_lengths must be (B,) = ({src.shape[0]},) with values in 1..S={src.shape[1]}, "
                             f"got {src_lengths.tolist()}")
        B, S = src.shape
        packed = pack_padded_sequence(self.src_embed(src), src_lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, last = self.encoder(packed)
        keys, _ = pad_packed_sequence(out, batch_first=True, total_length=S)  # (B, S, H)
        h0 = torch.tanh(self.bridge(torch.cat([last[0], last[1]], dim=-1)))  # (B, H)
        return keys, h0

    def read(self, h: torch.Tensor, keys: torch.Tensor, src_lengths: torch.Tensor, positions=None):
        r"""$\tilde h_t = \tanh(W_c [c_t; h_t])$ and logits $W_s \tilde h_t$ for decoder states ``h`` (B, T, H)."""
        context, weights, p = self.attention(h, keys, src_lengths, positions)  # (B, T, H), (B, T, S), (B, T)
        h_tilde = torch.tanh(self.W_c(torch.cat([context, h], dim=-1)))  # (B, T, H)
        return self.W_s(h_tilde), weights, p  # (B, T, V)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor, *,
                return_weights: bool = False):
        check_tokens("tgt_in", tgt_in, self.config.tgt_vocab_size)
        keys, h0 = self.encode(src, src_lengths)
        h, _ = self.decoder(self.tgt_embed(tgt_in), h0.unsqueeze(0))  # (B, T, H)
        logits, weights, _ = self.read(h, keys, src_lengths)  # (B, T, V), (B, T, S)
        return (logits, weights) if return_weights else logits

    def start(self, src: torch.Tensor, src_lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """The decoding state: hidden (B, H), keys (B, S, H), lengths (B,), step t (B,)."""
        keys, h0 = self.encode(src, src_lengths)
        return {"hidden": h0, "keys": keys, "lengths": src_lengths,
                "t": torch.zeros(src.shape[0], dtype=torch.long, device=src.device)}

    def step(self, prev: torch.Tensor, state: dict[str, torch.Tensor]):
        """One decoder step for ``e2t.train.decoding``: (prev (B,), state) -> (logits (B, V), state)."""
        h, _ = self.decoder(self.tgt_embed(prev).unsqueeze(1), state["hidden"].unsqueeze(0))  # (B, 1, H)
        positions = state["t"][:1]  # every row is at the same step
        logits, weights, _ = self.read(h, state["keys"], state["lengths"], positions)  # (B, 1, V)
        new = dict(state, hidden=h.squeeze(1), t=state["t"] + 1)
        return logits.squeeze(1), new

    @torch.no_grad()
    def attention_map(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor):
        """Weights (B, T, S) and positions p (B, T) (None for global) under teacher forcing."""
        keys, h0 = self.encode(src, src_lengths)
        h, _ = self.decoder(self.tgt_embed(tgt_in), h0.unsqueeze(0))  # (B, T, H)
        _, weights, p = self.read(h, keys, src_lengths)
        return weights, p


def make_luong(config: LuongConfig | dict) -> LuongTranslator:
    """Build a ``LuongTranslator`` from its config (or the config's dict, as a card stores it)."""
    return LuongTranslator(LuongConfig(**config) if isinstance(config, dict) else config)
