r"""How much each source word influences each output step of a translation model: gradient saliency.

Under teacher forcing a translation model gives $\log p(y_t \mid y_{<t}, x)$ for every target step $t$. Let
$\mathbf{e}_i$ be the vector the source embedding layer hands to the encoder for source word $i$. The influence of
word $i$ on step $t$ is the length of a gradient,

$$I_{t,i} = \Big\| \frac{\partial \log p(y_t \mid y_{<t}, x)}{\partial \mathbf{e}_i} \Big\|_2 ,$$

first-derivative saliency (Simonyan et al. 2014 for images, Li et al. 2016 for words). It is a local measure: how
far a small change of $\mathbf{e}_i$ would move the log-probability of the right word, not a proof of what the
model "uses". It needs nothing but ``forward(src, src_lengths, tgt_in) -> logits`` and the module that embeds the
source, so the fixed-vector seq2seq and RNNsearch are measured the same way. ``influence_shares`` turns each row
into shares that sum to 1; ``peak_share`` and ``row_similarity`` summarise a matrix: how much of a row its largest
share holds, and how alike the rows of different output steps are.

Chapter 3 uses it to show the second fault the source document names in the fixed-vector design: that every input
contributes the same to every output.

Introduced in: chapter 3.
"""

from __future__ import annotations

import torch
from torch import nn

from e2t.checks import check_tensor

__all__ = ["source_influence", "influence_shares", "peak_share", "row_similarity"]


def source_influence(model: nn.Module, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor,
                     tgt_out: torch.Tensor, *, embedding: nn.Module, pad_id: int | None = None) -> torch.Tensor:
    r"""The influence $I_{t,i}$ of every source word $i$ on every output step $t$, for a batch of examples.

    ``embedding`` is the module whose output is the source words' vectors (``model.src_embed`` of RNNsearch,
    ``model.encoder.embed`` of ``e2t.seq2seq.Seq2Seq``); a forward hook replaces that output by a leaf tensor and
    ``torch.autograd.grad`` differentiates $\log p(y_t)$ with respect to it, one output step at a time. The model
    runs in eval mode (its mode is restored afterwards) and no parameter's ``.grad`` is touched. The examples of a
    batch must not interact (true of every model of the book), so one backward pass per step serves the whole
    batch. Rows of target padding (``tgt_out == pad_id``, the model's ``config.pad_id`` by default) and columns of
    source padding are 0.

    Shapes: src (B, S) long, src_lengths (B,), tgt_in and tgt_out (B, T) long -> influence (B, T, S).
    """
    for name, ids in (("src", src), ("tgt_in", tgt_in), ("tgt_out", tgt_out)):
        check_tensor(name, ids, ndim=2)
        if ids.dtype != torch.long:
            raise TypeError(f"{name} must hold token ids (torch.long), got dtype {ids.dtype}")
    B, S = src.shape
    if src_lengths.shape != (B,):
        raise ValueError(f"src_lengths must be (B,) = ({B},), got shape {tuple(src_lengths.shape)}")
    if tgt_in.shape != tgt_out.shape or tgt_in.shape[0] != B:
        raise ValueError(f"tgt_in and tgt_out must both be (B, T) with B = {B}, got {tuple(tgt_in.shape)} and "
                         f"{tuple(tgt_out.shape)}")
    if pad_id is None:
        pad_id = model.config.pad_id
    captured: list[torch.Tensor] = []

    def keep(module, inputs, output):
        leaf = output.detach().requires_grad_(True)  # (B, S, E): the tensor the gradient is taken against
        captured.append(leaf)
        return leaf

    handle = embedding.register_forward_hook(keep)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():  # also when called under torch.no_grad()
            logits = model(src, src_lengths, tgt_in)  # (B, T, V)
            if len(captured) != 1:
                raise ValueError(f"embedding ran {len(captured)} times in one forward pass; pass the module that "
                                 "embeds the source, and only the source")
            x = captured[0]  # (B, S, E)
            if x.shape[:2] != (B, S):
                raise ValueError(f"embedding gave shape {tuple(x.shape)}, but the source is {(B, S)}: pass the "
                                 "source embedding")
            T = logits.shape[1]
            real = tgt_out != pad_id  # (B, T)
            logp = torch.log_softmax(logits, dim=-1).gather(-1, tgt_out.unsqueeze(-1)).squeeze(-1)  # (B, T)
            influence = torch.zeros(B, T, S, dtype=x.dtype, device=x.device)
            steps = [t for t in range(T) if bool(real[:, t].any())]
            for k, t in enumerate(steps):
                (grad,) = torch.autograd.grad(logp[:, t][real[:, t]].sum(), x,
                                              retain_graph=k < len(steps) - 1)  # (B, S, E)
                influence[:, t] = grad.norm(dim=-1)  # (B, S)
    finally:
        handle.remove()
        model.train(was_training)
    in_source = torch.arange(S, device=x.device)[None, :] < src_lengths.to(x.device)[:, None]  # (B, S)
    return influence * real[:, :, None] * in_source[:, None, :]  # (B, T, S)


