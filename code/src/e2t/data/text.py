"""The book's translation task: English number words -> German number words, generated with ``num2words``.

"three hundred and forty-two" -> "drei hundert zwei und vierzig". German writes a number below a million as one
compound word ("dreihundertzweiundvierzig"); we split it into the number morphemes ``num2words`` builds it from (a
longest match over a small closed vocabulary), so the target is word-level and "forty-two" -> "zwei und vierzig"
crosses its alignment the way the seed's French example does.

What is here:
- ``Vocab`` (from ``e2t.data.vocab``): tokens <-> ids, with ``pad=0, bos=1, eos=2, unk=3``;
- the tokenizers ``english_tokens`` / ``german_tokens`` (and ``german_detokenize``, the inverse of the split);
- ``number_task(seed=...)``: THE task of chapters 2, 3, 4, 6 and 7 (same splits everywhere, cached);
- ``batches``: shuffled, padded ``Batch`` es with lengths (source optionally reversed or fed twice).

Introduced in: chapter 2.
"""

from __future__ import annotations

import collections
import copy
import functools
import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import torch
from num2words import CONVERTER_CLASSES, num2words

from .vocab import SPECIALS, Vocab

__all__ = ["Vocab", "Example", "NumberTask", "Batch", "SPECIALS", "GERMAN_MORPHEMES", "english_tokens",
           "tokenize_english", "german_tokens", "tokenize_german", "german_detokenize", "number_task",
           "make_examples", "batches", "source_tokens", "length_profile", "LENGTH_BUCKETS"]

# ---------------------------------------------------------------------------------------------- tokenizers

#: The closed vocabulary ``num2words(lang="de")`` builds German numbers from (up to 10**15).
GERMAN_MORPHEMES = (
    "null", "ein", "eins", "eine", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun",
    "zehn", "elf", "zwölf", "dreizehn", "vierzehn", "fünfzehn", "sechzehn", "siebzehn", "achtzehn", "neunzehn",
    "zwanzig", "dreißig", "vierzig", "fünfzig", "sechzig", "siebzig", "achtzig", "neunzig",
    "hundert", "tausend", "und", "Million", "Millionen", "Milliarde", "Milliarden", "Billion", "Billionen",
)
_BY_LENGTH = sorted(GERMAN_MORPHEMES, key=len, reverse=True)


@functools.lru_cache(maxsize=4)
def _converter(lang: str):
    """``num2words``' own converter for ``lang`` with its table of number names cut at 10**15.

    ``num2words`` scans its whole table (up to 10**600) at every step of its recursion, which makes a task of 23k
    numbers take seconds; the cut table gives the same words, several times faster. If the library's internals
    ever differ, or a spot check disagrees, we fall back to ``num2words`` itself.
    """
    try:
        fast = copy.copy(CONVERTER_CLASSES[lang])
        fast.cards = collections.OrderedDict((k, v) for k, v in fast.cards.items() if k <= 10**15)
        probes = (0, 7, 21, 101, 1100, 101001, 10**6 + 1, 123456789012, 999999999999)
        if all(fast.to_cardinal(v) == num2words(v, lang=lang) for v in probes):
            return fast.to_cardinal
    except Exception:  # noqa: BLE001 - any surprise in the internals: use the public function
        pass
    return functools.partial(num2words, lang=lang)


def _cardinal(value: int, lang: str) -> str:
    if value >= 10**15:
        return num2words(value, lang=lang)
    return _converter(lang)(value)


def tokenize_english(text: str) -> tuple[str, ...]:
    """English number words -> tokens: lower case, hyphens and commas become word breaks.

    ``"nine hundred and forty-two"`` -> ``("nine", "hundred", "and", "forty", "two")``.
    """
    return tuple(text.lower().replace("-", " ").replace(",", " ").split())


def english_tokens(value: int) -> tuple[str, ...]:
    """The English source tokens of ``value`` (``num2words(value)`` tokenized)."""
    _check_value(value)
    return tokenize_english(_cardinal(value, "en"))


_MORPHEME = re.compile("|".join(_BY_LENGTH))  # alternatives longest first: a greedy longest match


