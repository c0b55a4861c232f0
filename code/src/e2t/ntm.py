r"""The Neural Turing Machine's memory: soft read, erase-then-add write, and addressing (Graves et al. 2014, §3).

A memory is a batch of ``N`` rows of width ``M``; a head looks at it through a *weighting* ``w`` over the rows
(non-negative, summing to 1). The weighting is built in four small steps, each a function here:

1. ``content_addressing``: :math:`w^c_t(i) = \mathrm{softmax}_i(\beta_t \cos[k_t, M_t(i)])`
2. ``interpolate``:        :math:`w^g_t = g_t w^c_t + (1 - g_t) w_{t-1}`
3. ``shift``:              :math:`\tilde w_t(i) = \sum_j w^g_t(j)\, s_t(i - j)` (circular convolution)
4. ``sharpen``:            :math:`w_t(i) = \tilde w_t(i)^{\gamma_t} / \sum_j \tilde w_t(j)^{\gamma_t}`

``address`` chains them; its arguments after ``memory`` are keyword-only (``beta`` and ``gamma`` have the same
shape, so a positional swap would pass silently). Every function checks its parameters' ranges, whether or not
they require gradients: ``beta >= 0``, ``0 <= g <= 1``, ``gamma >= 1``, shift weights non-negative and summing to
1, ``erase`` in [0, 1]; a value outside raises ``ValueError`` naming the argument. Degenerate inputs give defined,
finite results: a zero key or an all-zero memory row has cosine 0, ``beta = 0`` gives a uniform weighting, and huge
``beta`` or ``gamma`` give a one-hot weighting, never NaN or inf.

Shapes (batch first): memory (B, N, M); weightings (B, N); key, erase, add (B, M); beta, g, gamma (B, 1);
shift weights s (B, K) with K odd.

The paper leaves two choices open that the book shows: how a head emits its shift (``shift`` takes the weights
over K moves, which the book's NTM gets from a softmax; ``scalar_shift`` turns the paper's other form, one
scalar, into such weights), and how several write heads combine in one step (``write_heads``: every head erases,
then every head adds, so their order does not matter).

Introduced in: chapter 5.
"""

from __future__ import annotations

import torch

from .checks import check_tensor

__all__ = ["content_addressing", "interpolate", "shift", "sharpen", "address", "read", "write", "write_heads",
           "scalar_shift", "cosine_rows"]

#: How far shift weights may sum from 1 (float32 softmax outputs sum to 1 within a few ulps).
SHIFT_SUM_TOLERANCE = 1e-4


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


def _check_range(name: str, x: torch.Tensor, *, low: float | None = None, high: float | None = None,
                 rule: str) -> None:
    """``x`` must lie in [low, high] (NaN fails too); checked on the values, with or without gradients."""
    with torch.no_grad():
        bad = torch.isnan(x)
        if low is not None:
            bad |= x < low
        if high is not None:
            bad |= x > high
        if bool(bad.any()):
            shown = x[bad].flatten()[:3].tolist()
            raise ValueError(f"{name} must satisfy {rule}, got {shown} (shape {tuple(x.shape)})")


def _check_weighting(name: str, w: torch.Tensor) -> tuple[int, int]:
    check_tensor(name, w, ndim=2, dtype_kind="float")
    return w.shape  # type: ignore[return-value]


# -- addressing -------------------------------------------------------------------------------------------------
def cosine_rows(memory: torch.Tensor, key: torch.Tensor, *, eps: float = 1e-8) -> torch.Tensor:
    r"""Cosine similarity of ``key`` with every memory row: :math:`k \cdot M(i) / (\|k\| \|M(i)\|)`.

    Each norm is floored at ``eps`` (and the norm's gradient at a zero vector is 0, not NaN): a zero key or an
    all-zero row has cosine 0 with everything.

    Shapes: memory (B, N, M), key (B, M); returns (B, N).
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
    """
    B, N, M = _check_memory(memory)
    _check_rows("key", key, B, M, f"memory rows have width {M}")
    _check_scalar("beta", beta, B)
    _check_range("beta", beta, low=0.0, rule="beta >= 0 (the key strength)")
    scores = beta * cosine_rows(memory, key)  # (B, N)
    return torch.softmax(scores, dim=-1)  # (B, N)


