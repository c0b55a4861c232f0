"""The book's one vocabulary class: tokens <-> ids, special tokens first.

Every task of the book (number words, e-mail replies, captions, the language models' counting text) maps tokens to
ids with a ``Vocab``. Its first ids are special tokens: ``<pad>`` (0), ``<bos>`` (1), ``<eos>`` (2) and a fourth,
``<unk>`` by default (3); the language models use ``<mask>`` there instead and have no ``<unk>``.

Introduced in: chapter 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch

__all__ = ["Vocab", "SPECIALS"]

#: The default special tokens, in id order: padding, begin and end of sequence, unknown.
SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")


class Vocab:
    """A token <-> id table whose first ids are ``specials`` (default: ``pad=0, bos=1, eos=2, unk=3``).

    ``encode`` maps an unknown token to ``unk`` (or raises ``ValueError`` when the specials have no ``<unk>``);
    ``decode`` drops ``pad`` and ``bos``, stops at the first ``eos`` and shows ``unk`` as ``"<unk>"`` (so a metric
    counts it as wrong rather than silently dropping it). ``pad_batch`` encodes and right-pads a batch.
    """

    pad, bos, eos = 0, 1, 2

    def __init__(self, tokens: Iterable[str], *, specials: Sequence[str] = SPECIALS):
        specials = tuple(specials)
        if specials[:3] != SPECIALS[:3] or len(set(specials)) != len(specials):
            raise ValueError(f"specials must start with {SPECIALS[:3]} and be distinct, got {specials}")
        itos = list(specials)
        seen = set(itos)
        for tok in tokens:
            if not isinstance(tok, str) or not tok:
                raise ValueError(f"tokens must be non-empty strings, got {tok!r}")
            if tok not in seen:
                seen.add(tok)
                itos.append(tok)
        self.specials = specials
        self.itos: list[str] = itos
        self.stoi: dict[str, int] = {t: i for i, t in enumerate(itos)}
        self.unk: int | None = self.stoi.get("<unk>")

    @classmethod
    def from_sequences(cls, sequences: Iterable[Sequence[str]], **kwargs) -> Vocab:
        """A vocabulary of every token in ``sequences``, sorted so it does not depend on their order."""
        return cls(sorted({t for seq in sequences for t in seq}), **kwargs)

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocab) and self.itos == other.itos

    def __hash__(self) -> int:
        return hash(tuple(self.itos))

    def __repr__(self) -> str:
        n = len(self.specials)
        return f"Vocab({len(self)} tokens: {self.itos[n:n + 8]}{' ...' if len(self) > n + 8 else ''})"

    def encode(self, tokens: Iterable[str], *, bos: bool = False, eos: bool = False) -> list[int]:
        """Token strings -> ids, optionally framed by ``bos`` / ``eos``."""
        if isinstance(tokens, str):
            raise TypeError("tokens must be a sequence of token strings, not one string; split it first")
        ids = []
        for t in tokens:
            i = self.stoi.get(t, self.unk)
            if i is None:
                raise ValueError(f"token {t!r} is not in the vocabulary (which has no <unk>)")
            ids.append(i)
        return ([self.bos] if bos else []) + ids + ([self.eos] if eos else [])

    def decode(self, ids: Iterable[int] | torch.Tensor) -> list[str]:
        """Ids -> tokens, dropping ``pad``/``bos`` and stopping at the first ``eos``."""
        if isinstance(ids, torch.Tensor):
            if ids.dim() != 1:
                raise ValueError(f"ids must be 1-D, got shape {tuple(ids.shape)}")
            ids = ids.tolist()
        out = []
        for i in ids:
            i = int(i)
            if i == self.eos:
                break
            if i in (self.pad, self.bos):
                continue
            if not 0 <= i < len(self.itos):
                raise ValueError(f"id {i} is outside the vocabulary of {len(self.itos)} tokens")
            out.append(self.itos[i])
        return out

    def pad_batch(self, sequences: Sequence[Sequence[str]], *, bos: bool = False,
                  eos: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Encode and right-pad a list of token lists.

        Shapes: returns ids (B, T) long and lengths (B,) long, T = the longest encoded sequence.
        """
        if not sequences:
            raise ValueError("sequences must hold at least one sequence")
        encoded = [self.encode(s, bos=bos, eos=eos) for s in sequences]
        lengths = torch.tensor([len(e) for e in encoded])
        if int(lengths.min()) == 0:
            raise ValueError("sequences must not contain an empty sequence (with bos=False and eos=False)")
        ids = torch.full((len(encoded), int(lengths.max())), self.pad, dtype=torch.long)  # (B, T)
        for b, e in enumerate(encoded):
            ids[b, : len(e)] = torch.tensor(e)
        return ids, lengths
