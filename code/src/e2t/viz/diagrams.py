r"""The book's architecture diagrams, drawn by code in one style: the encoder-decoder pattern, seq2seq unrolled,
Bahdanau et al.'s RNNsearch, the Neural Turing Machine and its addressing flow, and the Transformer.

Every function returns a matplotlib ``Figure`` (8-11 inches wide) drawn with patches, arrows and text on one axes
whose units are inches, so sizes read directly: module boxes are rounded, coloured by role (``PALETTE``: encoder
blue, decoder orange, vectors green, attention purple, memory yellow), labels are 11 pt and no text is smaller
than 10 pt. Nothing is random and nothing is downloaded, so the diagrams build offline and identically.

Introduced in: chapter 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

__all__ = ["PALETTE", "FONT", "SMALL", "encoder_decoder", "seq2seq", "bahdanau", "ntm", "ntm_addressing_flow",
           "transformer"]

#: (fill, edge) colour of each role.
PALETTE = {"encoder": ("#dbe8f6", "#2f6aa3"), "decoder": ("#fde3cf", "#c0561b"), "vector": ("#dcefd9", "#3a8a3f"),
           "attention": ("#ebe1f7", "#6b4ba1"), "memory": ("#fff3c4", "#a07c00"), "neutral": ("#f2f2f2", "#5a5a5a"),
           "norm": ("#f4f4e4", "#7d7d3a"), "mask": ("#fbe0e0", "#b02a2a")}
FONT, SMALL, TITLE = 11, 10, 13  # points: labels, annotations (the minimum), titles
INK, MUTED = "#222222", "#555555"


@dataclass(frozen=True)
class _Box:
    """A drawn box: centre (x, y), width w, height h (inches); the anchors arrows attach to."""

    x: float
    y: float
    w: float
    h: float

    def top(self, dx: float = 0.0) -> tuple[float, float]:
        return self.x + dx, self.y + self.h / 2

    def bottom(self, dx: float = 0.0) -> tuple[float, float]:
        return self.x + dx, self.y - self.h / 2

    def left(self, dy: float = 0.0) -> tuple[float, float]:
        return self.x - self.w / 2, self.y + dy

    def right(self, dy: float = 0.0) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + dy


def _canvas(width: float, height: float, title: str | None, *, y0: float = 0.0) -> tuple[Figure, plt.Axes]:
    """A figure whose single axes spans it, in inches (x to the right, y up from ``y0``), with no ticks."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(y0, y0 + height)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        _text(ax, width / 2, y0 + height - 0.28, title, size=TITLE, color=INK, weight="bold")
    return fig, ax


def _box(ax, x, y, w, h, text="", kind="neutral", *, size=FONT, note=None, weight="normal") -> _Box:
    """A rounded box centred at (x, y) with a label and an optional smaller, grey second line ``note``."""
    fill, edge = PALETTE[kind]
    ax.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.08",
                                facecolor=fill, edgecolor=edge, linewidth=1.4, zorder=2))
    _text(ax, x, y if note is None else y + 0.13, text, size=size, color=INK, weight=weight)
    if note is not None:
        _text(ax, x, y - 0.16, note)
    return _Box(x, y, w, h)


def _text(ax, x, y, text, *, size=SMALL, color=MUTED, ha="center", va="center", **kw):
    return ax.text(x, y, text, ha=ha, va=va, fontsize=size, color=color, zorder=4, **kw)


def _arrow(ax, start, end, *, color=INK, ls="-", lw=1.3, via: Sequence[tuple[float, float]] = ()):
    """An arrow from ``start`` to ``end``, optionally along the corner points ``via`` (a right-angled route)."""
    points = [tuple(start), *via, tuple(end)]
    for a, b in zip(points[:-2], points[1:-1]):
        ax.plot([a[0], b[0]], [a[1], b[1]], color=color, lw=lw, ls=ls, zorder=1, solid_capstyle="butt")
    ax.add_patch(FancyArrowPatch(points[-2], points[-1], arrowstyle="-|>", mutation_scale=13, color=color, lw=lw,
                                 linestyle=ls, shrinkA=0, shrinkB=0, zorder=1))