def interpolate(w_content: torch.Tensor, w_prev: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    r"""Interpolation gate (Graves et al. 2014, eq. 7): :math:`w^g_t = g_t w^c_t + (1 - g_t) w_{t-1}`.

    ``g`` in [0, 1]: 1 takes the content weighting, 0 keeps the previous (final) weighting ``w_prev``.

    Shapes: w_content (B, N), w_prev (B, N), g (B, 1); returns (B, N).
    """
    B, N = _check_weighting("w_content", w_content)
    _check_weighting("w_prev", w_prev)
    if w_prev.shape != w_content.shape:
        raise ValueError(f"w_prev has shape {tuple(w_prev.shape)} but w_content has shape {tuple(w_content.shape)}")
    _check_scalar("g", g, B)
    _check_range("g", g, low=0.0, high=1.0, rule="0 <= g <= 1 (the interpolation gate)")
    return g * w_content + (1 - g) * w_prev  # (B, N)


def shift(w: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    r"""Rotation by a soft shift (Graves et al. 2014, eq. 8), a circular convolution over the rows:

    .. math:: \tilde w_t(i) = \sum_{j=0}^{N-1} w^g_t(j)\, s_t(i - j \bmod N)

    ``s[:, k]`` is the weight of a move by ``d = k - K//2`` rows; ``d > 0`` moves the focus toward higher rows,
    wrapping around from row N-1 to row 0. So with K = 3, ``s = [0, 0, 1]`` moves a one-hot focus one row down
    (to the next row), ``[1, 0, 0]`` one row up, ``[0, 1, 0]`` keeps it. A one-element kernel (K = 1) is the
    identity up to its weight.

    Shapes: w (B, N), s (B, K) with K odd; returns (B, N).
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
    _check_range("s", s, low=0.0, rule="s >= 0 (shift weights are a distribution)")
    with torch.no_grad():
        off = (s.sum(-1) - 1).abs()  # (B,)
    if bool((off > SHIFT_SUM_TOLERANCE).any()):
        raise ValueError(f"s must sum to 1 over its K={K} shift weights (a distribution), got sums "
                         f"{s.sum(-1).detach().flatten()[:3].tolist()} (shape {tuple(s.shape)})")
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
    """
    B, N = _check_weighting("w", w)
    _check_scalar("gamma", gamma, B)
    _check_range("gamma", gamma, low=1.0, rule="gamma >= 1 (sharpening)")
    log_w = torch.log(w.clamp_min(torch.finfo(w.dtype).tiny))  # (B, N)
    log_w = log_w - log_w.max(dim=-1, keepdim=True).values.detach()  # (B, N), largest entry is 0
    scores = torch.where(w > 0, gamma * log_w, torch.finfo(w.dtype).min)  # (B, N); zeros stay exactly 0
    return torch.softmax(scores, dim=-1)  # (B, N)


def address(memory: torch.Tensor, *, key: torch.Tensor, beta: torch.Tensor, g: torch.Tensor, s: torch.Tensor,
            gamma: torch.Tensor, w_prev: torch.Tensor) -> torch.Tensor:
    r"""The whole addressing pipeline (Graves et al. 2014, Fig. 2): content, interpolation, shift, sharpening.

    .. math:: w_t = \mathrm{sharpen}(\mathrm{shift}(g_t\, w^c_t + (1 - g_t) w_{t-1},\ s_t),\ \gamma_t),\quad
              w^c_t = \mathrm{softmax}(\beta_t \cos[k_t, M_t(\cdot)])

    Every argument after ``memory`` is keyword-only.

    Shapes: memory (B, N, M), key (B, M), beta, g, gamma (B, 1), s (B, K), w_prev (B, N); returns w (B, N).
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
    """
    B, N, M = _check_memory(memory)
    _check_rows("w", w, B, N, f"memory has {N} rows")
    _check_rows("erase", erase, B, M, f"memory rows have width {M}")
    _check_rows("add", add, B, M, f"memory rows have width {M}")
    _check_range("erase", erase, low=0.0, high=1.0, rule="0 <= erase <= 1")
    w = w.unsqueeze(-1)  # (B, N, 1)
    erased = memory * (1 - w * erase.unsqueeze(1))  # (B, N, M)
    return erased + w * add.unsqueeze(1)  # (B, N, M)


def write_heads(memory: torch.Tensor, heads) -> torch.Tensor:
    r"""Several write heads in one step (Graves et al. 2014, §3.2): every head erases, then every head adds.

    .. math:: M_t(i) = M_{t-1}(i) \prod_h [\mathbf 1 - w^h_t(i) e^h_t] + \sum_h w^h_t(i)\, a^h_t

    The erasures multiply and the additions sum, so the order of the heads does not matter (writing one head after
    the other, with ``write``, would let a later head erase what an earlier one added).

    ``heads`` is a sequence of ``(w, erase, add)``; shapes as in ``write``. Returns a new memory (B, N, M).
    """
    heads = list(heads)
    if not heads:
        raise ValueError("heads must hold at least one (w, erase, add) triple, got none")
    for h, head in enumerate(heads):
        if len(head) != 3:
            raise ValueError(f"heads[{h}] must be a (w, erase, add) triple, got {len(head)} items")
    for w, erase, add in heads:  # every head erases (write with a zero add) ...
        memory = write(memory, w, erase, torch.zeros_like(add))
    for w, erase, add in heads:  # ... then every head adds (write with a zero erase)
        memory = write(memory, w, torch.zeros_like(erase), add)
    return memory


def scalar_shift(sigma: torch.Tensor, K: int) -> torch.Tensor:
    r"""Shift weights over the K moves ``-K//2..K//2`` from one scalar shift per sequence (Graves et al. 2014, §3.3.2).

    The paper's second way to emit a shift: a real number :math:`\sigma` between two whole moves puts weight
    :math:`1 - (\sigma - \lfloor\sigma\rfloor)` on :math:`\lfloor\sigma\rfloor` and the rest on the next move, e.g.
    :math:`\sigma = 6.7` gives :math:`s(6) = 0.3,\ s(7) = 0.7`. The result goes to ``shift``.

    Shapes: sigma (B,) float with ``-(K//2) <= sigma <= K//2``; returns (B, K), in sigma's dtype.
    """
    check_tensor("sigma", sigma, ndim=1, dtype_kind="float")
    if not isinstance(K, int) or K < 1 or K % 2 == 0:
        raise ValueError(f"K must be a positive odd number of moves, got {K!r}")
    half = K // 2
    _check_range("sigma", sigma, low=-half, high=half, rule=f"-{half} <= sigma <= {half} (K = {K})")
    low = torch.floor(sigma)  # (B,)
    frac = sigma - low  # (B,) in [0, 1)
    s = torch.zeros(sigma.shape[0], K, dtype=sigma.dtype, device=sigma.device)  # (B, K)
    index = (low + half).long()  # (B,) the column of the move floor(sigma)
    s.scatter_(1, index.unsqueeze(1), (1 - frac).unsqueeze(1))
    upper = (index + 1).clamp_max(K - 1)  # frac = 0 at sigma = half, so nothing spills over
    return s.scatter_add(1, upper.unsqueeze(1), torch.where(index + 1 < K, frac, torch.zeros_like(frac)).unsqueeze(1))
