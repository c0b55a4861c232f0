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

import math
import time
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import e2t

from .attention import masked_softmax
from .checks import check_tensor
from .data.text import Batch, NumberTask, batches, collate, number_task
from .decoding import greedy_decode
from .scores import SCORE_NAMES, make_score

__all__ = ["MODES", "window_mask", "gaussian_window", "local_weights", "PredictivePosition", "LuongAttention",
           "LuongConfig", "LuongTranslator", "make_luong", "luong_loss", "translator", "train_luong",
           "checkpoint_job", "load_luong", "draw_local_window", "local_window_explorer"]

#: The three attentions of Luong et al. 2015.
MODES = ("global", "local-m", "local-p")


def _check_p(p: torch.Tensor) -> None:
    check_tensor("p", p, ndim=2, dtype_kind="float")


def window_mask(p: torch.Tensor, *, S: int, D: int) -> torch.Tensor:
    r"""The window $[p_t - D, p_t + D]$ as a mask: ``mask[b, t, s] = |s - p[b, t]| <= D``.

    Shapes: p (B, T) float positions -> (B, T, S) bool (True = may attend).

    Introduced in: chapter 4.
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

    Introduced in: chapter 4.
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

    Introduced in: chapter 4.
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

    Introduced in: chapter 4.
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

    Introduced in: chapter 4.
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
        pad = (torch.arange(S, device=keys.device)[None, :] < lengths[:, None]).unsqueeze(1)  # (B, 1, S)
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

    Introduced in: chapter 4.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    mode: str = "global"
    score: str = "general"
    D: int = 2
    d_emb: int = 64
    d_hidden: int = 128
    max_src_len: int = 32
    pad: int = 0


class LuongTranslator(nn.Module):
    """Luong et al.'s attentional encoder-decoder (without input feeding). Build it with ``make_luong``.

    ``forward(src, src_lengths, tgt_in)`` returns logits (B, T, V) and attention weights (B, T, S);
    ``step`` is the one-token decoder for ``e2t.decoding``.

    Introduced in: chapter 4.
    """

    def __init__(self, config: LuongConfig):
        super().__init__()
        if config.d_hidden % 2:
            raise ValueError(f"d_hidden must be even (two GRU directions), got {config.d_hidden}")
        if config.score not in SCORE_NAMES:
            raise ValueError(f"score must be one of {SCORE_NAMES}, got {config.score!r}")
        self.config = config
        H = config.d_hidden
        self.src_embed = nn.Embedding(config.src_vocab_size, config.d_emb, padding_idx=config.pad)
        self.encoder = nn.GRU(config.d_emb, H // 2, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(H, H)
        self.tgt_embed = nn.Embedding(config.tgt_vocab_size, config.d_emb, padding_idx=config.pad)
        self.decoder = nn.GRU(config.d_emb, H, batch_first=True)
        score = make_score(config.score, d_query=H, d_key=H, d_attn=H, max_len=config.max_src_len)
        self.attention = LuongAttention(d_query=H, d_key=H, mode=config.mode, D=config.D, score=score)
        self.W_c = nn.Linear(2 * H, H, bias=False)
        self.W_s = nn.Linear(H, config.tgt_vocab_size)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor):
        """Encoder states $\\bar h_s = [\\overrightarrow{h}_s; \\overleftarrow{h}_s]$ (B, S, H) and the decoder's
        first state (B, H)."""
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

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor):
        keys, h0 = self.encode(src, src_lengths)
        h, _ = self.decoder(self.tgt_embed(tgt_in), h0.unsqueeze(0))  # (B, T, H)
        logits, weights, _ = self.read(h, keys, src_lengths)
        return logits, weights

    def start(self, src: torch.Tensor, src_lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        """The decoding state: hidden (B, H), keys (B, S, H), lengths (B,), step t (B,)."""
        keys, h0 = self.encode(src, src_lengths)
        return {"hidden": h0, "keys": keys, "lengths": src_lengths,
                "t": torch.zeros(src.shape[0], dtype=torch.long, device=src.device)}

    def step(self, prev: torch.Tensor, state: dict[str, torch.Tensor]):
        """One decoder step for ``e2t.decoding``: (prev (B,), state) -> (log_probs (B, V), state)."""
        h, _ = self.decoder(self.tgt_embed(prev).unsqueeze(1), state["hidden"].unsqueeze(0))  # (B, 1, H)
        positions = state["t"][:1]  # every row is at the same step
        logits, weights, _ = self.read(h, state["keys"], state["lengths"], positions)  # (B, 1, V)
        new = dict(state, hidden=h.squeeze(1), t=state["t"] + 1)
        return torch.log_softmax(logits.squeeze(1), dim=-1), new

    @torch.no_grad()
    def attention_map(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor):
        """Weights (B, T, S) and positions p (B, T) (None for global) under teacher forcing."""
        keys, h0 = self.encode(src, src_lengths)
        h, _ = self.decoder(self.tgt_embed(tgt_in), h0.unsqueeze(0))  # (B, T, H)
        _, weights, p = self.read(h, keys, src_lengths)
        return weights, p


def make_luong(config: LuongConfig) -> LuongTranslator:
    """Build a ``LuongTranslator`` from its config.

    Introduced in: chapter 4.
    """
    return LuongTranslator(config)


def luong_loss(model: nn.Module, batch: Batch) -> torch.Tensor:
    """Teacher-forced cross-entropy over the real target tokens (padding ignored).

    Introduced in: chapter 4.
    """
    logits, _ = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    B, T, V = logits.shape
    return nn.functional.cross_entropy(logits.reshape(B * T, V), batch.tgt_out.reshape(B * T),  # (B*T, V)
                                       ignore_index=model.config.pad)


def translator(model: LuongTranslator, task: NumberTask, *, batch_size: int = 500, max_len: int = 40):
    """A ``translate_fn(examples) -> token lists`` (greedy decoding) for ``e2t.evaluation.evaluate``.

    Introduced in: chapter 4.
    """

    @torch.no_grad()
    def translate(examples):
        model.eval()
        out = []
        for start in range(0, len(examples), batch_size):
            b = collate(examples[start:start + batch_size], task)
            ids = greedy_decode(model.step, model.start(b.src, b.src_lengths), batch_size=len(b),
                                bos=task.tgt_vocab.bos, eos=task.tgt_vocab.eos, max_len=max_len)
            out.extend(task.tgt_vocab.decode(s) for s in ids)
        return out

    return translate


def train_luong(*, mode: str = "global", score: str = "general", D: int = 2, seed: int = 0, steps: int = 1500,
                batch_size: int = 64, lr: float = 3e-3, task: NumberTask | None = None, progress: bool = False,
                max_seconds: float | None = None):
    """Train a ``LuongTranslator`` on the book's number task (seeded); return ``(model, history)``.

    Introduced in: chapter 4.
    """
    task = task or number_task()
    e2t.set_seed(seed)
    model = make_luong(LuongConfig(len(task.src_vocab), len(task.tgt_vocab), mode=mode, score=score, D=D,
                                   pad=task.src_vocab.pad))
    stream = batches(task.train, task, batch_size=batch_size, seed=seed, epochs=None, sort_pool=32)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    history = e2t.train.fit(model, luong_loss, stream, steps=steps, optimizer=opt, scheduler=sched, clip=1.0,
                            progress=progress, max_seconds=max_seconds, desc=f"{mode} ({score})")
    return model, history


def _evaluate(model: LuongTranslator, task: NumberTask, n: int | None = None, split: str = "test") -> dict[str, Any]:
    from .evaluation import evaluate

    data = getattr(task, split)
    examples = list(data if n is None else data[:n])
    return evaluate(translator(model, task), examples)


def checkpoint_job(*, quick: bool = False, directory=None, steps: int = 600) -> dict:
    """Train global, local-m and local-p (general score, D = 2, seed 0) and save ``ch4_luong_<mode>`` each.

    Returns the card of the last one; every card records its metrics on the test split (overall and by
    source-length bucket).

    Introduced in: chapter 4.
    """
    from .checkpoints import save_checkpoint

    if quick and directory is None:
        raise ValueError("quick=True must write to a directory of its own")
    steps = 5 if quick else steps
    task = number_task()
    card = {}
    for mode in MODES:
        start = time.perf_counter()
        model, history = train_luong(mode=mode, steps=steps, seed=0, task=task)
        wall = time.perf_counter() - start
        result = _evaluate(model, task, n=50 if quick else None)
        valid = _evaluate(model, task, n=50 if quick else None, split="valid")
        name = f"ch4_luong_{mode.replace('-', '_')}"
        every = max(1, len(history.losses) // 40)
        card = {"name": name, "command": "python -m e2t.jobs local_attention" + (" (quick)" if quick else ""),
                "seed": 0, "steps": len(history.steps), "wall_time_s": round(wall, 1),
                "metrics": {"exact_match": result["overall"]["exact_match"],
                            "token_accuracy": result["overall"]["token_accuracy"],
                            "by_bucket": {k: v["exact_match"] for k, v in result["by_bucket"].items()},
                            "final_loss": history.losses[-1]},
                "valid": {"exact_match": valid["overall"]["exact_match"],
                          "by_bucket": {k: v["exact_match"] for k, v in valid["by_bucket"].items()}},
                "curve": [[i + every, round(sum(history.losses[i:i + every]) / every, 4)]
                          for i in range(0, len(history.losses) - every + 1, every)],
                "selection_rule": "none: one seed, the last step, steps fixed in advance (the same for the "
                                  "three modes)",
                "config": asdict(model.config), "ms_per_step": round(1000 * history.seconds_per_step, 1)}
        save_checkpoint(model, name, card, directory=directory)
    return card


def load_luong(mode: str, *, task: NumberTask | None = None, directory=None):
    """Load the shipped ``ch4_luong_<mode>`` model and its card.

    Introduced in: chapter 4.
    """
    from .checkpoints import load_checkpoint, read_card

    name = f"ch4_luong_{mode.replace('-', '_')}"
    card = read_card(name, directory=directory)
    model = make_luong(LuongConfig(**card["config"]))
    load_checkpoint(model, name, directory=directory)
    model.eval()
    return model, card


# ---------------------------------------------------------------------------------------------- the widget

#: The widget's example: an English source and fixed scores (as a trained model might give at one target step).
WIDGET_SOURCE = ("three", "hundred", "and", "forty", "two", "thousand", "five", "hundred", "and", "sixty", "one")
WIDGET_SCORES = (0.2, 0.5, -0.3, 1.6, 2.2, 0.4, 0.1, 0.6, -0.2, 1.0, 0.3)


def _local_window_painter(tokens=WIDGET_SOURCE, scores=WIDGET_SCORES):
    """The widget's ``e2t.widgets.Painter`` (defined here so that matplotlib is imported only for the widget)."""
    from .widgets import Painter

    class LocalWindowPainter(Painter):
        figsize = (7.5, 2.8)

        def build(self, fig):
            import numpy as np

            S = len(tokens)
            self.S = S
            self.z = torch.tensor(scores, dtype=torch.float64).view(1, 1, S)  # (1, 1, S)
            ax = fig.add_subplot()
            x = np.arange(S)
            self.span = self.dynamic(ax.axvspan(-0.5, 0.5, color="tab:orange", alpha=0.12, lw=0))
            ax.bar(x - 0.2, torch.softmax(self.z, -1)[0, 0].numpy(), width=0.4, color="0.6",
                   label="global: softmax over all")
            self.bars = self.dynamic(*ax.bar(x + 0.2, np.zeros(S), width=0.4, color="tab:orange",
                                             label="local-p: window softmax × Gaussian"))
            self.xs = np.linspace(-0.5, S - 0.5, 200)
            (self.curve,) = ax.plot(self.xs, np.zeros_like(self.xs), color="tab:red", lw=1,
                                    label="Gaussian, σ = D/2")
            self.dynamic(self.curve)
            self.centre = self.dynamic(ax.axvline(0.0, color="tab:red", lw=0.8, ls="--"))
            ax.set_xticks(x, tokens, rotation=40, ha="right", fontsize=8)
            ax.set_xlim(-0.6, S - 0.4)
            ax.set_ylim(0, 1.05)
            ax.set_ylabel("weight")
            self.title = self.dynamic(ax.set_title(" ", fontsize=9, y=1.0))
            ax.legend(fontsize=7, loc="upper right")
            fig.subplots_adjust(left=0.08, right=0.99, bottom=0.28, top=0.88)

        def update(self, D, p):
            import numpy as np

            pt = torch.tensor([[float(p)]], dtype=torch.float64)  # (1, 1)
            local = local_weights(self.z, pt, D=D)[0, 0].numpy()
            self.span.set_x(p - D - 0.5)
            self.span.set_width(2 * D + 1)
            for bar, h in zip(self.bars, local.tolist()):
                bar.set_height(h)
            self.curve.set_visible(D > 0)
            if D > 0:
                self.curve.set_ydata(np.exp(-(self.xs - p) ** 2 / (2 * (D / 2) ** 2)))
            self.centre.set_xdata([p, p])
            inside = int(window_mask(pt, S=self.S, D=D).sum())
            self.title.set_text(f"p_t = {p:g}, D = {D}: {inside} positions in the window, local weights sum to "
                                f"{local.sum():.2f}")

    return LocalWindowPainter()


def draw_local_window(D: int, p: float, *, tokens=WIDGET_SOURCE, scores=WIDGET_SCORES):
    r"""The local-attention widget's figure: the window $[p_t - D, p_t + D]$, the Gaussian with $\sigma = D/2$,
    and the resulting local-p weights next to the global ones, over a fixed example source.

    Introduced in: chapter 4.
    """
    return _local_window_painter(tokens, scores).figure(D=D, p=p)


def local_window_explorer():
    """The widget: sliders for the half-width ``D`` and the aligned position ``p`` (live + static twin).

    Each move recomputes the local-p weights and redraws the window, the bars, the Gaussian and the title.

    Introduced in: chapter 4.
    """
    from .widgets import explore, slider

    return explore(_local_window_painter(), slider("D", (1, 2, 3, 4, 5), value=2, label="half-width D"),
                   slider("p", tuple(float(i) for i in range(len(WIDGET_SOURCE))), value=4.0,
                          label="aligned position p_t", live_step=0.25),
                   title="Local attention: the window and its weights")
