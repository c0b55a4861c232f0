r"""The encoder-decoder Transformer (Vaswani et al. 2017, Fig. 1), built from the parts in ``e2t.transformer``.

Source tokens are embedded, scaled by $\sqrt{d_{model}}$ and added to sinusoidal positions; the encoder stack reads
them with self-attention (source padding masked); the decoder stack reads the target prefix with *causal*
self-attention, then attends to the encoder's output (encoder-decoder attention, padding masked), then a
feed-forward sub-layer. A linear layer, tied to the target embedding, gives the logits.

The model has the interface of every sequence model of the book: ``start(src, src_lengths) -> state``,
``step(prev_tokens, state) -> (logits, state)`` (with a key/value cache), ``forward(src, src_lengths, tgt_in) ->
logits``.

Introduced in: chapter 6.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from .checks import check_tokens
from .masks import causal_mask, padding_mask
from .transformer import Decoder, Encoder, sinusoidal_positions

__all__ = ["TransformerConfig", "Transformer", "make_transformer"]


@dataclass(frozen=True)
class TransformerConfig:
    """Sizes of an encoder-decoder Transformer. The paper's base model is d_model=512, num_heads=8, 6+6 layers,
    d_ff=2048, dropout=0.1; the book's task needs far less.
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
        check_tokens("src", src, self.config.src_vocab_size)
        B, S = src.shape
        src_lengths = torch.as_tensor(src_lengths, device=src.device)
        if src_lengths.shape != (B,):
            raise ValueError(f"src_lengths must have shape ({B},) for src of shape {tuple(src.shape)}, "
                             f"got {tuple(src_lengths.shape)}")
        src_mask = padding_mask(src_lengths, S)  # (B, 1, 1, S)
        return self.encoder(self.embed(src, self.src_embed), src_mask), src_mask  # (B, S, D), (B, 1, 1, S)

    def decode(self, tgt_in: torch.Tensor, memory: torch.Tensor, src_mask: torch.Tensor) -> torch.Tensor:
        """Run the decoder on a whole target prefix (teacher forcing). (B, T), (B, S, D) -> logits (B, T, V)."""
        check_tokens("tgt_in", tgt_in, self.config.tgt_vocab_size)
        T = tgt_in.shape[1]
        x = self.embed(tgt_in, self.tgt_embed)  # (B, T, D)
        x = self.decoder(x, memory, self_mask=causal_mask(T, device=x.device), memory_mask=src_mask)  # (B, T, D)
        return self.generator(x)  # (B, T, V)

    def forward(self, src: torch.Tensor, src_lengths: torch.Tensor, tgt_in: torch.Tensor) -> torch.Tensor:
        memory, src_mask = self.encode(src, src_lengths)  # (B, S, D), (B, 1, 1, S)
        return self.decode(tgt_in, memory, src_mask)  # (B, T, V)

    # -- incremental decoding --------------------------------------------------------------------------------
    def start(self, src: torch.Tensor, src_lengths: torch.Tensor, *, cache: bool = True) -> dict:
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

        Shapes: prev_tokens (B,) -> logits (B, V) and the state with ``self_k``/``self_v`` one position longer.
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
        return logits, new_state

    def step_without_cache(self, prev_tokens: torch.Tensor, state: dict) -> tuple[torch.Tensor, dict]:
        """One decoding step that re-runs the decoder over the whole prefix (what the cache saves).

        Shapes: prev_tokens (B,) -> logits (B, V) and the state with ``prefix`` (B, t+1).
        """
        prefix = torch.cat([state["prefix"], prev_tokens[:, None]], dim=1)  # (B, t+1)
        logits = self.decode(prefix, state["memory"], state["src_mask"])[:, -1]  # (B, V)
        return logits, dict(state, prefix=prefix)


def make_transformer(config: TransformerConfig | dict) -> Transformer:
    """Build the encoder-decoder Transformer of ``config`` (or the config's dict, as a card stores it), with
    Xavier-uniform initialised matrices.
    """
    if isinstance(config, dict):
        config = TransformerConfig(**config)
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
