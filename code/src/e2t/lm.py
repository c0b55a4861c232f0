r"""GPT and BERT in miniature: a decoder-only causal language model and an encoder-only masked language model.

Both are a stack of Transformer layers with *one* attention sub-layer each (self-attention) and a feed-forward
sub-layer; there is no encoder-decoder attention because there is no second sequence to attend to. They differ in
the mask and the objective:

- **GPT** (Radford et al. 2018): a causal mask; predict every next token, $\max \sum_t \log p(x_t \mid x_{<t})$.
  It generates continuations one token at a time.
- **BERT** (Devlin et al. 2019): no causal mask (every token sees both sides); replace some tokens by ``<mask>``
  and predict the originals, $\max \sum_{t \in \mathcal{M}} \log p(x_t \mid x_{\setminus \mathcal{M}})$.

The text is generated in code (``e2t.data.counting``): runs of consecutive English number words, "forty one ,
forty two , forty three ,". Continuing a run needs the rule of counting in words (with carries: "ninety nine , one
hundred"); filling a gap needs both neighbours. Every evaluation uses runs of numbers that never appear in the
training text (``e2t.data.counting.HELD_OUT``).

Introduced in: chapter 6.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .checks import check_tokens
from .data.counting import SEP, SPECIALS, VOCAB, counting_run, evaluation_starts, number_words
from .masks import causal_mask, padding_mask
from .transformer import Encoder, sinusoidal_positions

__all__ = ["LMConfig", "TinyLM", "make_lm", "lm_loss", "generate", "fill_masks", "evaluate_gpt", "evaluate_bert",
           "GPT_CONFIG", "BERT_CONFIG"]


@dataclass(frozen=True)
class LMConfig:
    """A tiny Transformer language model: ``causal=True`` is GPT-style, ``causal=False`` BERT-style."""

    vocab_size: int = len(VOCAB)
    d_model: int = 64
    num_heads: int = 4
    num_layers: int = 2
    d_ff: int = 128
    dropout: float = 0.0
    max_len: int = 64
    causal: bool = True

    def __post_init__(self):
        for name in ("vocab_size", "d_model", "num_heads", "num_layers", "d_ff", "max_len"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if self.d_model % self.num_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by num_heads={self.num_heads}")


class TinyLM(nn.Module):
    """Token embedding + sinusoidal positions, a stack of self-attention layers, a tied output layer.

    The mask is causal (GPT) or only hides padding (BERT). Build it with ``make_lm(config)``.

    Shapes: tokens (B, L), lengths (B,) or None -> logits (B, L, V).
    """

    def __init__(self, config: LMConfig):
        super().__init__()
        c = self.config = config
        self.embed = nn.Embedding(c.vocab_size, c.d_model, padding_idx=VOCAB.pad)
        self.register_buffer("positions", sinusoidal_positions(c.max_len, c.d_model), persistent=False)
        self.layers = Encoder(num_layers=c.num_layers, d_model=c.d_model, num_heads=c.num_heads, d_ff=c.d_ff,
                              dropout=c.dropout, norm_first=True)
        self.head = nn.Linear(c.d_model, c.vocab_size)
        self.head.weight = self.embed.weight

    def mask(self, L: int, lengths: torch.Tensor | None, device) -> torch.Tensor | None:
        """The self-attention mask: causal (L, L) for GPT, padding (B, 1, 1, L) for BERT, or both."""
        mask = causal_mask(L, device=device) if self.config.causal else None
        if lengths is not None:
            pad = padding_mask(lengths.to(device), L)  # (B, 1, 1, L)
            mask = pad if mask is None else mask & pad  # (B, 1, L, L) when both
        return mask

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        check_tokens("tokens", tokens, self.config.vocab_size)
        B, L = tokens.shape
        if L > self.config.max_len:
            raise ValueError(f"tokens has {L} positions but max_len is {self.config.max_len}")
        x = self.embed(tokens) * self.config.d_model ** 0.5 + self.positions[:L]  # (B, L, D)
        x = self.layers(x, self.mask(L, lengths, tokens.device))  # (B, L, D)
        return self.head(x)  # (B, L, V)


def make_lm(config: LMConfig | dict) -> TinyLM:
    """Build a tiny GPT-style (``config.causal``) or BERT-style language model (from its config or the config's
    dict, as a card stores it).
    """
    if isinstance(config, dict):
        config = LMConfig(**config)
    if not isinstance(config, LMConfig):
        raise TypeError(f"config must be an LMConfig, got {type(config).__name__}")
    model = TinyLM(config)
    nn.init.normal_(model.embed.weight, std=config.d_model ** -0.5)
    return model


def lm_loss(model: TinyLM, batch) -> torch.Tensor:
    """Cross-entropy over the targets of ``lm_batches`` (padding and unchosen positions ignored)."""
    tokens, lengths, targets = batch
    logits = model(tokens, lengths)  # (B, L, V)
    return F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=-100)


@torch.no_grad()
def generate(model: TinyLM, prompt: list[str], *, max_new_tokens: int = 20, stop: str | None = None) -> list[str]:
    """Greedy continuation of ``prompt`` by a causal model (re-running the prefix each step: sequences are short).

    Stops after ``max_new_tokens``, at ``<eos>``, or after emitting ``stop``.
    """
    if not model.config.causal:
        raise ValueError("generate needs a causal (GPT-style) model")
    model.eval()
    ids = [VOCAB.bos] + VOCAB.encode(prompt)
    new: list[str] = []
    for _ in range(max_new_tokens):
        if len(ids) >= model.config.max_len:
            break
        nxt = int(model(torch.tensor([ids]))[0, -1].argmax())
        if nxt == VOCAB.eos:
            break
        ids.append(nxt)
        new.append(VOCAB.itos[nxt])
        if stop is not None and VOCAB.itos[nxt] == stop:
            break
    return new


@torch.no_grad()
def fill_masks(model: TinyLM, tokens: list[str]) -> list[str]:
    """A masked model's best guess for every ``<mask>`` in ``tokens``; other tokens are returned unchanged."""
    if model.config.causal:
        raise ValueError("fill_masks needs a masked (BERT-style) model")
    model.eval()
    ids = torch.tensor([VOCAB.encode(tokens)])  # (1, L)
    logits = model(ids)[0]  # (L, V)
    logits[:, :len(SPECIALS)] = float("-inf")  # guess words, never a special token
    guess = logits.argmax(-1)  # (L,)
    return [VOCAB.itos[int(g)] if t == "<mask>" else t for t, g in zip(tokens, guess)]