@functools.lru_cache(maxsize=65536)
def _split_word(word: str) -> tuple[str, ...]:
    out, i = [], 0
    while i < len(word):
        m = _MORPHEME.match(word, i)
        if m is None:
            raise ValueError(f"cannot split German number word {word!r} at {word[i:]!r} into number morphemes")
        out.append(m.group())
        i = m.end()
    return tuple(out)


def tokenize_german(text: str) -> tuple[str, ...]:
    """German number words -> morphemes, by longest match over ``GERMAN_MORPHEMES``.

    ``"zweiundvierzig"`` -> ``("zwei", "und", "vierzig")``; ``"eine Million eins"`` -> ``("eine", "Million",
    "eins")``. A word that does not split raises ``ValueError``.
    """
    return tuple(m for word in text.split() for m in _split_word(word))


def german_tokens(value: int) -> tuple[str, ...]:
    """The German target tokens of ``value`` (``num2words(value, lang="de")`` split into morphemes).
    """
    _check_value(value)
    return tokenize_german(_cardinal(value, "de"))


def german_detokenize(tokens: Iterable[str]) -> str:
    """Inverse of ``tokenize_german``: glue morphemes back into words; capitalised nouns stand alone.

    ``("zwei", "Millionen", "drei", "hundert")`` -> ``"zwei Millionen dreihundert"``.
    """
    words, current = [], ""
    for tok in tokens:
        if tok[:1].isupper():
            if current:
                words.append(current)
            words.append(tok)
            current = ""
        else:
            current += tok
    if current:
        words.append(current)
    return " ".join(words)


def _check_value(value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"value must be a non-negative int, got {value!r}")


# ---------------------------------------------------------------------------------------------- the task

@dataclass(frozen=True)
class Example:
    """One translation pair: the number, its English tokens (source) and German morphemes (target)."""

    value: int
    src: tuple[str, ...]
    tgt: tuple[str, ...]


@dataclass(frozen=True)
class NumberTask:
    """The book's English -> German number translation task: three splits and the two vocabularies.

    The splits are tuples of ``Example`` (read-only, since ``number_task`` caches and shares one instance).
    """

    train: tuple[Example, ...]
    valid: tuple[Example, ...]
    test: tuple[Example, ...]
    src_vocab: Vocab
    tgt_vocab: Vocab
    seed: int
    max_value: int

    def __repr__(self) -> str:
        return (f"NumberTask(train={len(self.train)}, valid={len(self.valid)}, test={len(self.test)}, "
                f"src_vocab={len(self.src_vocab)}, tgt_vocab={len(self.tgt_vocab)}, seed={self.seed})")


def make_examples(values: Iterable[int]) -> tuple[Example, ...]:
    """``Example`` s for the given numbers."""
    return tuple(Example(v, english_tokens(v), german_tokens(v)) for v in values)


