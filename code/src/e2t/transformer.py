r"""The Transformer (Vaswani et al. 2017): multi-head attention, positions, encoder and decoder layers, the model.

The encoder-decoder works *without* any recurrence: self-attention relates every position to every other in one
step, and sinusoidal positional encodings tell the layers where each token sits. An encoder layer has two
sub-layers (multi-head self-attention, feed-forward); a decoder layer has three (masked self-attention,
encoder-decoder attention, feed-forward). Each sub-layer is wrapped in a residual connection and a LayerNorm:
``LayerNorm(x + Sublayer(x))`` as in the paper (post-norm), or ``x + Sublayer(LayerNorm(x))`` with
``norm_first=True`` (pre-norm, Xiong et al. 2020).

Masks follow the book's convention: ``torch.bool``, ``True`` = may attend (see ``e2t.masks``).

Introduced in: chapter 6.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import asdict, dataclass

import torch
from torch import nn

from .attention import scaled_dot_product_attention
from .checks import check_broadcast, check_tensor
from .masks import causal_mask, padding_mask

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

    Introduced in: chapter 6.
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

    Introduced in: chapter 6.
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

    Introduced in: chapter 6.
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

    Introduced in: chapter 6.
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

    Introduced in: chapter 6.
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

    Introduced in: chapter 6.
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

    Introduced in: chapter 6.
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


# --------------------------------------------------------------------------------------------------------------
# The whole model
# --------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransformerConfig:
    """Sizes of an encoder-decoder Transformer. The paper's base model is d_model=512, num_heads=8, 6+6 layers,
    d_ff=2048, dropout=0.1; the book's task needs far less.

    Introduced in: chapter 6.
    """

    src_vocab_size: int
    tgt_vocab_size: int
    d_model: int = 128
    num_heads: int = 4
    num_encoder_layers: int = 3
    num_decoder_layers: int = 3
    d_ff: int = 256
    dropout: float = 0.1
    max_len: int = 128
    norm_first: bool = False
    tie_embeddings: bool = True
    pad_id: int = 0

    def __post_init__(self):
        for name in ("src_vocab_size", "tgt_vocab_size", "d_model", "num_heads", "num_encoder_layers",
                     "num_decoder_layers", "d_ff", "max_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by num_heads={self.num_heads}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")


class Transformer(nn.Module):
    r"""The encoder-decoder Transformer. Build it with ``make_transformer(config)``.

    Token embeddings are scaled by $\sqrt{d_{model}}$ and added to sinusoidal positions; the decoder's output goes
    through a linear layer (tied to the target embedding when ``tie_embeddings``) to logits over the target vocabulary.
    The decoder's self-attention is causal; source padding is masked in the encoder and in encoder-decoder attention.

    Shapes: src (B, S), src_lengths (B,), tgt_in (B, T) -> logits (B, T, V).

    Introduced in: chapter 6.
    """

    def __init__(self, config: TransformerConfig):
        super().__init__()
        c = self.config = config
        self.src_embed = nn.Embedding(c.src_vocab_size, c.d_model, padding_idx=c.pad_id)
        self.tgt_embed = nn.Embedding(c.tgt_vocab_size, c.d_model, padding_idx=c.pad_id)
        self.register_buffer("positions", sinusoidal_positions(c.max_len, c.d_model), persistent=False)
        self.dropout = nn.Dropout(c.dropout)
        kw = dict(d_model=c.d_model, num_heads=c.num_heads, d_ff=c.d_ff, dropout=c.dropout, norm_first=c.norm_first)
        self.encoder = Encoder(num_layers=c.num_encoder_layers, **kw)
        self.decoder = Decoder(num_layers=c.num_decoder_layers, **kw)
        self.generator = nn.Linear(c.d_model, c.tgt_vocab_size)
        if c.tie_embeddings:
            self.generator.weight = self.tgt_embed.weight

    def embed(self, tokens: torch.Tensor, table: nn.Embedding, offset: int = 0) -> torch.Tensor:
        """Token embedding times sqrt(D) plus the positions ``offset .. offset+L-1``. (B, L) -> (B, L, D)."""
        L = tokens.shape[1]
        if offset + L > self.config.max_len:
            raise ValueError(f"sequence of {offset + L} positions exceeds max_len={self.config.max_len}")
        x = table(tokens) * math.sqrt(self.config.d_model)  # (B, L, D)
        return self.dropout(x + self.positions[offset:offset + L])  # (B, L, D)

    def encode(self, src: torch.Tensor, src_lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the encoder. (B, S), (B,) -> memory (B, S, D), source mask (B, 1, 1, S)."""
        check_tensor("src", src, ndim=2)
        B, S = src.shape
        src_lengths = torch.as_tensor(src_lengths, device=src.device)
        if src_lengths.shape != (B,):
            raise ValueError(f"src_lengths must have shape ({B},) for src of shape {tuple(src.shape)}, "
                             f"got {tuple(src_lengths.shape)}")
        src_mask = padding_mask(src_lengths, S)  # (B, 1, 1, S)
        return self.encoder(self.embed(src, self.src_embed), src_mask), src_mask  # (B, S, D), (B, 1, 1, S)

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        """Run the decoder on a whole target prefix (teacher forcing). (B, T), (B, S, D) -> logits (B, T, V)."""
        check_tensor("tgt_in", tgt_in, ndim=2)
        T = tgt_in.shape[1]
        x = self.embed(tgt_in, self.tgt_embed)  # (B, T, D)
        x = self.decoder(x, memory, self_mask=causal_mask(T, device=x.device), memory_mask=src_mask)  # (B, T, D)
        return self.generator(x)  # (B, T, V)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        memory, src_mask = self.encode(src, src_lengths)  # (B, S, D), (B, 1, 1, S)
        return self.decode(tgt_in, memory, src_mask)  # (B, T, V)

    # -- incremental decoding --------------------------------------------------------------------------------
    def init_state(self, src: torch.Tensor, src_lengths: torch.Tensor, *, cache: bool = True) -> dict:
        """Decoding state for ``step`` (``cache=True``) or ``step_without_cache``: a dict of batch-first tensors.

        With the cache it holds the source mask (B, 1, 1, S), the encoder-decoder keys and values of every layer
        ``cross_k``/``cross_v`` (B, N, H, S, Dh), computed once, and the self-attention keys/values of the positions
        decoded so far ``self_k``/``self_v`` (B, N, H, t, Dh), ``N`` = decoder layers. Without the cache it holds
        ``memory`` (B, S, D), the source mask and the tokens fed so far ``prefix`` (B, t).
        """
        memory, src_mask = self.encode(src, src_lengths)  # (B, S, D), (B, 1, 1, S)
        B = memory.shape[0]
        if not cache:
            return {"memory": memory, "src_mask": src_mask,
                    "prefix": torch.zeros(B, 0, dtype=torch.long, device=memory.device)}  # prefix (B, 0)
        kv = [layer.cross_attn.project_kv(memory, memory) for layer in self.decoder.layers]
        c = self.config
        empty = memory.new_zeros(B, c.num_decoder_layers, c.num_heads, 0, c.d_model // c.num_heads)  # (B, N, H, 0, Dh)
        return {"src_mask": src_mask,
                "cross_k": torch.stack([k for k, _ in kv], dim=1),  # (B, N, H, S, Dh)
                "cross_v": torch.stack([v for _, v in kv], dim=1),  # (B, N, H, S, Dh)
                "self_k": empty, "self_v": empty}

    def step(self, prev_tokens: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """One decoding step with the key/value cache: only the new position is computed.

        Shapes: prev_tokens (B,) -> log_probs (B, V) and the state with ``self_k``/``self_v`` one position longer.
        """
        t = state["self_k"].shape[3]
        x = self.embed(prev_tokens[:, None], self.tgt_embed, offset=t)  # (B, 1, D)
        ks, vs = [], []
        for i, layer in enumerate(self.decoder.layers):
            x, k, v = layer.step(x, self_k=state["self_k"][:, i], self_v=state["self_v"][:, i],
                                 cross_k=state["cross_k"][:, i], cross_v=state["cross_v"][:, i],
                                 memory_mask=state["src_mask"])  # (B, 1, D), (B, H, t+1, Dh) x 2
            ks.append(k)
            vs.append(v)
        logits = self.generator(self.decoder.norm(x))[:, 0]  # (B, V)
        new_state = dict(state, self_k=torch.stack(ks, dim=1), self_v=torch.stack(vs, dim=1))  # (B, N, H, t+1, Dh)
        return torch.log_softmax(logits, dim=-1), new_state

    def step_without_cache(self, prev_tokens: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """One decoding step that re-runs the decoder over the whole prefix (what the cache saves).

        Shapes: prev_tokens (B,) -> log_probs (B, V) and the state with ``prefix`` (B, t+1).
        """
        prefix = torch.cat([state["prefix"], prev_tokens[:, None]], dim=1)  # (B, t+1)
        logits = self.decode(prefix, state["memory"], state["src_mask"])[:, -1]  # (B, V)
        return torch.log_softmax(logits, dim=-1), dict(state, prefix=prefix)


def make_transformer(config: TransformerConfig) -> Transformer:
    """Build the encoder-decoder Transformer of ``config``, with Xavier-uniform initialised matrices.

    Introduced in: chapter 6.
    """
    if not isinstance(config, TransformerConfig):
        raise TypeError(f"config must be a TransformerConfig, got {type(config).__name__}")
    model = Transformer(config)
    for name, p in model.named_parameters():
        if p.dim() > 1 and "embed" not in name:
            nn.init.xavier_uniform_(p)
    nn.init.normal_(model.src_embed.weight, std=config.d_model ** -0.5)
    nn.init.normal_(model.tgt_embed.weight, std=config.d_model ** -0.5)
    with torch.no_grad():
        model.src_embed.weight[config.pad_id].zero_()
        model.tgt_embed.weight[config.pad_id].zero_()
    return model


@contextlib.contextmanager
def record_attention(model: nn.Module):
    """Collect the attention weights of every ``MultiHeadAttention`` inside ``model`` while the block runs.

    Yields a dict ``{module name: weights (B, H, T, S)}`` filled by forward hooks (the last call of each module
    wins); the hooks are removed on exit.

    Introduced in: chapter 6.
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


# --------------------------------------------------------------------------------------------------------------
# The book's task: English -> German number words
# --------------------------------------------------------------------------------------------------------------

#: The configuration trained on the number task (vocabulary sizes are filled in from the task).
TASK_CONFIG = dict(d_model=64, num_heads=4, num_encoder_layers=2, num_decoder_layers=2, d_ff=128, dropout=0.0,
                   max_len=64)
#: Training settings of the shipped checkpoint ``transformer_numbers``.
TASK_TRAINING = dict(steps=2000, batch_size=64, lr=3e-3, warmup=100, label_smoothing=0.1, seed=0)
CHECKPOINT = "transformer_numbers"


def task_config(task, **overrides) -> TransformerConfig:
    """The ``TransformerConfig`` for a ``NumberTask``: ``TASK_CONFIG`` with the task's vocabularies and pad id.

    Introduced in: chapter 6.
    """
    return TransformerConfig(src_vocab_size=len(task.src_vocab), tgt_vocab_size=len(task.tgt_vocab),
                             pad_id=task.tgt_vocab.pad, **{**TASK_CONFIG, **overrides})


def warmup_decay(step: int, *, warmup: int, total: int) -> float:
    r"""Learning-rate factor: linear warmup over ``warmup`` steps, then cosine decay to 0 at ``total``.

    The paper uses $d_{model}^{-0.5}\min(step^{-0.5}, step \cdot warmup^{-1.5})$ (warmup, then inverse square
    root); a cosine decay ends a short run at a small rate, which helps exact match.

    Introduced in: chapter 6.
    """
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.5 * (1.0 + math.cos(math.pi * progress))


def transformer_loss(model: Transformer, batch, *, label_smoothing: float = 0.0) -> torch.Tensor:
    """Token-level cross-entropy under teacher forcing, padding ignored, optional label smoothing.

    Introduced in: chapter 6.
    """
    logits = model(batch.src, batch.src_lengths, batch.tgt_in)  # (B, T, V)
    return torch.nn.functional.cross_entropy(logits.flatten(0, 1), batch.tgt_out.flatten(),
                                             ignore_index=model.config.pad_id, label_smoothing=label_smoothing)


def translator(model: Transformer, task, *, beam_size: int = 1, batch_size: int = 250, cache: bool = True,
               max_len: int | None = None):
    """A ``translate_fn(examples) -> token lists`` for ``e2t.evaluation.evaluate``: greedy (``beam_size=1``) or
    beam search from ``e2t.decoding``, with (``cache=True``) or without the key/value cache.

    Introduced in: chapter 6.
    """
    from .data.text import collate
    from .decoding import decode

    def translate(examples):
        model.eval()
        out = []
        for start in range(0, len(examples), batch_size):
            batch = collate(examples[start:start + batch_size], task)
            limit = max_len or min(model.config.max_len, 2 * batch.src.shape[1] + 10)
            with torch.no_grad():
                state = model.init_state(batch.src, batch.src_lengths, cache=cache)
            step = model.step if cache else model.step_without_cache
            ids = decode(step, state, batch_size=len(batch), bos=task.tgt_vocab.bos, eos=task.tgt_vocab.eos,
                         max_len=limit, beam_size=beam_size)
            out += [task.tgt_vocab.decode(seq) for seq in ids]
        return out

    return translate


def train_transformer(task, config: TransformerConfig | None = None, *, steps: int = TASK_TRAINING["steps"],
                      batch_size: int = TASK_TRAINING["batch_size"], lr: float = TASK_TRAINING["lr"],
                      warmup: int = TASK_TRAINING["warmup"], label_smoothing: float = TASK_TRAINING["label_smoothing"],
                      seed: int = TASK_TRAINING["seed"], max_seconds: float | None = None, eval_every: int | None = None,
                      progress: bool = True, valid_examples=None, keep_best: bool = False):
    """Train a Transformer on ``task`` (Adam with betas (0.9, 0.98), ``warmup_decay`` schedule); return
    ``(model, history)``. With ``eval_every`` the greedy exact match on ``valid_examples`` (default: the first 300
    of the validation split) is logged in ``history.evals``; with ``keep_best`` the returned model holds the
    weights of the evaluation with the highest validation exact match (ties: the later step), and
    ``history.best_step`` says which.

    Introduced in: chapter 6.
    """
    from . import set_seed
    from .data.text import batches
    from .evaluation import evaluate
    from .train import fit

    set_seed(seed)
    model = make_transformer(config or task_config(task))
    opt = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98), eps=1e-9)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: warmup_decay(s, warmup=warmup, total=steps))
    valid = list(task.valid[:300]) if valid_examples is None else list(valid_examples)
    best: dict = {"score": -1.0, "state": None, "index": None, "evals": 0}

    def eval_fn(m):
        score = evaluate(translator(m, task), valid)["overall"]["exact_match"]
        if keep_best and score >= best["score"]:
            best.update(score=score, state={k: v.detach().clone() for k, v in m.state_dict().items()},
                        index=best["evals"])
        best["evals"] += 1
        return {"valid_exact_match": score}

    def loss_fn(m, b):
        return transformer_loss(m, b, label_smoothing=label_smoothing)

    history = fit(model, loss_fn,
                  batches(task.train, task, batch_size=batch_size, seed=seed, epochs=None), steps=steps,
                  optimizer=opt, scheduler=sched, max_seconds=max_seconds,
                  eval_fn=eval_fn if eval_every else None, eval_every=eval_every, progress=progress,
                  desc="transformer")
    history.best_step = None
    if keep_best and best["state"] is not None:
        model.load_state_dict(best["state"])
        history.best_step = history.evals[best["index"]]["step"]
    return model, history


def load_transformer(task, name: str = CHECKPOINT, *, directory=None) -> tuple[Transformer, dict]:
    """The shipped Transformer trained on the number task, and its card.

    Introduced in: chapter 6.
    """
    from .checkpoints import load_checkpoint, read_card

    card = read_card(name, directory=directory)
    model = make_transformer(TransformerConfig(**card["config"]))
    load_checkpoint(model, name, directory=directory)
    return model.eval(), card


def checkpoint_job(*, quick: bool = False, directory=None, progress: bool = False, config_overrides=None,
                   training_overrides=None) -> dict:
    """Train the Transformer on the number task and save ``transformer_numbers`` with its card.

    ``python -m e2t.jobs transformer``. ``config_overrides`` and ``training_overrides`` change ``TASK_CONFIG`` and
    ``TASK_TRAINING`` (for experiments; the shipped checkpoint uses the defaults). The card holds greedy and beam exact match on the test set, overall and
    by source-length bucket, and on the test numbers of up to 10 source words.

    Introduced in: chapter 6.
    """
    import time

    from .checkpoints import save_checkpoint
    from .data.text import number_task
    from .evaluation import evaluate

    if quick and directory is None:
        raise ValueError("quick runs must write to a directory (they must not overwrite the shipped checkpoints)")
    task = number_task()
    training = dict(TASK_TRAINING, **(training_overrides or {}))
    if quick:
        training["steps"] = 5
    start = time.perf_counter()
    valid = list(task.valid[:20]) if quick else list(task.valid)
    model, history = train_transformer(task, task_config(task, **(config_overrides or {})), **training,
                                       eval_every=2 if quick else 250, progress=progress, valid_examples=valid,
                                       keep_best=True)
    wall = time.perf_counter() - start
    test = list(task.test[:20]) if quick else list(task.test)
    metrics = {"final_loss": round(history.losses[-1], 4)}
    for prefix, beam in (("", 1), ("beam4_", 4)):
        result = evaluate(translator(model, task, beam_size=beam), test, return_hypotheses=True)
        short = evaluate(translator(model, task, beam_size=beam), test, max_source_len=10)
        for key in ("exact_match", "token_accuracy", "bleu"):
            metrics[prefix + key] = round(result["overall"][key], 4)
        metrics[prefix + "exact_match_upto10"] = round(short["overall"]["exact_match"], 4)
        metrics[prefix + "exact_match_by_bucket"] = {k: round(v["exact_match"], 4)
                                                     for k, v in result["by_bucket"].items()}
        by_length = {}
        for n in sorted({len(e.src) for e in test}):
            idx = [i for i, e in enumerate(test) if len(e.src) == n]
            hits = sum(result["hypotheses"][i] == list(test[i].tgt) for i in idx)
            by_length[str(n)] = {"n": len(idx), "exact_match": round(hits / len(idx), 4)}
        metrics[prefix + "exact_match_by_length"] = by_length
    every = max(1, len(history.losses) // 40)
    curve = [[i + every, round(sum(history.losses[i:i + every]) / every, 4)]
             for i in range(0, len(history.losses) - every + 1, every)]
    lr_factors = [round(warmup_decay(i, warmup=training["warmup"], total=training["steps"]), 4)
                  for i in range(0, training["steps"], max(1, training["steps"] // 100))]
    card = {"name": CHECKPOINT, "command": "python -m e2t.jobs transformer" + (" (quick)" if quick else ""),
            "seed": training["seed"], "steps": history.best_step, "trained_steps": len(history.steps),
            "wall_time_s": round(wall, 1), "training": training, "config": asdict(model.config),
            "metrics": metrics, "valid_curve": history.evals, "curve": curve, "lr_factor_every_1pct": lr_factors,
            "selection_rule": "the evaluation (every 250 steps, the whole validation split) with the highest "
                              "validation exact match, ties to the later step; test never consulted. The "
                              "hyperparameters (TASK_CONFIG, TASK_TRAINING) were fixed before this run",
            "data": "e2t.data.text.number_task() (seed 0): train 20000, valid 1000, test 2000"}
    save_checkpoint(model, CHECKPOINT, card, directory=directory)
    return card


# --------------------------------------------------------------------------------------------------------------
# Chapter 6's widget: masks in self-attention
# --------------------------------------------------------------------------------------------------------------

MASK_KINDS = ("none", "causal", "padding", "both")


def example_mask(kind: str, length: int, padded: int) -> torch.Tensor:
    """The masking widget's mask over ``padded`` positions of which the first ``length`` are real tokens:
    ``kind`` is "none", "causal", "padding" or "both" (causal & padding). True = may attend.

    Shapes: () -> (T, S) with T = S = ``padded``.

    Introduced in: chapter 6.
    """
    if kind not in MASK_KINDS:
        raise ValueError(f"kind must be one of {MASK_KINDS}, got {kind!r}")
    if not 1 <= length <= padded:
        raise ValueError(f"need 1 <= length <= padded, got length={length}, padded={padded}")
    allowed = torch.ones(padded, padded, dtype=torch.bool)  # (T, S)
    if kind in ("causal", "both"):
        allowed &= causal_mask(padded)
    if kind in ("padding", "both"):
        allowed &= padding_mask(torch.tensor([length]), padded)[0, 0]  # (S,) broadcast over queries
    return allowed


def masking_demo(max_len: int = 8) -> tuple[MultiHeadAttention, torch.Tensor]:
    """The masking widget's small random attention layer (D = 16, 2 heads, seed 0) and its input: random token
    vectors plus sinusoidal positions. The global random state is left as it was.

    Shapes: () -> (module, x (1, max_len, 16)).

    Introduced in: chapter 6.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        attn = MultiHeadAttention(d_model=16, num_heads=2).eval()
        x = torch.randn(1, max_len, 16) + sinusoidal_positions(max_len, 16)  # (1, max_len, D)
    return attn, x


def _masking_painter():
    from .widgets import Painter

    class MaskingPainter(Painter):
        """Layout key: (kind, length, padded), i.e. the tick labels; the mask and the weights are recomputed."""

        figsize = (8, 3.2)

        def build(self, fig):
            self.attn, self.x = masking_demo()
            self.axes = fig.subplots(1, 2)
            self.mask_image = self.dynamic(self.axes[0].imshow([[0]], cmap="Greens", vmin=0, vmax=1.5,
                                                               aspect="auto", interpolation="nearest"))
            self.weight_image = self.dynamic(self.axes[1].imshow([[0.0]], cmap="viridis", vmin=0, vmax=1,
                                                                 aspect="auto", interpolation="nearest"))
            fig.colorbar(self.weight_image, ax=self.axes[1], fraction=0.06, pad=0.03)
            self.mask_title = self.dynamic(self.axes[0].set_title(" ", y=1.0))
            self.axes[1].set_title("attention weights, head 1", y=1.0)
            self.axes[0].set_xlabel("key")
            self.axes[1].set_xlabel("key")
            self.axes[1].set_ylabel("query")
            fig.subplots_adjust(left=0.13, right=0.93, bottom=0.2, top=0.9, wspace=0.45)

        def update(self, kind, length, padded):
            length = min(length, padded)
            mask = example_mask(kind, length, padded)  # (T, S)
            x = self.x[:, :padded]  # (1, T, D)
            with torch.no_grad():
                _, w = self.attn(x, x, x, mask)  # (1, H, T, S)
            self.mask_image.set_data(mask.int().numpy())
            self.weight_image.set_data(w[0, 0].numpy())
            self.mask_title.set_text(f"mask '{kind}' (green = may attend)")
            extent = (-0.5, padded - 0.5, padded - 0.5, -0.5)
            for ax, image in zip(self.axes, (self.mask_image, self.weight_image)):
                image.set_extent(extent)
                ax.set_xlim(-0.5, padded - 0.5)
                ax.set_ylim(padded - 0.5, -0.5)
            return kind, length, padded

        def layout(self, key):
            kind, length, padded = key
            mask = example_mask(kind, length, padded)  # (T, S)
            keys = [f"x{i}" for i in range(length)] + ["pad"] * (padded - length)
            rows = [f"q{t} sees {int(mask[t].sum())}" for t in range(padded)]
            for ax, y_labels in zip(self.axes, (rows, keys)):
                ax.set_xticks(range(padded), keys, rotation=60, ha="right")
                ax.set_yticks(range(padded), y_labels)

    return MaskingPainter()


def draw_masking(kind: str = "both", length: int = 4, padded: int = 6):
    """The masking widget's figure: the boolean mask (rows are queries, columns keys, each row labelled with how
    many keys it may see) and the weights of one head of ``masking_demo``'s attention under that mask.

    Introduced in: chapter 6.
    """
    return _masking_painter().figure(kind=kind, length=length, padded=padded)


def masking_explorer():
    """Chapter 6's widget: the mask kind, the real length and the padded length.

    Each move recomputes the mask and the attention weights and redraws the two matrices; the axes and labels of
    each combination are drawn once, when the explorer is built.

    Introduced in: chapter 6.
    """
    from .widgets import choice, explore, slider

    painter = _masking_painter()
    for kind in MASK_KINDS:
        for length in (2, 4, 6):
            for padded in (6, 8):
                painter.png(kind=kind, length=length, padded=padded)
    return explore(painter, choice("kind", list(MASK_KINDS), value="both", label="mask"),
                   slider("length", [2, 4, 6], value=4, label="sequence length"),
                   slider("padded", [6, 8], value=6, label="padded length"),
                   title="Masks in self-attention")