def _vector(ax, x, y, n=4, *, cell=0.2, label=None) -> _Box:
    """A column of ``n`` cells: a vector (the same glyph in every diagram), with an optional label on top."""
    fill, edge = PALETTE["vector"]
    for i in range(n):
        ax.add_patch(Rectangle((x - cell / 2, y - n * cell / 2 + i * cell), cell, cell, facecolor=fill,
                               edgecolor=edge, linewidth=1.2, zorder=2))
    if label:
        _text(ax, x, y + n * cell / 2 + 0.18, label, size=FONT, color=INK)
    return _Box(x, y, cell, n * cell)


def _frame(ax, x0, y0, x1, y1):
    """A dashed grey frame around a group of boxes (a layer repeated N times, a whole machine)."""
    ax.add_patch(FancyBboxPatch((x0, y0), x1 - x0, y1 - y0, boxstyle="round,pad=0,rounding_size=0.15",
                                facecolor="#fafafa", edgecolor="#8a8a8a", linewidth=1.2, linestyle="--", zorder=0))


# ------------------------------------------------------------------------------------------------ chapter 1 and 2
def encoder_decoder() -> Figure:
    """The encoder-decoder pattern: an encoder maps the input to a representation, a decoder maps that to the
    output; below, the three pairings of the source document (CNN-CNN, RNN-RNN, CNN-RNN).
    """
    fig, ax = _canvas(9.6, 4.0, "The encoder-decoder pattern")
    y = 2.45
    src = _box(ax, 1.0, y, 1.5, 0.9, "input $x$", note="image, sentence")
    enc = _box(ax, 3.25, y, 2.1, 1.1, "Encoder", "encoder", note="input → features", weight="bold")
    code = _vector(ax, 4.9, y, 5, label="code $c$")
    _text(ax, 4.9, y - 0.78, "a representation")
    dec = _box(ax, 6.55, y, 2.1, 1.1, "Decoder", "decoder", note="features → output", weight="bold")
    out = _box(ax, 8.75, y, 1.4, 0.9, "output $y$", note="map, words")
    for a, b in ((src.right(), enc.left()), (enc.right(), code.left()), (code.right(), dec.left()),
                 (dec.right(), out.left())):
        _arrow(ax, a, b)
    pairs = (("CNN", "CNN", "image → segmentation (SegNet)"), ("RNN", "RNN", "e-mail → reply"),
             ("CNN", "RNN", "image → caption"))
    for i, (e, d, task) in enumerate(pairs):
        x = 1.65 + 3.15 * i
        a = _box(ax, x - 0.55, 0.85, 1.0, 0.5, e, "encoder")
        b = _box(ax, x + 0.75, 0.85, 1.0, 0.5, d, "decoder")
        _arrow(ax, a.right(), b.left())
        _text(ax, x + 0.1, 0.32, task)
    return fig


def seq2seq(source: Sequence[str] = ("forty", "two"), target: Sequence[str] = ("zwei", "und", "vierzig")) -> Figure:
    """Seq2seq unrolled over one example: an RNN encoder reads the source, its last state is the vector ``c``, an
    RNN decoder starts from ``c`` and writes the target one token at a time, each output fed back as the next input.

    Introduced in: chapter 2.
    """
    n, m, step, y = len(source), len(target) + 1, 1.15, 2.05
    width = max(8.0, 2.3 + step * (n + m))
    x0 = 0.9 + (width - 2.3 - step * (n + m)) / 2  # centred when the example is short
    fig, ax = _canvas(width, 4.2, f"Sequence to sequence: {' '.join(source)} → {' '.join(target)}")
    inputs, outputs = [*source, None, "<bos>", *target], [None] * (n + 1) + [*target, "<eos>"]
    prev = None
    for k, (word, out) in enumerate(zip(inputs, outputs)):
        x, j = x0 + step * k, k - n - 1  # j: the decoder's step (negative in the encoder)
        if k == n:  # the encoder's last state is the vector c that starts the decoder
            cell = _vector(ax, x, y, 4, label="$c = h_{%d}$" % n)
            _text(ax, x, y - 0.7, "encoder\nvector")
        else:
            kind, name = ("encoder", f"$h_{k + 1}$") if k < n else ("decoder", f"$s_{j + 1}$")
            cell = _box(ax, x, y, 0.8, 0.62, name, kind)
            _box(ax, x, 0.75, 0.95, 0.45, word, size=SMALL)
            _arrow(ax, (x, 0.98), cell.bottom())
        if out is not None:
            _box(ax, x, 3.3, 0.95, 0.45, out, "decoder", size=SMALL)
            _arrow(ax, cell.top(), (x, 3.07))
            if j + 1 < m:  # the output is the next step's input
                _arrow(ax, (x + 0.35, 3.07), (x + step - 0.35, 0.98), color=MUTED, ls=(0, (3, 2)), lw=1.0)
        if prev is not None:
            _arrow(ax, prev.right(), cell.left())
        prev = cell
    _text(ax, x0 + step * (n - 1) / 2, 3.3, "encoder (RNN)", size=FONT, color=PALETTE["encoder"][1])
    _text(ax, width - 0.15, 0.3, "dashed: each output is the next input", ha="right")
    return fig