@torch.no_grad()
def evaluate_gpt(model: TinyLM, *, prompt_numbers: int = 3, limit: int | None = None) -> float:
    """Exact match of the next number after ``prompt_numbers`` numbers (greedy), asked only where that number is
    held out (``e2t.data.counting.HELD_OUT``: the training text never had it) and the prompt's numbers are not.
    ``limit`` takes that many runs, spread evenly."""
    starts = _spread(evaluation_starts(prompt_numbers + 1, prompt_numbers), limit)
    hits = 0
    for s in starts:
        out = generate(model, counting_run(s, prompt_numbers), max_new_tokens=8, stop=SEP)
        hits += out == number_words(s + prompt_numbers) + [SEP]
    return hits / len(starts)


@torch.no_grad()
def evaluate_bert(model: TinyLM, *, count: int = 5, limit: int | None = None) -> float:
    """Exact match of the middle number of a run when all its tokens are masked, asked only where that number is
    held out and its neighbours are not. ``limit`` takes that many runs, spread evenly."""
    middle = count // 2
    starts = _spread(evaluation_starts(count, middle), limit)
    hits = 0
    for s in starts:
        before = counting_run(s, middle)
        target = number_words(s + middle)
        after = counting_run(s + middle + 1, count - middle - 1)
        filled = fill_masks(model, before + ["<mask>"] * len(target) + [SEP] + after)
        hits += filled[len(before):len(before) + len(target)] == target
    return hits / len(starts)


def _spread(starts: list[int], limit: int | None) -> list[int]:
    if limit is not None and limit < len(starts):
        starts = starts[:: len(starts) // limit][:limit]
    return starts


GPT_CONFIG = LMConfig(causal=True)
BERT_CONFIG = LMConfig(causal=False)
