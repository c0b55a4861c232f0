r"""The Transformer's parts (Vaswani et al. 2017): multi-head attention, positions, encoder and decoder layers.

The encoder-decoder works *without* any recurrence: self-attention relates every position to every other in one
step, and sinusoidal positional encodings tell the layers where each token sits. An encoder layer has two
sub-layers (multi-head self-attention, feed-forward); a decoder layer has three (masked self-attention,
encoder-decoder attention, feed-forward). Each sub-layer is wrapped in a residual connection and a LayerNorm:
``LayerNorm(x + Sublayer(x))`` as in the paper (post-norm), or ``x + Sublayer(LayerNorm(x))`` with
``norm_first=True`` (pre-norm, Xiong et al. 2020).

Masks follow the book's convention: ``torch.bool``, ``True`` = may attend (see ``e2t.masks``). The whole
encoder-decoder model, built from these parts, is ``e2t.transformer_model.Transformer``.

Introduced in: chapter 6.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from .attention import scaled_dot_product_attention
from .checks import check_broadcast, check_tensor

# --------------------------------------------------------------------------------------------------------------
# Multi-head attention and positions
# --------------------------------------------------------------------------------------------------------------


class MultiHeadAttention(nn.Module):
    r"""Multi-head scaled dot-product attention (Vaswani et al. 2017, section 3.2.2).

    $$\mathrm{MultiHead}(Q, K, V) = [\mathrm{head}_1; \dots; \mathrm{head}_h] W^O,\quad
    \mathrm{head}_i = \mathrm{Attention}(Q W^Q_i, K W^K_i, V W^V_i)$$

    The ``h`` projections ``W^Q_i`` (each ``D x Dh``) are stored side by side in one ``nn.Linear`` ``W_q``
    (``D x D``, ``Dh = D / h``), and likewise ``W_k``, ``W_v``; ``W_o`` maps the concatenated heads back to ``D``.
    Dropout (if any) acts on the attention weights, as in ``torch.nn.MultiheadAttention``; the returned weights are
    the ones before dropout. A query with no key allowed by ``mask`` gets zero weights, so its heads output zeros
    and the module outputs ``W_o``'s bias (never NaN).

    Shapes: query (B, T, D), key (B, S, D), value (B, S, D); mask bool, ``True`` = may attend, (T, S) or 4-D and
    broadcastable to (B, H, T, S) (padding masks (B, 1, 1, S), causal masks (T, T));
    returns out (B, T, D) and weights (B, H, T, S).
    """

    def __init__(self, *, d_model: int, num_heads: int, dropout: float = 0.0):
        super().__init__()
        if not isinstance(d_model, int) or not isinstance(num_heads, int) or d_model < 1 or num_heads < 1:
            raise ValueError(f"d_model and num_heads must be positive ints, got {d_model!r} and {num_heads!r}")
        if d_model % num_heads:
            raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
        self.d_model, self.num_heads, self.d_head = d_model, num_heads, d_model // num_heads
        self.W_q = nn.Linear(d_model, d_model)
        self.W_k = nn.Linear(d_model, d_model)
        self.W_v = nn.Linear(d_model, d_model)
        self.W_o = nn.Linear(d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def split_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, L, D) -> (B, H, L, Dh): head ``i`` gets columns ``i*Dh .. (i+1)*Dh - 1``."""
        B, L, _ = x.shape
        return x.view(B, L, self.num_heads, self.d_head).transpose(1, 2)  # (B, H, L, Dh)

    def merge_heads(self, x: torch.Tensor) -> torch.Tensor:
        """(B, H, L, Dh) -> (B, L, D): the concatenation [head_1; ...; head_h]."""
        B, H, L, Dh = x.shape
        return x.transpose(1, 2).reshape(B, L, H * Dh)  # (B, L, D)

    def _check(self, name: str, x: torch.Tensor) -> None:
        check_tensor(name, x, ndim=3, dtype_kind="float")
        if x.shape[-1] != self.d_model:
            raise ValueError(f"{name} has width {x.shape[-1]} but d_model is {self.d_model}: shape {tuple(x.shape)}")

    def project_kv(self, key: torch.Tensor, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values split into heads: ``K W^K_i`` and ``V W^V_i`` for every head ``i``.

        Shapes: key (B, S, D), value (B, S, D) -> k (B, H, S, Dh), v (B, H, S, Dh).
        """
        self._check("key", key)
        self._check("value", value)
        if key.shape[:2] != value.shape[:2]:
            raise ValueError(f"key and value must have the same batch and length, got shapes {tuple(key.shape)} "
                             f"and {tuple(value.shape)}")
        return self.split_heads(self.W_k(key)), self.split_heads(self.W_v(value))  # (B, H, S, Dh) each

    def attend(self, query: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
               mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Attention of ``query`` over keys and values already projected and split (from ``project_kv`` or a cache).

        Shapes: query (B, T, D), k (B, H, S, Dh), v (B, H, S, Dh) -> out (B, T, D), weights (B, H, T, S).
        """
        self._check("query", query)
        B, T, _ = query.shape
        if k.dim() != 4 or k.shape[0] != B or k.shape[1] != self.num_heads or k.shape != v.shape:
            raise ValueError(f"k and v must both be (B={B}, H={self.num_heads}, S, Dh={self.d_head}), got shapes "
                             f"{tuple(k.shape)} and {tuple(v.shape)}")
        S = k.shape[2]
        if mask is not None:
            check_tensor("mask", mask, ndim=(2, 4), dtype_kind="bool")
            check_broadcast("mask", mask.shape, "the attention weights (B, H, T, S)", (B, self.num_heads, T, S))
        q = self.split_heads(self.W_q(query))  # (B, H, T, Dh)
        heads, weights = scaled_dot_product_attention(q, k, v, mask)  # (B, H, T, Dh), (B, H, T, S)
        if self.training and self.dropout.p > 0:
            heads = self.dropout(weights) @ v  # (B, H, T, Dh)
        return self.W_o(self.merge_heads(heads)), weights  # (B, T, D), (B, H, T, S)

    def forward(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        if mask is not None and mask.dim() == 3:
            raise ValueError(f"mask has shape {tuple(mask.shape)}: give (T, S) or 4-D (B, H, T, S) masks; a (B, T, S)"
                             " mask needs a head axis, mask[:, None]")
        if key.dim() == 3 and query.dim() == 3 and key.shape[0] != query.shape[0]:
            raise ValueError(f"query and key must have the same batch size, got shapes {tuple(query.shape)} and "
                             f"{tuple(key.shape)}")
        k, v = self.project_kv(key, value)  # (B, H, S, Dh) each
        return self.attend(query, k, v, mask)  # (B, T, D), (B, H, T, S)


def sinusoidal_positions(max_len: int, d_model: int) -> torch.Tensor:
    r"""Sinusoidal positional encodings (Vaswani et al. 2017, section 3.5).

    $$PE_{(pos, 2i)} = \sin(pos / 10000^{2i/d_{model}}),\quad PE_{(pos, 2i+1)} = \cos(pos / 10000^{2i/d_{model}})$$

    Shapes: returns (max_len, d_model).
    """
    for name, n in (("max_len", max_len), ("d_model", d_model)):
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    pos = torch.arange(max_len, dtype=torch.float64)[:, None]  # (L, 1)
    two_i = torch.arange(0, d_model, 2, dtype=torch.float64)  # (ceil(D/2),)
    angle = pos / 10000.0 ** (two_i / d_model)  # (L, ceil(D/2))
    pe = torch.zeros(max_len, d_model, dtype=torch.float64)  # (L, D)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d_model // 2])
    return pe.to(torch.get_default_dtype())


# --------------------------------------------------------------------------------------------------------------
# Layers and stacks
# --------------------------------------------------------------------------------------------------------------


class FeedForward(nn.Module):
    r"""Position-wise feed-forward network: $\mathrm{FFN}(x) = \max(0, x W_1 + b_1) W_2 + b_2$ (eq. 2).

    Shapes: x (B, L, D) -> (B, L, D).
    """

    def __init__(self, *, d_model: int, d_ff: int, dropout: float = 0.0):
        super().__init__()
        self.W_1 = nn.Linear(d_model, d_ff)
        self.W_2 = nn.Linear(d_ff, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.W_2(self.dropout(torch.relu(self.W_1(x))))  # (B, L, D)


class EncoderLayer(nn.Module):
    r"""One encoder layer: multi-head self-attention, then feed-forward; each sub-layer with residual + LayerNorm.

    Post-norm (the paper): $x \leftarrow \mathrm{LayerNorm}(x + \mathrm{Sublayer}(x))$.
    Pre-norm (``norm_first=True``): $x \leftarrow x + \mathrm{Sublayer}(\mathrm{LayerNorm}(x))$.

    Shapes: x (B, S, D), mask bool broadcastable to (B, H, S, S) (e.g. a padding mask (B, 1, 1, S)) -> (B, S, D).
    """

    def __init__(self, *, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model=d_model, num_heads=num_heads, dropout=dropout)
        self.feed_forward = FeedForward(d_model=d_model, d_ff=d_ff, dropout=dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        if self.norm_first:
            h = self.norm1(x)
            x = x + self.dropout(self.self_attn(h, h, h, mask)[0])  # (B, S, D)
            return x + self.dropout(self.feed_forward(self.norm2(x)))  # (B, S, D)
        x = self.norm1(x + self.dropout(self.self_attn(x, x, x, mask)[0]))  # (B, S, D)
        return self.norm2(x + self.dropout(self.feed_forward(x)))  # (B, S, D)


class DecoderLayer(nn.Module):
    r"""One decoder layer with **three** sub-layers: masked self-attention, encoder-decoder attention (queries from
    the decoder, keys and values from the encoder output ``memory``), and feed-forward; each with residual +
    LayerNorm (post-norm, or pre-norm with ``norm_first=True``).

    ``forward`` runs all target positions at once (training); ``step`` runs one new position against cached keys and
    values of the earlier ones (incremental decoding) and returns the grown cache.

    Shapes: x (B, T, D), memory (B, S, D), self_mask broadcastable to (B, H, T, T) (the causal mask (T, T)),
    memory_mask broadcastable to (B, H, T, S) (the source padding mask (B, 1, 1, S)) -> (B, T, D).
    """

    def __init__(self, *, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1, norm_first: bool = False):
        super().__init__()
        self.norm_first = norm_first
        self.self_attn = MultiHeadAttention(d_model=d_model, num_heads=num_heads, dropout=dropout)
        self.cross_attn = MultiHeadAttention(d_model=d_model, num_heads=num_heads, dropout=dropout)
        self.feed_forward = FeedForward(d_model=d_model, d_ff=d_ff, dropout=dropout)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)
        self.dropout = nn.Dropout(dropout)

    def _sublayer(self, x: torch.Tensor, norm: nn.LayerNorm, fn) -> torch.Tensor:
        if self.norm_first:
            return x + self.dropout(fn(norm(x)))  # (B, T, D)
        return norm(x + self.dropout(fn(x)))  # (B, T, D)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, *, self_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        x = self._sublayer(x, self.norm1, lambda h: self.self_attn(h, h, h, self_mask)[0])  # (B, T, D)
        x = self._sublayer(x, self.norm2, lambda h: self.cross_attn(h, memory, memory, memory_mask)[0])  # (B, T, D)
        return self._sublayer(x, self.norm3, self.feed_forward)  # (B, T, D)

    def step(self, x: torch.Tensor, *, self_k: torch.Tensor, self_v: torch.Tensor, cross_k: torch.Tensor,
             cross_v: torch.Tensor, memory_mask: torch.Tensor | None = None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One new position ``x`` attends to the cached self-attention keys/values plus its own.

        The new position is the last one, so it may see every cached position: no causal mask is needed.

        Shapes: x (B, 1, D), self_k/self_v (B, H, t, Dh), cross_k/cross_v (B, H, S, Dh)
        -> x (B, 1, D), self_k/self_v (B, H, t+1, Dh).
        """
        new = {}

        def self_attention(h):
            k, v = self.self_attn.project_kv(h, h)  # (B, H, 1, Dh) each
            new["k"] = torch.cat([self_k, k], dim=2)  # (B, H, t+1, Dh)
            new["v"] = torch.cat([self_v, v], dim=2)  # (B, H, t+1, Dh)
            return self.self_attn.attend(h, new["k"], new["v"])[0]  # (B, 1, D)

        x = self._sublayer(x, self.norm1, self_attention)  # (B, 1, D)
        x = self._sublayer(x, self.norm2, lambda h: self.cross_attn.attend(h, cross_k, cross_v, memory_mask)[0])
        return self._sublayer(x, self.norm3, self.feed_forward), new["k"], new["v"]  # (B, 1, D), cache


class Encoder(nn.Module):
    """A stack of ``num_layers`` encoder layers (plus a final LayerNorm when pre-norm).

    Shapes: x (B, S, D), mask broadcastable to (B, H, S, S) -> (B, S, D).
    """

    def __init__(self, *, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(d_model=d_model, num_heads=num_heads, d_ff=d_ff, dropout=dropout,
                                                 norm_first=norm_first) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, mask)  # (B, S, D)
        return self.norm(x)  # (B, S, D)


class Decoder(nn.Module):
    """A stack of ``num_layers`` decoder layers (plus a final LayerNorm when pre-norm).

    Shapes: x (B, T, D), memory (B, S, D) -> (B, T, D).
    """

    def __init__(self, *, num_layers: int, d_model: int, num_heads: int, d_ff: int, dropout: float = 0.1,
                 norm_first: bool = False):
        super().__init__()
        self.layers = nn.ModuleList(DecoderLayer(d_model=d_model, num_heads=num_heads, d_ff=d_ff, dropout=dropout,
                                                 norm_first=norm_first) for _ in range(num_layers))
        self.norm = nn.LayerNorm(d_model) if norm_first else nn.Identity()

    def forward(self, x: torch.Tensor, memory: torch.Tensor, *, self_mask: torch.Tensor | None = None,
                memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x, memory, self_mask=self_mask, memory_mask=memory_mask)  # (B, T, D)
        return self.norm(x)  # (B, T, D)


@contextlib.contextmanager
def record_attention(model: nn.Module):
    """Collect the attention weights of every ``MultiHeadAttention`` inside ``model`` while the block runs.

    Yields a dict ``{module name: weights (B, H, T, S)}`` filled by forward hooks (the last call of each module
    wins); the hooks are removed on exit.
    """
    weights: dict[str, torch.Tensor] = {}
    handles = []
    for name, module in model.named_modules():
        if isinstance(module, MultiHeadAttention):
            def hook(mod, args, output, name=name):
                weights[name] = output[1].detach()
            handles.append(module.register_forward_hook(hook))
    try:
        yield weights
    finally:
        for h in handles:
            h.remove()