def bahdanau() -> Figure:
    r"""RNNsearch (Bahdanau et al. 2015): a bidirectional GRU gives annotations $h_i$; at output step $t$ the weights
    $\alpha_{t,i}$ (a softmax of scores of $s_{t-1}$ against every $h_i$) average them into $c_t$, which the decoder
    state $s_t$ reads with $s_{t-1}$ and $y_{t-1}$ before it emits $y_t$. Introduced in: chapter 3.
    """
    fig, ax = _canvas(9.4, 6.0, "Attention in RNNsearch (Bahdanau et al. 2015)")
    xs, words, violet = (0.9, 2.2, 3.5, 4.8), ("one", "hundred", "forty", "two"), PALETTE["attention"][1]
    fwd, bwd = [], []
    for i, (x, w) in enumerate(zip(xs, words)):
        _box(ax, x, 0.45, 1.1, 0.45, f"$x_{i + 1}$  {w}", size=SMALL)
        _frame(ax, x - 0.5, 0.88, x + 0.5, 2.2)
        fwd.append(_box(ax, x, 1.22, 0.72, 0.46, r"$\overrightarrow{h}_{%d}$" % (i + 1), "encoder"))
        bwd.append(_box(ax, x, 1.86, 0.72, 0.46, r"$\overleftarrow{h}_{%d}$" % (i + 1), "encoder"))
        _arrow(ax, (x, 0.68), (x, 0.88))
        _text(ax, x, 2.4, f"$h_{i + 1}$", size=FONT, color=INK)
    for i in range(len(xs) - 1):
        _arrow(ax, fwd[i].right(), fwd[i + 1].left())
        _arrow(ax, bwd[i + 1].left(), bwd[i].right())
    hub = (2.85, 3.45)
    ax.add_patch(Circle(hub, 0.24, facecolor=PALETTE["attention"][0], edgecolor=violet, lw=1.4, zorder=2))
    _text(ax, *hub, r"$\Sigma$", size=FONT, color=INK)
    for i, x in enumerate(xs):
        _arrow(ax, (x, 2.55), (hub[0] + 0.1 * (x - hub[0]), hub[1] - 0.23), color=violet)
        _text(ax, x + 0.45 * (hub[0] - x) + (0.3 if x > hub[0] else -0.3), 2.95, r"$\alpha_{t,%d}$" % (i + 1),
              size=FONT, color=violet)
    ctx = _vector(ax, 4.6, hub[1], 4)
    _text(ax, 4.6, hub[1] - 0.6, "$c_t$", size=FONT, color=INK)
    _arrow(ax, (hub[0] + 0.24, hub[1]), ctx.left())
    s_prev = _box(ax, 6.2, 4.6, 1.1, 0.6, "$s_{t-1}$", "decoder")
    s_t = _box(ax, 8.2, 4.6, 1.3, 0.6, "$s_t$", "decoder")
    _arrow(ax, s_prev.right(), s_t.left())
    _arrow(ax, ctx.right(), s_t.bottom(-0.35), via=[(s_t.x - 0.35, hub[1])])
    y_prev = _box(ax, 8.6, hub[1], 0.9, 0.45, "$y_{t-1}$", size=SMALL)
    _arrow(ax, y_prev.top(), s_t.bottom(0.4))
    y_t = _box(ax, 8.2, 5.35, 0.9, 0.42, "$y_t$", "decoder", size=SMALL)
    _arrow(ax, s_t.top(), y_t.bottom())
    score = _box(ax, 2.75, 4.6, 4.4, 0.62, r"$\alpha_{t,i} = \mathrm{softmax}_i\ v_a^\top \tanh(W_a [s_{t-1}; h_i])$",
                 "attention")
    _arrow(ax, s_prev.left(), score.right(), color=violet, ls=(0, (4, 2)))
    _text(ax, (s_prev.left()[0] + score.right()[0]) / 2, 4.84, "query", color=violet)
    _arrow(ax, score.bottom(hub[0] - score.x), (hub[0], hub[1] + 0.24), color=violet, ls=(0, (4, 2)))
    notes = (r"$h_i = [\overrightarrow{h}_i; \overleftarrow{h}_i]$  (biGRU)", r"$c_t = \sum_i \alpha_{t,i} h_i$",
             "$s_t = f(s_{t-1}, y_{t-1}, c_t)$", "$y_t \\sim g(s_t, y_{t-1}, c_t)$")
    for k, line in enumerate(notes):
        _text(ax, 6.0, 2.45 - 0.42 * k, line, size=FONT, color=INK, ha="left")
    return fig