@functools.lru_cache(maxsize=8)
def number_task(*, seed: int = 0, n_train: int = 20_000, n_valid: int = 1_000, n_test: int = 2_000,
                max_value: int = 10**12, always_train: int = 20) -> NumberTask:
    """THE translation task of the book (cached: every call with the same arguments returns the same object).

    Values are drawn log-uniformly from ``[1, max_value)`` with a ``torch.Generator`` seeded by ``seed``, so every
    number of digits is about equally likely and English sources range from 1 to 23 words. The task is split **by
    value** (no number in two splits): the numbers ``0 .. always_train`` (whose forms are unique, e.g. a lone
    "one" -> "eins") all go to training; the other distinct values are drawn first, then **shuffled**, and only
    then cut into validation (``n_valid``), test (``n_test``) and the rest of training. The shuffle matters: the
    small values are few, so most of them are drawn early (later draws of them are repeats); cutting the draws in
    the order they came would put almost all short numbers into validation and test and none into training. After
    the shuffle the three splits have the same profile of source lengths (``e2t.data.text.length_profile``; the
    tests check it). Both vocabularies are built
    from every form the generator can produce (all of ``GERMAN_MORPHEMES``; the English words of 0-10**12 and of
    every example), so no split has unknown tokens.
    """
    for name, n in (("n_train", n_train), ("n_valid", n_valid), ("n_test", n_test)):
        if not isinstance(n, int) or n < 1:
            raise ValueError(f"{name} must be a positive int, got {n!r}")
    if max_value < 10 * (always_train + 1):
        raise ValueError(f"max_value must be much larger than always_train, got {max_value} and {always_train}")
    small = list(range(always_train + 1))
    need = n_valid + n_test + n_train - len(small)
    if need <= n_valid + n_test:
        raise ValueError(f"n_train={n_train} must exceed the {len(small)} always-train numbers")
    g = torch.Generator().manual_seed(seed)
    log_max = math.log(max_value)
    seen, drawn = set(small), []
    while len(drawn) < need:
        u = torch.rand(2 * (need - len(drawn)) + 64, generator=g, dtype=torch.float64)
        for x in torch.exp(u * log_max).floor().long().tolist():
            if x not in seen and 1 <= x < max_value:
                seen.add(x)
                drawn.append(x)
                if len(drawn) == need:
                    break
    order = torch.randperm(len(drawn), generator=g).tolist()  # the draw order is not random: see the docstring
    drawn = [drawn[i] for i in order]
    valid = drawn[:n_valid]
    test = drawn[n_valid:n_valid + n_test]
    train = small + drawn[n_valid + n_test:]
    splits = [make_examples(train), make_examples(valid), make_examples(test)]
    english = {t for v in [*range(0, 102), 1000, 10**6, 10**9, 10**12] for t in english_tokens(v)}
    english |= {t for split in splits for e in split for t in e.src}
    return NumberTask(*splits, src_vocab=Vocab(sorted(english)), tgt_vocab=Vocab(GERMAN_MORPHEMES), seed=seed,
                      max_value=max_value)


#: Source-length buckets (English words) of ``length_profile``: the same as ``e2t.train.evaluation.DEFAULT_BUCKETS``.
LENGTH_BUCKETS: tuple[tuple[int, int | None], ...] = ((1, 5), (6, 10), (11, 15), (16, 20), (21, None))


def length_profile(examples: Sequence[Example],
                   buckets: Sequence[tuple[int, int | None]] = LENGTH_BUCKETS) -> dict[str, float]:
    """The share of ``examples`` whose source length falls in each bucket, keyed ``"1-5"``, ..., ``"21+"``.
    """
    if len(examples) == 0:
        raise ValueError("examples is empty")
    out = {}
    for lo, hi in buckets:
        n = sum(1 for e in examples if len(e.src) >= lo and (hi is None or len(e.src) <= hi))
        out[f"{lo}-{hi}" if hi is not None else f"{lo}+"] = n / len(examples)
    return out


# ---------------------------------------------------------------------------------------------- batching

@dataclass(frozen=True)
class Batch:
    """A padded batch (right-padded with ``pad``), batch first.

    Shapes:
        src (B, S) long, src_lengths (B,) long   -- S = the longest source in the batch
        tgt_in (B, T) long  = [bos] + tgt         -- the decoder's input under teacher forcing
        tgt_out (B, T) long = tgt + [eos]         -- what it must predict; tgt_lengths (B,) = len(tgt) + 1
        examples: the B ``Example`` s, in batch order
    """

    src: torch.Tensor
    src_lengths: torch.Tensor
    tgt_in: torch.Tensor
    tgt_out: torch.Tensor
    tgt_lengths: torch.Tensor
    examples: tuple[Example, ...]

    def __len__(self) -> int:
        return len(self.examples)


def source_tokens(example: Example, *, reverse_source: bool = False,
                  repeat_source: bool = False) -> tuple[str, ...]:
    """The source as the encoder reads it: optionally reversed (Sutskever 2014), optionally fed twice
    (Zaremba & Sutskever 2014: the sequence, then the sequence again). Reversal applies to both copies.
    """
    src = tuple(reversed(example.src)) if reverse_source else tuple(example.src)
    return src + src if repeat_source else src


def _vocabs(task_or_vocabs) -> tuple[Vocab, Vocab]:
    if isinstance(task_or_vocabs, NumberTask):
        return task_or_vocabs.src_vocab, task_or_vocabs.tgt_vocab
    if isinstance(task_or_vocabs, (tuple, list)) and len(task_or_vocabs) == 2 and all(
            isinstance(v, Vocab) for v in task_or_vocabs):
        return task_or_vocabs[0], task_or_vocabs[1]
    raise TypeError(f"task_or_vocabs must be a NumberTask or a (src_vocab, tgt_vocab) pair, "
                    f"got {type(task_or_vocabs).__name__}")


