"""A generated e-mail reply task (the source's RNN encoder-decoder example) and a small word vocabulary.

The source's RNN example "predicts responses for incoming emails": the encoder reads the e-mail into one vector, the
decoder writes the reply word by word. Here the e-mails come from templates with four intents (ask to meet, ask for
a document, say thanks, cancel a meeting) and filler (greetings, sign-offs) that the encoder must learn to ignore.
The reply depends on the content: a meeting on a weekend is declined, a weekday one is accepted, and the day, hour
or document is carried over. Reply and e-mail differ in words and in length, as in any sequence-to-sequence task.

Introduced in: chapter 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import torch

from .vocab import Vocab

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKEND = ("saturday", "sunday")
HOURS = ("9", "10", "11", "2", "3", "4", "5")
DOCS = ("report", "slides", "budget", "draft", "invoice", "notes")
INTENTS = ("meeting", "send", "thanks", "cancel")

_GREETINGS = ((), ("hi",), ("hello",), ("dear", "team"), ("hi", "sam"), ("good", "morning"))
_CLOSINGS = ((), ("thanks",), ("best", ",", "ana"), ("cheers",), ("regards", ",", "tom"))


@dataclass(frozen=True)
class ReplyPair:
    """One e-mail, its reply and the e-mail's intent (one of ``INTENTS``)."""

    email: tuple[str, ...]
    reply: tuple[str, ...]
    intent: str
    day: str | None = None


def _hour(h: str) -> list[str]:
    return [h, "am" if h in ("9", "10", "11") else "pm"]


def _one(pick, intent: str) -> ReplyPair:
    day, hour, doc = DAYS[pick(len(DAYS))], HOURS[pick(len(HOURS))], DOCS[pick(len(DOCS))]
    if intent == "meeting":
        body = [["can", "we", "meet", "on", day, "at", *_hour(hour), "?"],
                ["are", "you", "free", "on", day, "at", *_hour(hour), "?"],
                ["shall", "we", "meet", day, "at", *_hour(hour), "?"]][pick(3)]
        reply = (["sorry", ",", "i", "do", "not", "work", "on", day] if day in WEEKEND
                 else ["yes", ",", day, "at", *_hour(hour), "works", "for", "me"])
    elif intent == "send":
        body = [["could", "you", "send", "me", "the", doc, "by", day, "?"],
                ["please", "send", "the", doc, "before", day],
                ["i", "need", "the", doc, "by", day]][pick(3)]
        reply = ["sure", ",", "i", "will", "send", "the", doc, "by", day]
    elif intent == "thanks":
        body = [["thanks", "for", "the", doc, "!"],
                ["thank", "you", "for", "sending", "the", doc],
                ["the", doc, "was", "very", "helpful", "!"]][pick(3)]
        reply = ["you", "are", "welcome", ",", "glad", "the", doc, "helped"]
    elif intent == "cancel":
        body = [["the", day, "meeting", "is", "cancelled"],
                ["sorry", ",", "i", "must", "cancel", "our", "meeting", "on", day],
                ["we", "have", "to", "skip", "the", "meeting", "on", day]][pick(3)]
        reply = ["no", "problem", ",", "see", "you", "after", day]
    else:
        raise ValueError(f"intent must be one of {INTENTS}, got {intent!r}")
    greeting = list(_GREETINGS[pick(len(_GREETINGS))])
    closing = list(_CLOSINGS[pick(len(_CLOSINGS))])
    email = greeting + ([","] if greeting else []) + body + ([","] if closing else []) + closing
    uses_day = intent in ("meeting", "send", "cancel")
    return ReplyPair(tuple(email), tuple(reply), intent, day if uses_day else None)


def reply_pairs(n: int, *, seed: int = 0, exclude: Iterable[ReplyPair] = ()) -> list[ReplyPair]:
    """``n`` random (e-mail, reply) pairs, intents equally likely; e-mails in ``exclude`` are never returned.

    Use ``exclude`` to make a held-out set that shares no e-mail with the training set.
    """
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    g = torch.Generator().manual_seed(seed)

    def pick(k: int) -> int:
        return int(torch.randint(k, (1,), generator=g))

    banned = {p.email for p in exclude}
    out: list[ReplyPair] = []
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > 50 * n + 1000:
            raise RuntimeError(f"could not draw {n} e-mails outside `exclude` ({len(out)} found)")
        pair = _one(pick, INTENTS[pick(len(INTENTS))])
        if pair.email not in banned:
            out.append(pair)
    return out


def reply_vocab() -> Vocab:
    """A vocabulary holding every word of the e-mails and replies (one vocabulary for both sides)."""
    words: list[str] = []
    widest = max(len(DAYS), len(HOURS), len(DOCS), len(_GREETINGS), len(_CLOSINGS), 3)
    for intent in INTENTS:
        for i in range(widest):  # picking option i % k at every choice visits every option of every template
            pair = _one(lambda k, i=i: i % k, intent)
            words += list(pair.email) + list(pair.reply)
    return Vocab(sorted(set(words)))


__all__ = ["Vocab", "ReplyPair", "reply_pairs", "reply_vocab", "DAYS", "HOURS", "DOCS", "INTENTS", "WEEKEND"]