def influence_shares(influence: torch.Tensor) -> torch.Tensor:
    r"""Each row divided by its sum, $I_{t,i} / \sum_{i'} I_{t,i'}$: the share of step $t$'s influence that word
    $i$ has. A row of zeros (padding) stays zeros.

    Shapes: influence (..., T, S) -> shares (..., T, S).
    """
    check_tensor("influence", influence, ndim=(2, 3), dtype_kind="float")
    if (influence < 0).any():
        raise ValueError("influence must be non-negative (it holds gradient norms)")
    total = influence.sum(dim=-1, keepdim=True)  # (..., T, 1)
    return torch.where(total > 0, influence / total.clamp_min(torch.finfo(influence.dtype).tiny), 0.0)


def _rows(shares: torch.Tensor) -> torch.Tensor:
    check_tensor("shares", shares, ndim=(2, 3), dtype_kind="float")
    return shares.unsqueeze(0) if shares.dim() == 2 else shares  # (B, T, S)


def peak_share(shares: torch.Tensor) -> torch.Tensor:
    """The mean, over the real rows (those that are not all zero) of each matrix, of the row's largest share: $1$
    when every step is influenced by one word only, $1/S$ when all $S$ words count the same.

    Shapes: shares (B, T, S) or (T, S) -> (B,) (a 0-d tensor for one matrix).
    """
    rows = _rows(shares)  # (B, T, S)
    real = rows.sum(dim=-1) > 0  # (B, T)
    if not bool(real.any(dim=-1).all()):
        raise ValueError("every matrix needs at least one row that is not all zero")
    peaks = (rows.max(dim=-1).values * real).sum(dim=-1) / real.sum(dim=-1)  # (B,)
    return peaks if shares.dim() == 3 else peaks[0]


def row_similarity(shares: torch.Tensor) -> torch.Tensor:
    r"""How alike the rows of different output steps are: the mean cosine similarity
    $\cos(\mathbf{r}_t, \mathbf{r}_{t'})$ over all pairs $t \ne t'$ of real rows; $1$ when every step has the
    same profile over the source. NaN for a matrix with fewer than two real rows.

    Shapes: shares (B, T, S) or (T, S) -> (B,) (a 0-d tensor for one matrix).
    """
    rows = _rows(shares)  # (B, T, S)
    real = (rows.sum(dim=-1) > 0).to(rows.dtype)  # (B, T)
    unit = nn.functional.normalize(rows, dim=-1)  # (B, T, S), zero rows stay zero
    cos = unit @ unit.transpose(1, 2)  # (B, T, T)
    off_diagonal = 1 - torch.eye(rows.shape[1], dtype=rows.dtype, device=rows.device)  # (T, T)
    pairs = real[:, :, None] * real[:, None, :] * off_diagonal  # (B, T, T)
    n = pairs.sum(dim=(1, 2))  # (B,)
    mean = torch.where(n > 0, (cos * pairs).sum(dim=(1, 2)) / n.clamp_min(1), torch.nan)  # (B,)
    return mean if shares.dim() == 3 else mean[0]
