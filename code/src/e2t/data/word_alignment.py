"""Which English word each German morpheme of the number task translates: the gold alignment.

Chapter 4 measures with it how often an attention's largest weight falls on the right source word (the alignment
accuracy of ``e2t.train.evaluation.alignment_accuracy``).

Introduced in: chapter 4.
"""

from __future__ import annotations

from collections.abc import Sequence

from .text import Example

__all__ = ["GERMAN_TO_ENGLISH", "gold_alignment"]


#: What each German morpheme means in English (``None``: "und" has no English word; English "and" none in German).
GERMAN_TO_ENGLISH = {
    "null": "zero", "ein": "one", "eins": "one", "eine": "one", "zwei": "two", "drei": "three", "vier": "four",
    "fünf": "five", "sechs": "six", "sieben": "seven", "acht": "eight", "neun": "nine", "zehn": "ten",
    "elf": "eleven", "zwölf": "twelve", "dreizehn": "thirteen", "vierzehn": "fourteen", "fünfzehn": "fifteen",
    "sechzehn": "sixteen", "siebzehn": "seventeen", "achtzehn": "eighteen", "neunzehn": "nineteen",
    "zwanzig": "twenty", "dreißig": "thirty", "vierzig": "forty", "fünfzig": "fifty", "sechzig": "sixty",
    "siebzig": "seventy", "achtzig": "eighty", "neunzig": "ninety", "hundert": "hundred", "tausend": "thousand",
    "Million": "million", "Millionen": "million", "Milliarde": "billion", "Milliarden": "billion",
    "Billion": "trillion", "Billionen": "trillion", "und": None,
}
_SCALES = {"thousand", "million", "billion", "trillion"}


def _groups(tokens: Sequence[str], meaning) -> list[list[int]]:
    """Token indices cut after every scale word (thousand, million, ...), each group cut again after "hundred"."""
    groups, current = [], []
    for i, tok in enumerate(tokens):
        current.append(i)
        if meaning(tok) in _SCALES | {"hundred"}:
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def gold_alignment(example: Example) -> list[int | None]:
    """For each German target morpheme, the index of the English source word it translates (``None`` for "und").

    Both languages name the scale groups in the same order (billions, millions, thousands, the rest) and, inside a
    group, the hundreds first; only tens and units swap ("forty two" -> "zwei und vierzig"). So the two sides are cut
    at the same scale words and at "hundred", and each morpheme is matched to the word of the same meaning in its
    piece. Chapter 4 measures with it how often an attention's largest weight falls on the right source word.
    """
    src, tgt = list(example.src), list(example.tgt)
    src_pieces = _groups(src, lambda t: t)
    tgt_pieces = _groups(tgt, lambda t: GERMAN_TO_ENGLISH.get(t, t))
    if len(src_pieces) != len(tgt_pieces):
        raise ValueError(f"cannot align {example.value}: {len(src_pieces)} English and {len(tgt_pieces)} German "
                         "pieces")
    out: list[int | None] = [None] * len(tgt)
    for s_piece, t_piece in zip(src_pieces, tgt_pieces):
        free = list(s_piece)
        for j in t_piece:
            meaning = GERMAN_TO_ENGLISH[tgt[j]]
            if meaning is None:
                continue
            match = next((i for i in free if src[i] == meaning), None)
            if match is None:
                raise ValueError(f"cannot align {example.value}: no English {meaning!r} for {tgt[j]!r}")
            out[j] = match
            free.remove(match)
    return out