# ------------------------------------------------------------------------------------------------------ chapter 5
def _bars(ax, x, y, values, *, width=0.5, height=0.16, kind="attention", side="left"):
    """A weighting drawn as horizontal bars, one per memory row (top row first), growing away from the memory."""
    fill, edge = PALETTE[kind]
    for i, v in enumerate(values):
        length = width * v
        x0 = x - length if side == "left" else x
        ax.add_patch(Rectangle((x0, y - (i + 1) * height + 0.02), length, height - 0.04, facecolor=edge,
                               edgecolor="none", alpha=0.8, zorder=2))


def ntm() -> Figure:
    """The Neural Turing Machine (Graves et al. 2014, Fig. 1): a controller talks to the outside world and, through
    a read head and a write head, to a memory of N rows of width M; each head's weighting says how much it reads or
    writes each row. Introduced in: chapter 5.
    """
    fig, ax = _canvas(9.4, 6.0, "The Neural Turing Machine (Graves et al. 2014, Fig. 1)")
    _frame(ax, 0.35, 0.25, 9.05, 4.55)
    _text(ax, 0.55, 4.33, "Neural Turing Machine", size=FONT, color=INK, ha="left", weight="bold")
    x_in = _box(ax, 2.2, 5.15, 2.2, 0.55, "external input $x_t$")
    y_out = _box(ax, 7.2, 5.15, 2.3, 0.55, "external output $y_t$")
    ctrl = _box(ax, 4.7, 3.75, 2.8, 0.75, "Controller", "neutral", note="an LSTM or a feed-forward net",
                weight="bold")
    _arrow(ax, x_in.bottom(), ctrl.left(0.15), via=[(2.2, 3.9)])
    _arrow(ax, ctrl.right(0.15), y_out.bottom(), via=[(7.2, 3.9)])
    read = _box(ax, 2.3, 2.4, 2.0, 0.6, "Read head", "attention", weight="bold")
    write = _box(ax, 7.1, 2.4, 2.0, 0.6, "Write head", "attention", weight="bold")
    _arrow(ax, ctrl.bottom(-0.9), read.top(0.45), via=[(3.8, 3.0), (2.75, 3.0)])
    _text(ax, 2.75, 3.2, r"$k_t, \beta_t, g_t, s_t, \gamma_t$", color=INK, ha="center")
    _arrow(ax, read.top(-0.45), ctrl.left(-0.2), via=[(1.85, 3.55)], color=PALETTE["vector"][1])
    _text(ax, 1.7, 3.05, "$r_t$", size=FONT, color=PALETTE["vector"][1], ha="right")
    _arrow(ax, ctrl.bottom(0.9), write.top(), via=[(5.6, 3.0), (7.1, 3.0)])
    _text(ax, 6.35, 3.2, r"$k_t, \beta_t, g_t, s_t, \gamma_t, e_t, a_t$", color=INK, ha="center")
    rows, columns, cell, top, violet = 8, 12, 0.16, 1.95, PALETTE["attention"][1]
    mem_x0, mem_w = 4.7 - columns * 0.15 / 2, columns * 0.15
    fill, edge = PALETTE["memory"]
    for r in range(rows):
        for c in range(columns):
            ax.add_patch(Rectangle((mem_x0 + c * 0.15, top - (r + 1) * cell), 0.15, cell, facecolor=fill,
                                   edgecolor=edge, linewidth=0.8, zorder=2))
    _text(ax, 4.7, top + 0.22, r"Memory $M_t$ ($N \times M$)", size=FONT, color=INK, weight="bold")
    _text(ax, 4.7, top - rows * cell - 0.2, f"$N$ rows (here {rows}), each of width $M$ (here {columns})")
    read_w, write_w = (0.02, 0.06, 0.8, 0.1, 0.02, 0, 0, 0), (0, 0, 0, 0.05, 0.15, 0.75, 0.05, 0)  # one per row
    _bars(ax, mem_x0 - 0.08, top, read_w, side="left", height=cell)
    _bars(ax, mem_x0 + mem_w + 0.08, top, write_w, side="right", height=cell)
    _text(ax, mem_x0 - 0.33, top + 0.2, "$w^r_t$", size=FONT, color=violet)
    _text(ax, mem_x0 + mem_w + 0.33, top + 0.2, "$w^w_t$", size=FONT, color=violet)
    _arrow(ax, read.bottom(), (mem_x0 - 0.65, 1.2), via=[(read.x, 1.2)], color=violet)
    _arrow(ax, write.bottom(), (mem_x0 + mem_w + 0.65, 1.2), via=[(write.x, 1.2)], color=violet)
    _text(ax, 0.6, 0.75, r"read: $r_t = \Sigma_i\, w^r_t(i)\, M_t(i)$", color=INK, ha="left")
    _text(ax, 8.85, 0.75, "write: erase with $e_t$, then add $a_t$", color=INK, ha="right")
    return fig


