r"""The Neural Turing Machine's memory: soft read, erase-then-add write, and addressing (Graves et al. 2014, §3).

A memory is a batch of ``N`` rows of width ``M``; a head looks at it through a *weighting* ``w`` over the rows
(non-negative, summing to 1). The weighting is built in four small steps, each a function here:

1. ``content_addressing``: :math:`w^c_t(i) = \mathrm{softmax}_i(\beta_t \cos[k_t, M_t(i)])`
2. ``interpolate``:        :math:`w^g_t = g_t w^c_t + (1 - g_t) w_{t-1}`
3. ``shift``:              :math:`\tilde w_t(i) = \sum_j w^g_t(j)\, s_t(i - j)` (circular convolution)
4. ``sharpen``:            :math:`w_t(i) = \tilde w_t(i)^{\gamma_t} / \sum_j \tilde w_t(j)^{\gamma_t}`

``address`` chains them. Degenerate inputs give defined, finite results: a zero key or an all-zero memory row has
cosine 0, ``beta = 0`` gives a uniform weighting, and huge ``beta`` or ``gamma`` give a one-hot weighting, never
NaN or inf.

Shapes (batch first): memory (B, N, M); weightings (B, N); key, erase, add (B, M); beta, g, gamma (B, 1);
shift weights s (B, K) with K odd.

Introduced in: chapter 5.
"""

from __future__ import annotations

import torch

from .checks import check_tensor

__all__ = ["content_addressing", "interpolate", "shift", "sharpen", "address", "read", "write", "cosine_rows",
           "focus_weighting", "draw_read_write", "read_write_explorer", "shift_weights", "draw_addressing",
           "addressing_explorer"]


# -- argument checks --------------------------------------------------------------------------------------------
def _check_memory(memory: torch.Tensor) -> tuple[int, int, int]:
    check_tensor("memory", memory, ndim=3, dtype_kind="float")
    return memory.shape  # type: ignore[return-value]


def _check_rows(name: str, x: torch.Tensor, B: int, width: int, what: str) -> None:
    """``x`` must be (B, width); ``what`` says what the width must match, e.g. "memory rows have width 20"."""
    check_tensor(name, x, ndim=2, dtype_kind="float")
    if x.shape[0] != B:
        raise ValueError(f"{name} has batch size {x.shape[0]} but memory has batch size {B}: shape "
                         f"{tuple(x.shape)}")
    if x.shape[1] != width:
        raise ValueError(f"{name} has width {x.shape[1]} but {what}: shape {tuple(x.shape)}")


def _check_scalar(name: str, x: torch.Tensor, B: int) -> None:
    """A per-head scalar: shape (B, 1)."""
    check_tensor(name, x, ndim=2, dtype_kind="float")
    if tuple(x.shape) != (B, 1):
        raise ValueError(f"{name} must have shape (B, 1) = ({B}, 1), got shape {tuple(x.shape)}")


def _check_weighting(name: str, w: torch.Tensor) -> tuple[int, int]:
    check_tensor(name, w, ndim=2, dtype_kind="float")
    return w.shape  # type: ignore[return-value]


# -- addressing -------------------------------------------------------------------------------------------------
def cosine_rows(memory: torch.Tensor, key: torch.Tensor, *, eps: float = 1e-8) -> torch.Tensor:
    r"""Cosine similarity of ``key`` with every memory row: :math:`k \cdot M(i) / (\|k\| \|M(i)\|)`.

    Each norm is floored at ``eps`` (and the norm's gradient at a zero vector is 0, not NaN): a zero key or an
    all-zero row has cosine 0 with everything.

    Shapes: memory (B, N, M), key (B, M); returns (B, N).

    Introduced in: chapter 5.
    """
    B, N, M = _check_memory(memory)
    _check_rows("key", key, B, M, f"memory rows have width {M}")
    # vector_norm's gradient at a zero vector is 0 (PyTorch masks it), and the floor keeps the division finite.
    key_norm = torch.linalg.vector_norm(key, dim=-1, keepdim=True).clamp_min(eps)  # (B, 1)
    row_norm = torch.linalg.vector_norm(memory, dim=-1).clamp_min(eps)  # (B, N)
    dots = torch.bmm(memory, key.unsqueeze(-1)).squeeze(-1)  # (B, N, 1) -> (B, N)
    return dots / (key_norm * row_norm)  # (B, N)


