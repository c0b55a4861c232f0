r"""Self-attention (intra-attention, Cheng et al. 2016): a sentence attends to itself.

The queries, keys and values all come from the same sequence, so the weights relate its positions to each other:
$\alpha_{i,j} = \mathrm{softmax}_j(\mathrm{score}(x_i, x_j))$, $y_i = \sum_j \alpha_{i,j} x_j$. Any score of the
family works; here it is the Transformer's scaled dot product, through ``e2t.transformer.MultiHeadAttention``
(chapter 6 builds the whole Transformer from it).

The model is a one-layer self-attention tagger trained on a task that *needs* relations inside the sentence: tag
every word of an English number with the group it belongs to, ``units``, ``thousand``, ``million`` or ``billion``.
In "forty two thousand five hundred" the word "forty" belongs to the thousands, which only the word "thousand" to
its right reveals; so a good tagger must look from each word to the next scale word on its right. Chapter 4 draws
the trained tagger's attention map to see whether it does.

Introduced in: chapter 4.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from .checks import check_tokens
from .data.text import Example, Vocab
from .masks import padding_mask
from .transformer import FeedForward, MultiHeadAttention, sinusoidal_positions

__all__ = ["GROUPS", "scale_groups", "TaggerConfig", "SelfAttentionTagger", "make_tagger", "tag_batch",
           "tagger_loss", "tagger_accuracy"]

#: The tags, in id order: the group (of three digits) a word belongs to.
GROUPS = ("units", "thousand", "million", "billion")


def scale_groups(tokens: Sequence[str]) -> list[int]:
    """The group of every word: that of the nearest scale word ("thousand", "million", "billion") at or to the right
    of it, or ``units`` if there is none.

    ``("forty", "two", "thousand", "five")`` -> ``[1, 1, 1, 0]``.
    """
    out, current = [], 0
    for tok in reversed(tokens):
        if tok == "trillion":
            raise ValueError("numbers of a trillion or more are outside the tagger's groups")
        if tok in GROUPS[1:]:
            current = GROUPS.index(tok)
        out.append(current)  # scanning right to left, `current` is the nearest scale word at or right of `tok`
    return out[::-1]


@dataclass(frozen=True)
class TaggerConfig:
    """A one-layer self-attention tagger: embeddings + sinusoidal positions, one encoder layer, a linear tagger."""

    vocab_size: int
    d_model: int = 64
    num_heads: int = 2
    d_ff: int = 128
    num_tags: int = len(GROUPS)
    max_len: int = 32


class SelfAttentionTagger(nn.Module):
    r"""$x_i = E w_i + PE_i$; $(a, \alpha) = \mathrm{MultiHead}(x, x, x)$ over the real tokens;
    $z = \mathrm{LN}(x + a)$; $y = \mathrm{LN}(z + \mathrm{FFN}(z))$; tag logits $= W y$.

    Shapes: tokens (B, S) long, lengths (B,) -> logits (B, S, C), weights (B, H, S, S).
    """

    def __init__(self, config: TaggerConfig):
        super().__init__()
        self.config = config
        D = config.d_model
        self.embed = nn.Embedding(config.vocab_size, D, padding_idx=0)
        self.register_buffer("positions", sinusoidal_positions(config.max_len, D), persistent=False)
        self.self_attn = MultiHeadAttention(d_model=D, num_heads=config.num_heads)
        self.norm1 = nn.LayerNorm(D)
        self.feed_forward = FeedForward(d_model=D, d_ff=config.d_ff)
        self.norm2 = nn.LayerNorm(D)
        self.out = nn.Linear(D, config.num_tags)

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor):
        check_tokens("tokens", tokens, self.config.vocab_size)
        B, S = tokens.shape
        if S > self.config.max_len:
            raise ValueError(f"tokens have {S} positions but max_len is {self.config.max_len}")
        x = self.embed(tokens) + self.positions[:S]  # (B, S, D)
        mask = padding_mask(lengths, S)  # (B, 1, 1, S)
        a, weights = self.self_attn(x, x, x, mask)  # (B, S, D), (B, H, S, S)
        z = self.norm1(x + a)  # (B, S, D)
        y = self.norm2(z + self.feed_forward(z))  # (B, S, D)
        return self.out(y), weights  # (B, S, C), (B, H, S, S)


def make_tagger(config: TaggerConfig | dict) -> SelfAttentionTagger:
    """Build a ``SelfAttentionTagger`` from its config (or the config's dict, as a card stores it)."""
    return SelfAttentionTagger(TaggerConfig(**config) if isinstance(config, dict) else config)


def tag_batch(examples: Sequence[Example], vocab: Vocab):
    """Padded tokens (B, S), lengths (B,) and tags (B, S) (-100 at padding) of ``examples``' English sources."""
    S = max(len(e.src) for e in examples)
    tokens = torch.zeros(len(examples), S, dtype=torch.long)  # (B, S)
    tags = torch.full((len(examples), S), -100, dtype=torch.long)  # (B, S)
    for i, e in enumerate(examples):
        tokens[i, :len(e.src)] = torch.tensor(vocab.encode(e.src))
        tags[i, :len(e.src)] = torch.tensor(scale_groups(e.src))
    lengths = torch.tensor([len(e.src) for e in examples])
    return tokens, lengths, tags


def tagger_loss(model: SelfAttentionTagger, batch) -> torch.Tensor:
    """Cross-entropy of the tags, padding (tag -100) ignored."""
    tokens, lengths, tags = batch
    logits, _ = model(tokens, lengths)  # (B, S, C)
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), tags.reshape(-1), ignore_index=-100)


@torch.no_grad()
def tagger_accuracy(model: SelfAttentionTagger, examples: Sequence[Example], vocab: Vocab) -> dict[str, float]:
    """Tag accuracy over words and the fraction of sentences tagged entirely right."""
    model.eval()
    tokens, lengths, tags = tag_batch(list(examples), vocab)
    pred = model(tokens, lengths)[0].argmax(-1)  # (B, S)
    real = tags != -100
    return {"word_accuracy": float((pred == tags)[real].float().mean()),
            "sentence_accuracy": float(((pred == tags) | ~real).all(-1).float().mean())}