def ntm_addressing_flow() -> Figure:
    r"""How an NTM head turns its controller's outputs into a weighting (Graves et al. 2014, Fig. 2): content
    addressing ($k_t$, $\beta_t$, memory $M_t$), interpolation with the previous weighting ($g_t$, $w_{t-1}$),
    a convolutional shift ($s_t$) and sharpening ($\gamma_t$) give $w_t$. Introduced in: chapter 5.
    """
    fig, ax = _canvas(11.0, 3.9, "NTM addressing (Graves et al. 2014, Fig. 2)", y0=0.5)
    stages = (("Content addressing", r"$k_t, \beta_t$", r"$w^c_t \propto \exp(\beta_t \cos[k_t, M_t(i)])$"),
              ("Interpolation", "$g_t$", r"$w^g_t = g_t w^c_t + (1 - g_t)\, w_{t-1}$"),
              ("Convolutional shift", "$s_t$", r"$\tilde w_t(i) = \Sigma_j\, w^g_t(j)\, s_t(i - j)$"),
              ("Sharpening", r"$\gamma_t$", r"$w_t(i) \propto \tilde w_t(i)^{\gamma_t}$"))
    outputs = ("$w^c_t$", "$w^g_t$", r"$\tilde w_t$", "$w_t$")
    y, step, boxes = 2.3, 2.62, []
    _text(ax, 5.3, 3.85, "from the controller (one set per head)", color=INK)
    for k, (name, param, formula) in enumerate(stages):
        x = 1.35 + step * k
        box = _box(ax, x, y, 2.22, 0.95, name, "attention", weight="bold", note=formula)
        boxes.append(box)
        _box(ax, x, 3.35, 0.95, 0.42, param, "neutral")
        _arrow(ax, (x, 3.14), box.top())
        end = (x + step - 1.11, y) if k < 3 else (10.85, y)
        _arrow(ax, box.right(), end)
        _text(ax, (box.right()[0] + end[0]) / 2, y + 0.22, outputs[k], size=FONT, color=INK)
    mem = _box(ax, boxes[0].x, 0.95, 0.8, 0.42, "$M_t$", "memory")
    _arrow(ax, mem.top(), boxes[0].bottom())
    _text(ax, mem.x + 0.5, 0.95, "the memory", ha="left")
    _arrow(ax, (10.7, y), boxes[1].bottom(), via=[(10.7, 1.0), (boxes[1].x, 1.0)], color=MUTED, ls=(0, (4, 2)))
    _text(ax, 7.0, 0.75, "$w_t$ becomes the previous weighting $w_{t-1}$ of the next step", color=MUTED)
    return fig


