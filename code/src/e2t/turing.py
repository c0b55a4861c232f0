"""A tiny Turing machine: a tape of symbols 0, 1 and blank, and a head that reads, writes and moves.

Turing (1936): at each step the machine, in some *state*, reads the symbol under its head, and its rule table says
what to write there, which way to move (one cell left or right, or stay) and which state comes next. The tape is
unbounded in both directions (cells never written are blank). ``increment_machine()`` adds 1 to a binary number.

Introduced in: chapter 5.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["BLANK", "SYMBOLS", "Rule", "Snapshot", "TuringMachine", "increment_machine"]

BLANK = " "
SYMBOLS = ("0", "1", BLANK)
MOVES = {"L": -1, "R": +1, "S": 0}


@dataclass(frozen=True)
class Rule:
    """What to do on reading a symbol in a state: ``write`` a symbol, ``move`` ("L", "R" or "S"), go to ``next``.
    """

    write: str
    move: str
    next: str

    def __post_init__(self) -> None:
        if self.write not in SYMBOLS:
            raise ValueError(f"write must be one of {SYMBOLS}, got {self.write!r}")
        if self.move not in MOVES:
            raise ValueError(f"move must be one of {tuple(MOVES)}, got {self.move!r}")


@dataclass(frozen=True)
class Snapshot:
    """The machine before a step: step number, state, head position and the tape cells ``tape[pos] = symbol``."""

    step: int
    state: str
    head: int
    tape: Mapping[int, str]

    def read(self) -> str:
        return self.tape.get(self.head, BLANK)

    def text(self, lo: int, hi: int) -> str:
        """The tape from cell ``lo`` to ``hi`` (inclusive) as a string."""
        return "".join(self.tape.get(i, BLANK) for i in range(lo, hi + 1))


class TuringMachine:
    """A one-tape Turing machine given by its rule table ``{(state, symbol): Rule}``."""

    def __init__(self, *, rules: Mapping[tuple[str, str], Rule], start: str, halt: str = "halt"):
        for (state, symbol), rule in rules.items():
            if symbol not in SYMBOLS:
                raise ValueError(f"rule for state {state!r} reads {symbol!r}, not one of {SYMBOLS}")
            if not isinstance(rule, Rule):
                raise TypeError(f"rules[{(state, symbol)!r}] must be a Rule, got {type(rule).__name__}")
        self.rules = dict(rules)
        self.start = start
        self.halt = halt

    def run(self, tape: str, *, head: int = 0, max_steps: int = 1000) -> list[Snapshot]:
        """Run from ``start`` on ``tape`` (cell i holds ``tape[i]``) until ``halt``; return every snapshot.

        The last snapshot is the halted machine. Raises ``RuntimeError`` if it has not halted after ``max_steps``,
        or if no rule matches (state, symbol).
        """
        bad = set(tape) - set(SYMBOLS)
        if bad:
            raise ValueError(f"tape may hold only {SYMBOLS}, got {sorted(bad)}")
        cells = {i: s for i, s in enumerate(tape) if s != BLANK}
        state = self.start
        history = [Snapshot(0, state, head, dict(cells))]
        for step in range(1, max_steps + 1):
            symbol = cells.get(head, BLANK)
            rule = self.rules.get((state, symbol))
            if rule is None:
                raise RuntimeError(f"no rule for state {state!r} reading {symbol!r} at step {step}")
            if rule.write == BLANK:
                cells.pop(head, None)
            else:
                cells[head] = rule.write
            head += MOVES[rule.move]
            state = rule.next
            history.append(Snapshot(step, state, head, dict(cells)))
            if state == self.halt:
                return history
        raise RuntimeError(f"the machine did not halt within max_steps={max_steps}")


def increment_machine() -> TuringMachine:
    """Binary increment: the head starts on the leftmost digit, walks right past the number, then adds 1
    from the right, turning trailing 1s into 0s until a 0 (or a blank) takes the carry.
    """
    R = {
        ("right", "0"): Rule("0", "R", "right"),
        ("right", "1"): Rule("1", "R", "right"),
        ("right", BLANK): Rule(BLANK, "L", "carry"),
        ("carry", "1"): Rule("0", "L", "carry"),
        ("carry", "0"): Rule("1", "S", "halt"),
        ("carry", BLANK): Rule("1", "S", "halt"),
    }
    return TuringMachine(rules=R, start="right", halt="halt")
