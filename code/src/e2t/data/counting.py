"""The language models' text (chapter 6): runs of consecutive English number words, generated in code.

"forty one , forty two , forty three ,": continuing a run needs the rule of counting in words (with carries:
"ninety nine , one hundred"); filling a gap needs both neighbours. A tenth of the numbers (``HELD_OUT``, picked at
random) never appear in the training text; every evaluation asks for one of them.

Introduced in: chapter 6.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import torch
from num2words import num2words

from ..masks import padding_mask
from .vocab import Vocab

__all__ = ["SEP", "SPECIALS", "VOCAB", "MASK", "number_words", "counting_run", "HELD_OUT", "held_out",
           "training_starts", "evaluation_starts", "lm_batches"]

#: Special tokens of the language models: no ``<unk>`` (every word is known), a ``<mask>`` for BERT.
SPECIALS = ("<pad>", "<bos>", "<eos>", "<mask>")
SEP = ","


def number_words(n: int) -> list[str]:
    """English words of ``n`` (1..999) as tokens: 342 -> ['three', 'hundred', 'and', 'forty', 'two']."""
    if not isinstance(n, int) or not 1 <= n <= 999:
        raise ValueError(f"n must be an int in [1, 999], got {n!r}")
    return list(_number_words(n))


@functools.lru_cache(maxsize=None)
def _number_words(n: int) -> tuple[str, ...]:
    return tuple(num2words(n, lang="en").replace("-", " ").split())


#: The language models' vocabulary: the 4 specials, the separator and the number words of 1..999 (sorted).
VOCAB = Vocab([SEP, *sorted({w for n in range(1, 1000) for w in _number_words(n)})], specials=SPECIALS)
MASK = VOCAB.stoi["<mask>"]


def counting_run(start: int, count: int) -> list[str]:
    """The tokens of ``start, start+1, ..., start+count-1``, each number followed by ``,``."""
    if start < 1 or start + count - 1 > 999 or count < 1:
        raise ValueError(f"the run {start}..{start + count - 1} must lie in [1, 999]")
    out: list[str] = []
    for n in range(start, start + count):
        out += number_words(n) + [SEP]
    return out


#: How many of the numbers 1..999 are held out, and the seed that picks them.
HELD_OUT_SHARE, HELD_OUT_SEED = 0.1, 7


def _held_out() -> frozenset[int]:
    g = torch.Generator().manual_seed(HELD_OUT_SEED)
    picks = torch.randperm(999, generator=g)[: round(HELD_OUT_SHARE * 999)] + 1
    return frozenset(int(n) for n in picks)


#: The numbers no training run contains: a tenth of 1..999, spread at random over the range (seeded). Every
#: evaluation asks for one of them. (Runs that merely *start* elsewhere would overlap the training text: "fourteen ,
#: fifteen" is in a run from 13; and a whole block such as 600..699 would ask for "six hundred and ...", a prefix the
#: training text never shows after any number.)
HELD_OUT: frozenset[int] = _held_out()


def held_out(n: int) -> bool:
    """Whether the number ``n`` is held out (never in the training text): ``n`` in ``HELD_OUT``."""
    return n in HELD_OUT


def training_starts(count: int = 5) -> list[int]:
    """The starts of the training runs of ``count`` numbers: every run in 1..999 that holds no held-out number."""
    return [s for s in range(1, 1000 - count + 1) if not any(held_out(n) for n in range(s, s + count))]


def evaluation_starts(count: int, position: int) -> list[int]:
    """The starts of the runs of ``count`` numbers whose number at ``position`` (0-based) is held out while every
    other number of the run is not: what an evaluation asks for is the one number the training text never had."""
    if not 0 <= position < count:
        raise ValueError(f"position must lie in 0..count-1 = 0..{count - 1}, got {position}")
    return [s for s in range(1, 1000 - count + 1)
            if held_out(s + position) and not any(held_out(s + i) for i in range(count) if i != position)]


def _pad(seqs: list[list[int]], value: int = VOCAB.pad) -> tuple[torch.Tensor, torch.Tensor]:
    lengths = torch.tensor([len(s) for s in seqs])
    out = torch.full((len(seqs), int(lengths.max())), value, dtype=torch.long)  # (B, L)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.tensor(s)
    return out, lengths


def lm_batches(*, batch_size: int = 64, count: int = 5, seed: int = 0, masked: bool = False,
               mask_rate: float = 0.15) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Endless training batches ``(tokens (B, L), lengths (B,), targets (B, L))`` of counting runs.

    Causal (``masked=False``): tokens are ``<bos> run``, targets the run shifted by one then ``<eos>`` (padding
    ``-100``, ignored).
    Masked (BERT): ``mask_rate`` of the tokens are chosen; of those 80 % become ``<mask>``, 10 % a random word,
    10 % stay; targets hold the original token at chosen positions and ``-100`` (ignored) elsewhere.
    """
    g = torch.Generator().manual_seed(seed)
    starts = training_starts(count)
    while True:
        picks = torch.randint(len(starts), (batch_size,), generator=g).tolist()
        runs = [VOCAB.encode(counting_run(starts[i], count)) for i in picks]
        if not masked:
            tokens, lengths = _pad([[VOCAB.bos] + r for r in runs])
            targets, _ = _pad([r + [VOCAB.eos] for r in runs], value=-100)
            yield tokens, lengths, targets
            continue
        tokens, lengths = _pad(runs)
        real = padding_mask(lengths, tokens.shape[1])[:, 0, 0]  # (B, L)
        chosen = (torch.rand(tokens.shape, generator=g) < mask_rate) & real  # (B, L)
        targets = torch.where(chosen, tokens, torch.full_like(tokens, -100))
        roll = torch.rand(tokens.shape, generator=g)  # (B, L)
        random_words = torch.randint(len(SPECIALS), len(VOCAB), tokens.shape, generator=g)  # (B, L)
        corrupted = torch.where(chosen & (roll < 0.8), torch.full_like(tokens, MASK), tokens)
        corrupted = torch.where(chosen & (roll >= 0.9), random_words, corrupted)
        yield corrupted, lengths, targets