# ------------------------------------------------------------------------------------------------------ chapter 6
def _layer(ax, x, y, sublayers, *, side: float) -> tuple[list[_Box], float]:
    """One Transformer layer from the residual stream at height ``y``: each sublayer, then Add & Norm, with the
    residual connection drawn on the ``side`` (-1 left, +1 right). Returns the sublayer boxes and the top.
    """
    boxes = []
    for label, note, kind, prongs in sublayers:
        main = _box(ax, x, y + 0.62, 2.7, 0.58, label, kind, note=note)
        for dx in prongs or (0.0,):  # attention reads queries, keys and values from the stream
            _arrow(ax, (x + dx, y), main.bottom(dx))
        ax.plot([min(x, x + min(prongs or (0,))), max(x, x + max(prongs or (0,)))], [y, y], color=INK, lw=1.3)
        norm = _box(ax, x, y + 1.23, 2.7, 0.34, "Add & Norm", "norm")
        _arrow(ax, main.top(), norm.bottom())
        rx = x + side * 1.52
        _arrow(ax, (x, y), (norm.right() if side > 0 else norm.left()), via=[(rx, y), (rx, norm.y)], lw=1.1)
        ax.plot([x, x], [norm.top()[1], y + 1.58], color=INK, lw=1.3)
        y += 1.58
        boxes.append(main)
    return boxes, y


def _mask_icon(ax, x, y, kind: str, size=0.5):
    """A 4 x 4 mask: filled = may attend; ``causal`` is the lower triangle, ``padding`` blocks the last column."""
    n, c = 4, size / 4
    fill, edge = PALETTE["mask"]
    for i in range(n):
        for j in range(n):
            allowed = j <= i if kind == "causal" else j < n - 1
            ax.add_patch(Rectangle((x + j * c, y + (n - 1 - i) * c), c, c, facecolor=edge if allowed else "white",
                                   edgecolor=edge, linewidth=0.8, alpha=0.85 if allowed else 1.0, zorder=3))


def _positional(ax, x, y, *, side: float):
    """The positional-encoding input: a small sine wave beside the sum node at (x, y)."""
    ax.add_patch(Circle((x, y), 0.18, facecolor="white", edgecolor=INK, lw=1.3, zorder=2))
    _text(ax, x, y, "+", size=FONT, color=INK)
    cx = x + side * 0.85
    xs = [cx - 0.25 + 0.5 * k / 30 for k in range(31)]
    ax.plot(xs, [y + 0.13 * math.sin(4 * math.pi * (v - xs[0])) for v in xs], color=PALETTE["vector"][1],
            lw=1.4)
    _arrow(ax, (cx - side * 0.32, y), (x + side * 0.18, y))
    _text(ax, cx + side * 0.35, y, "positional\nencoding", ha="left" if side > 0 else "right")