def _pad(seqs: list[list[int]], pad: int) -> torch.Tensor:
    width = max(len(s) for s in seqs)
    out = torch.full((len(seqs), width), pad, dtype=torch.long)  # (B, L)
    for i, s in enumerate(seqs):
        out[i, :len(s)] = torch.tensor(s, dtype=torch.long)
    return out


def collate(examples: Sequence[Example], task_or_vocabs, *, reverse_source: bool = False,
            repeat_source: bool = False) -> Batch:
    """Encode and pad ``examples`` into one ``Batch``."""
    if len(examples) == 0:
        raise ValueError("examples is empty")
    src_vocab, tgt_vocab = _vocabs(task_or_vocabs)
    src = [src_vocab.encode(source_tokens(e, reverse_source=reverse_source, repeat_source=repeat_source))
           for e in examples]
    if any(len(s) == 0 for s in src):
        raise ValueError("every example needs at least one source token")
    tgt = [tgt_vocab.encode(e.tgt) for e in examples]
    return Batch(src=_pad(src, src_vocab.pad),
                 src_lengths=torch.tensor([len(s) for s in src], dtype=torch.long),
                 tgt_in=_pad([[tgt_vocab.bos] + t for t in tgt], tgt_vocab.pad),
                 tgt_out=_pad([t + [tgt_vocab.eos] for t in tgt], tgt_vocab.pad),
                 tgt_lengths=torch.tensor([len(t) + 1 for t in tgt], dtype=torch.long),
                 examples=tuple(examples))


def batches(examples: Sequence[Example], task_or_vocabs, *, batch_size: int, seed: int = 0, shuffle: bool = True,
            reverse_source: bool = False, repeat_source: bool = False, epochs: int | None = 1,
            drop_last: bool = False, sort_pool: int | None = None) -> Iterator[Batch]:
    """Yield padded ``Batch`` es of ``examples``.

    ``epochs=1`` (the default) is one pass, for evaluation; ``epochs=None`` is endless, for training with
    ``e2t.train.fit``. With ``shuffle=True`` every epoch is a fresh permutation from a ``torch.Generator`` seeded
    by ``seed``; with ``shuffle=False`` the order is that of ``examples``. ``task_or_vocabs`` is a ``NumberTask``
    or a ``(src_vocab, tgt_vocab)`` pair.

    ``sort_pool=k`` (training speed): take ``k * batch_size`` examples of the permutation at a time, sort them by
    target length, cut them into batches and shuffle those, so a batch holds similar lengths and little padding.
    """
    if sort_pool is not None and (not isinstance(sort_pool, int) or sort_pool < 1):
        raise ValueError(f"sort_pool must be a positive int or None, got {sort_pool!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if epochs is not None and (not isinstance(epochs, int) or epochs < 1):
        raise ValueError(f"epochs must be a positive int or None (endless), got {epochs!r}")
    if len(examples) == 0:
        raise ValueError("examples is empty")
    _vocabs(task_or_vocabs)  # fail early
    examples = list(examples)
    g = torch.Generator().manual_seed(seed)
    epoch = 0
    while epochs is None or epoch < epochs:
        order = torch.randperm(len(examples), generator=g).tolist() if shuffle else list(range(len(examples)))
        chunks = [order[start:start + batch_size] for start in range(0, len(order), batch_size)]
        if sort_pool is not None:
            chunks = []
            for start in range(0, len(order), sort_pool * batch_size):
                pool = sorted(order[start:start + sort_pool * batch_size],
                              key=lambda i: (len(examples[i].tgt), len(examples[i].src)))
                cut = [pool[j:j + batch_size] for j in range(0, len(pool), batch_size)]
                perm = torch.randperm(len(cut), generator=g).tolist() if shuffle else range(len(cut))
                chunks.extend(cut[j] for j in perm)
        for idx in chunks:
            if drop_last and len(idx) < batch_size:
                continue
            yield collate([examples[i] for i in idx], task_or_vocabs, reverse_source=reverse_source,
                          repeat_source=repeat_source)
        epoch += 1