def content_addressing(memory: torch.Tensor, key: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:
    r"""Content-based weighting (Graves et al. 2014, eq. 5-6):

    .. math:: w^c_t(i) = \frac{\exp(\beta_t \cos[k_t, M_t(i)])}{\sum_{j=1}^N \exp(\beta_t \cos[k_t, M_t(j)])}

    ``beta >= 0`` is the key strength: 0 gives a uniform weighting, large values focus on the best-matching row.
    The softmax subtracts its maximum, so a huge ``beta`` stays finite.

    Shapes: memory (B, N, M), key (B, M), beta (B, 1); returns w (B, N).

    Introduced in: chapter 5.
    """
    B, N, M = _check_memory(memory)
    _check_rows("key", key, B, M, f"memory rows have width {M}")
    _check_scalar("beta", beta, B)
    scores = beta * cosine_rows(memory, key)  # (B, N)
    return torch.softmax(scores, dim=-1)  # (B, N)


def interpolate(w_content: torch.Tensor, w_prev: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    r"""Interpolation gate (Graves et al. 2014, eq. 7): :math:`w^g_t = g_t w^c_t + (1 - g_t) w_{t-1}`.

    ``g`` in [0, 1]: 1 takes the content weighting, 0 keeps the previous (final) weighting ``w_prev``.

    Shapes: w_content (B, N), w_prev (B, N), g (B, 1); returns (B, N).

    Introduced in: chapter 5.
    """
    B, N = _check_weighting("w_content", w_content)
    _check_weighting("w_prev", w_prev)
    if w_prev.shape != w_content.shape:
        raise ValueError(f"w_prev has shape {tuple(w_prev.shape)} but w_content has shape {tuple(w_content.shape)}")
    _check_scalar("g", g, B)
    return g * w_content + (1 - g) * w_prev  # (B, N)


def shift(w: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    r"""Rotation by a soft shift (Graves et al. 2014, eq. 8), a circular convolution over the rows:

    .. math:: \tilde w_t(i) = \sum_{j=0}^{N-1} w^g_t(j)\, s_t(i - j \bmod N)

    ``s[:, k]`` is the weight of a move by ``d = k - K//2`` rows; ``d > 0`` moves the focus toward higher rows,
    wrapping around from row N-1 to row 0. So with K = 3, ``s = [0, 0, 1]`` moves a one-hot focus one row down
    (to the next row), ``[1, 0, 0]`` one row up, ``[0, 1, 0]`` keeps it. A one-element kernel (K = 1) is the
    identity up to its weight.

    Shapes: w (B, N), s (B, K) with K odd; returns (B, N).

    Introduced in: chapter 5.
    """
    B, N = _check_weighting("w", w)
    check_tensor("s", s, ndim=2, dtype_kind="float")
    if s.shape[0] != B:
        raise ValueError(f"s has batch size {s.shape[0]} but w has batch size {B}: shapes {tuple(s.shape)} and "
                         f"{tuple(w.shape)}")
    K = s.shape[1]
    if K % 2 == 0:
        raise ValueError(f"s must have an odd number K of shift weights (moves -K//2..K//2), got shape "
                         f"{tuple(s.shape)}")
    half = K // 2
    if half == 0:
        return s * w  # (B, N)
    # Wrap the rows around, then slide a window of K rows: windows[b, i, k] = w[b, (i + k - half) mod N].
    padded = torch.cat([w[:, N - half:] if half <= N else w.repeat(1, half // N + 1)[:, -half:], w,
                        w[:, :half] if half <= N else w.repeat(1, half // N + 1)[:, :half]], dim=1)  # (B, N + 2h)
    windows = padded.unfold(1, K, 1)  # (B, N, K)
    # A move by d = half - k brings row i + k - half to row i: weight s[:, d + half] = s[:, K - 1 - k].
    return (windows * s.flip(-1).unsqueeze(1)).sum(-1)  # (B, N)


def sharpen(w: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
    r"""Sharpening (Graves et al. 2014, eq. 9): :math:`w_t(i) = \tilde w_t(i)^{\gamma_t} / \sum_j \tilde w_t(j)^{\gamma_t}`.

    ``gamma >= 1`` undoes the blur a soft shift causes. Computed as a softmax of ``gamma * log w`` (the same
    quantity, with the largest term factored out), so a huge ``gamma`` gives a one-hot weighting instead of
    0/0, and zero entries (floored at the smallest positive float) get weight 0 with a finite gradient.

    Shapes: w (B, N), gamma (B, 1); returns (B, N).

    Introduced in: chapter 5.
    """
    B, N = _check_weighting("w", w)
    _check_scalar("gamma", gamma, B)
    log_w = torch.log(w.clamp_min(torch.finfo(w.dtype).tiny))  # (B, N)
    log_w = log_w - log_w.max(dim=-1, keepdim=True).values.detach()  # (B, N), largest entry is 0
    scores = torch.where(w > 0, gamma * log_w, torch.finfo(w.dtype).min)  # (B, N); zeros stay exactly 0
    return torch.softmax(scores, dim=-1)  # (B, N)


def address(memory: torch.Tensor, key: torch.Tensor, beta: torch.Tensor, g: torch.Tensor, s: torch.Tensor,
            gamma: torch.Tensor, w_prev: torch.Tensor) -> torch.Tensor:
    r"""The whole addressing pipeline (Graves et al. 2014, Fig. 2): content, interpolation, shift, sharpening.

    .. math:: w_t = \mathrm{sharpen}(\mathrm{shift}(g_t\, w^c_t + (1 - g_t) w_{t-1},\ s_t),\ \gamma_t),\quad
              w^c_t = \mathrm{softmax}(\beta_t \cos[k_t, M_t(\cdot)])

    Shapes: memory (B, N, M), key (B, M), beta, g, gamma (B, 1), s (B, K), w_prev (B, N); returns w (B, N).

    Introduced in: chapter 5.
    """
    B, N, M = _check_memory(memory)
    _check_rows("w_prev", w_prev, B, N, f"memory has {N} rows")
    w_c = content_addressing(memory, key, beta)  # (B, N)
    w_g = interpolate(w_c, w_prev, g)  # (B, N)
    w_s = shift(w_g, s)  # (B, N)
    return sharpen(w_s, gamma)  # (B, N)


# -- read and write ---------------------------------------------------------------------------------------------
def read(memory: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    r"""Soft read (Graves et al. 2014, eq. 2): :math:`r_t = \sum_{i=1}^N w_t(i) M_t(i)`.

    Shapes: memory (B, N, M), w (B, N); returns r (B, M).

    Introduced in: chapter 5.
    """
    B, N, M = _check_memory(memory)
    _check_rows("w", w, B, N, f"memory has {N} rows")
    return torch.bmm(w.unsqueeze(1), memory).squeeze(1)  # (B, 1, M) -> (B, M)


def write(memory: torch.Tensor, w: torch.Tensor, erase: torch.Tensor, add: torch.Tensor) -> torch.Tensor:
    r"""Soft write: erase, then add (Graves et al. 2014, eq. 3-4).

    .. math:: \tilde M_t(i) = M_{t-1}(i)\,[\mathbf 1 - w_t(i) e_t], \qquad M_t(i) = \tilde M_t(i) + w_t(i)\, a_t

    A row is erased (and then written) only as much as the head focuses on it. ``erase`` must lie in [0, 1].
    Returns a new memory; the input is not changed.

    Shapes: memory (B, N, M), w (B, N), erase (B, M), add (B, M); returns (B, N, M).

    Introduced in: chapter 5.
    """
    B, N, M = _check_memory(memory)
    _check_rows("w", w, B, N, f"memory has {N} rows")
    _check_rows("erase", erase, B, M, f"memory rows have width {M}")
    _check_rows("add", add, B, M, f"memory rows have width {M}")
    if not erase.requires_grad and bool(((erase < 0) | (erase > 1)).any()):
        raise ValueError(f"erase must lie in [0, 1], got values in [{erase.min().item():.3g}, "
                         f"{erase.max().item():.3g}]")
    w = w.unsqueeze(-1)  # (B, N, 1)
    erased = memory * (1 - w * erase.unsqueeze(1))  # (B, N, M)
    return erased + w * add.unsqueeze(1)  # (B, N, M)


# -- chapter 5's widgets ----------------------------------------------------------------------------------------
#: The read/write widget's erase and add vectors (memory width M = 6).
WIDGET_ERASE = {"e = 0 (keep)": (0.0,) * 6, "e = 1 (wipe)": (1.0,) * 6,
                "e = 1 on the first half": (1.0,) * 3 + (0.0,) * 3}
WIDGET_ADD = {"a = 0": (0.0,) * 6, "a = 1": (1.0,) * 6, "a = +1, -1, ...": (1.0, -1.0) * 3}


def widget_memory() -> torch.Tensor:
    """The read/write widget's memory: a smooth pattern of N = 8 rows of width M = 6. Shapes: () -> (1, 8, 6).

    Introduced in: chapter 5.
    """
    return torch.linspace(-0.8, 0.8, 8 * 6).reshape(1, 8, 6).sin()  # (1, N=8, M=6)


def focus_weighting(row: float, sharpness: float, N: int = 8) -> torch.Tensor:
    r"""A weighting centred on ``row``: $w(i) \propto \exp(-\mathrm{sharpness}\cdot d(i, \mathrm{row})^2)$, $d$ the
    circular distance. Shapes: () -> (1, N).

    Introduced in: chapter 5.
    """
    i = torch.arange(N, dtype=torch.float32)
    d = torch.minimum((i - row).abs(), N - (i - row).abs())
    return torch.softmax(-sharpness * d**2, dim=0).unsqueeze(0)  # (1, N)


def _read_write_painter():
    from .widgets import Painter

    class ReadWritePainter(Painter):
        figsize = (9.5, 2.6)

        def build(self, fig):
            self.memory = widget_memory()  # (1, 8, 6)
            axes = fig.subplots(1, 4, gridspec_kw={"width_ratios": [3, 1.2, 3, 3]})
            kw = dict(vmin=-1.5, vmax=1.5, cmap="RdBu_r", aspect="auto", interpolation="nearest")
            axes[0].imshow(self.memory[0].numpy(), **kw)
            self.after = self.dynamic(axes[2].imshow(self.memory[0].numpy(), **kw))
            self.change = self.dynamic(axes[3].imshow(self.memory[0].numpy(), **kw))
            for ax, title in zip(axes, ("memory before", "$w_t$", "memory after", "change")):
                ax.set_title(title, y=1.0)
            for ax in axes[[0, 2, 3]]:
                ax.set_xticks([])
                ax.set_yticks([])
            self.bars = self.dynamic(*axes[1].barh(range(8), [0.0] * 8, color="tab:orange"))
            axes[1].set_ylim(7.5, -0.5)
            axes[1].set_xlim(0, 1)
            axes[1].set_yticks([])
            self.suptitle = self.dynamic(fig.suptitle(" ", fontsize=9, y=0.98))
            fig.subplots_adjust(left=0.01, right=0.99, bottom=0.1, top=0.8, wspace=0.12)

        def update(self, row, sharpness, erase, add):
            w = focus_weighting(row, sharpness)  # (1, N)
            e, a = torch.tensor([WIDGET_ERASE[erase]]), torch.tensor([WIDGET_ADD[add]])  # (1, M)
            after = write(self.memory, w, e, a)  # (1, N, M)
            self.after.set_data(after[0].numpy())
            self.change.set_data((after[0] - self.memory[0]).numpy())
            for bar, v in zip(self.bars, w[0].tolist()):
                bar.set_width(v)
            self.suptitle.set_text(f"{erase}, {add}: read back r_t = "
                                   + ", ".join(f"{v:.2f}" for v in read(after, w)[0]))

    return ReadWritePainter()


def draw_read_write(row: float, sharpness: float, erase: str, add: str):
    r"""The read/write widget's figure: write $M_t(i) = M_{t-1}(i)[1 - w_t(i) e_t] + w_t(i) a_t$ with a weighting
    focused on ``row`` (``focus_weighting``) and the ``erase``/``add`` vectors named in ``WIDGET_ERASE`` and
    ``WIDGET_ADD``: the memory before, $w_t$, the memory after, the change, and the vector read back.

    Introduced in: chapter 5.
    """
    return _read_write_painter().figure(row=row, sharpness=sharpness, erase=erase, add=add)


def read_write_explorer():
    """Chapter 5's first widget: where the head writes (row, sharpness) and what (erase and add vectors).

    Each move recomputes the weighting, the write and the read, and redraws the bars and the two changed matrices.

    Introduced in: chapter 5.
    """
    from .widgets import choice, explore, slider

    return explore(_read_write_painter(),
                   slider("row", list(range(8)), value=2, label="focus row", live_step=1),
                   slider("sharpness", [0.0, 0.5, 1.0, 2.0, 8.0], value=2.0, label="sharpness"),
                   choice("erase", list(WIDGET_ERASE), value="e = 1 (wipe)", label="erase vector e"),
                   choice("add", list(WIDGET_ADD), value="a = +1, -1, ...", label="add vector a"),
                   title="Write into memory: erase, then add")


def widget_addressing_inputs() -> dict[str, torch.Tensor]:
    """The addressing widget's fixed inputs: a random memory (1, 10, 4), a key most like row 2 (1, 4), and last
    step's weighting focused on row 6 (1, 10).

    Introduced in: chapter 5.
    """
    g_mem = torch.Generator().manual_seed(5)
    memory = torch.randn(1, 10, 4, generator=g_mem)  # (1, N=10, M=4)
    key = (memory[:, 2] + 0.3 * memory[:, 7]).clone()  # (1, M): most like row 2
    prev = torch.full((1, 10), 0.01)  # (1, N): last step's focus on row 6
    prev[0, 6] = 0.91
    return {"memory": memory, "key": key, "prev": prev}


def shift_weights(s_minus: float, s_plus: float) -> torch.Tensor:
    """Three shift weights summing to 1: s(-1), s(0) = what is left, s(+1); rescaled if the two exceed 1.
    Shapes: () -> (1, 3).

    Introduced in: chapter 5.
    """
    s = torch.tensor([s_minus, max(0.0, 1.0 - s_minus - s_plus), s_plus])
    return (s / s.sum()).unsqueeze(0)  # (1, 3)


def _addressing_painter():
    from .widgets import Painter

    class AddressingPainter(Painter):
        figsize = (10, 2.3)

        def build(self, fig):
            self.inputs = widget_addressing_inputs()
            axes = fig.subplots(1, 4, sharey=True)
            self.bars, self.titles = [], []
            for ax in axes:
                self.bars.append(self.dynamic(*ax.bar(range(10), [0.0] * 10, color="tab:blue")))
                self.titles.append(self.dynamic(ax.set_title(" ", fontsize=10, y=1.0)))
                ax.set_xticks(range(10))
                ax.set_ylim(0, 1)
                ax.tick_params(labelsize=7)
            axes[1].step(range(10), self.inputs["prev"][0].numpy(), where="mid", color="grey", lw=1)
            self.suptitle = self.dynamic(fig.suptitle(" ", fontsize=9, y=0.99))
            fig.subplots_adjust(left=0.04, right=0.99, bottom=0.12, top=0.76, wspace=0.08)

        def update(self, beta, g, s_minus, s_plus, gamma):
            memory, key, prev = self.inputs["memory"], self.inputs["key"], self.inputs["prev"]
            s = shift_weights(s_minus, s_plus)  # (1, 3)
            beta_, g_, gamma_ = torch.tensor([[beta]]), torch.tensor([[g]]), torch.tensor([[gamma]])  # (1, 1)
            w_c = content_addressing(memory, key, beta_)
            w_g = interpolate(w_c, prev, g_)
            w_s = shift(w_g, s)
            w = sharpen(w_s, gamma_)
            torch.testing.assert_close(w, address(memory, key, beta_, g_, s, gamma_, prev))
            stages = [(w_c, r"$w^c$: content, $\beta$" f"={beta:g}"), (w_g, r"$w^g$: gate, $g$" f"={g:g}"),
                      (w_s, r"$\tilde w$: shift"), (w, r"$w$: sharpen, $\gamma$" f"={gamma:g}")]
            for bars, title, (weights, text) in zip(self.bars, self.titles, stages):
                for bar, v in zip(bars, weights[0].tolist()):
                    bar.set_height(v)
                title.set_text(text)
            self.suptitle.set_text("s(-1), s(0), s(+1) = " + ", ".join(f"{v:.2f}" for v in s[0])
                                   + "   (x axis: memory row)")

    return AddressingPainter()


def draw_addressing(beta: float, g: float, s_minus: float, s_plus: float, gamma: float):
    r"""The addressing widget's figure: the four stages $w^c$ (content, $\beta$), $w^g$ (gate $g$, last step's
    weighting in grey), $\tilde w$ (shift by ``shift_weights``) and $w$ (sharpen, $\gamma$) on
    ``widget_addressing_inputs``.

    Introduced in: chapter 5.
    """
    return _addressing_painter().figure(beta=beta, g=g, s_minus=s_minus, s_plus=s_plus, gamma=gamma)


def addressing_explorer():
    """Chapter 5's second widget: β, g, the shift weights and γ, each stage of the addressing drawn.

    Each move recomputes the four stages and redraws the bars and titles.

    Introduced in: chapter 5.
    """
    from .widgets import explore, slider

    return explore(_addressing_painter(),
                   slider("beta", [0.0, 1.0, 3.0, 10.0, 30.0, 100.0], value=10.0, label="β (key strength)",
                          live_step=0.5),
                   slider("g", [0.0, 0.25, 0.5, 0.75, 1.0], value=0.5, label="g (gate)", live_step=0.05),
                   slider("s_minus", [0.0, 0.25, 0.5, 0.75, 1.0], value=0.0, label="s(-1)", live_step=0.05),
                   slider("s_plus", [0.0, 0.25, 0.5, 0.75, 1.0], value=0.5, label="s(+1)", live_step=0.05),
                   slider("gamma", [1.0, 1.5, 2.0, 5.0, 20.0], value=1.0, label="γ (sharpening)", live_step=0.5),
                   title="NTM addressing: content, interpolation, shift, sharpening")