def transformer() -> Figure:
    """The Transformer (Vaswani et al. 2017, Fig. 1): token embeddings plus positional encodings feed an encoder stack
    (N layers of multi-head self-attention and a feed-forward net, each followed by Add & Norm) and a decoder stack
    (N layers of three sublayers: masked self-attention, encoder-decoder attention, feed-forward); a linear layer
    and a softmax give the next token's probabilities. Red tags mark where each mask applies.

    Introduced in: chapter 6.
    """
    fig, ax = _canvas(10.4, 9.0, "The Transformer (Vaswani et al. 2017, Fig. 1)")
    ex, dx, qkv, blue = 3.3, 7.2, (-0.6, 0.0, 0.6), PALETTE["encoder"][1]
    for x, emb, tokens, side in ((ex, "Input embedding", "source tokens: forty two", -1),
                                 (dx, "Output embedding", "target tokens, shifted right: <bos> zwei und", 1)):
        _text(ax, x, 0.3, tokens, color=INK)
        e = _box(ax, x, 0.9, 2.5, 0.45, emb, "vector")
        _arrow(ax, (x, 0.45), e.bottom())
        _positional(ax, x, 1.55, side=side)
        _arrow(ax, e.top(), (x, 1.37))
        ax.plot([x, x], [1.73, 2.2], color=INK, lw=1.3)
    enc, enc_top = _layer(ax, ex, 2.2, [("Multi-head self-attention", "padding mask", "attention", qkv),
                                        ("Feed-forward", None, "neutral", ())], side=1)
    dec, dec_top = _layer(ax, dx, 2.2, [("Masked multi-head self-attention", "causal mask", "attention", qkv),
                                        ("Multi-head attention", "encoder-decoder; padding mask", "attention", (0.6,)),
                                        ("Feed-forward", None, "neutral", ())], side=-1)
    _frame(ax, ex - 1.7, 2.0, ex + 1.7, enc_top - 0.05)
    _frame(ax, dx - 1.7, 2.0, dx + 1.7, dec_top - 0.05)
    _text(ax, ex - 1.9, enc[1].y, "N ×", size=TITLE, color=INK, ha="right", weight="bold")
    _text(ax, dx + 1.9, dec[2].y, "N ×", size=TITLE, color=INK, ha="left", weight="bold")
    _text(ax, ex - 1.65, enc_top + 0.12, "Encoder", size=FONT, color=blue, weight="bold", ha="left")
    _text(ax, dx + 1.65, dec_top + 0.12, "Decoder", size=FONT, color=PALETTE["decoder"][1], weight="bold",
          ha="right")
    kv_y, mid = dec[1].bottom()[1] - 0.2, (ex + dx) / 2
    _arrow(ax, (ex, enc_top - 0.22), (dx - 0.6, kv_y), via=[(ex, enc_top + 0.45), (mid, enc_top + 0.45),
                                                          (mid, kv_y)], color=blue)
    for off in (-0.6, -0.25):  # keys and values come from the encoder's output
        _arrow(ax, (dx + off, kv_y), dec[1].bottom(off), color=blue)
    ax.plot([dx - 0.6, dx - 0.25], [kv_y, kv_y], color=blue, lw=1.3)
    _text(ax, ex, enc_top + 0.68, "keys and values: the encoder's output", color=blue)
    lin = _box(ax, dx, dec_top + 0.55, 2.5, 0.4, "Linear", "decoder")
    soft = _box(ax, dx, dec_top + 1.1, 2.5, 0.4, "Softmax", "decoder")
    _arrow(ax, (dx, dec_top - 0.22), lin.bottom())
    _arrow(ax, lin.top(), soft.bottom())
    _text(ax, dx - 1.4, soft.y, "next-token\nprobabilities", color=INK, ha="right")
    for box, kind, text, x in ((enc[0], "padding", "padding mask:\nno source <pad>", 0.75),
                               (dec[0], "causal", "causal mask:\nno later position", 9.65),
                               (dec[1], "padding", "padding mask:\nno source <pad>", 9.65)):
        _mask_icon(ax, x - 0.25, box.y + 0.05, kind)
        _text(ax, x, box.y - 0.32, text, color=PALETTE["mask"][1])
        edge = box.left() if x < box.x else box.right()
        ax.plot([x + (0.28 if x < box.x else -0.28), edge[0]], [box.y + 0.3, edge[1]], color=PALETTE["mask"][1],
                lw=1.1, ls=(0, (3, 2)))
    return fig
