"""Tests of e2t.turing: the tape machine and its binary-increment program."""

import matplotlib

matplotlib.use("Agg")

import pytest

from e2t.turing import BLANK, Rule, TuringMachine, increment_machine
from e2t.viz.turing import draw_run


def final_tape(history):
    last = history[-1]
    lo, hi = min(last.tape), max(last.tape)
    return last.text(lo, hi)


@pytest.mark.parametrize("number", [0, 1, 2, 5, 7, 11, 22, 255, 1000])
def test_increment_adds_one(number):
    history = increment_machine().run(format(number, "b"))
    assert history[-1].state == "halt"
    assert int(final_tape(history), 2) == number + 1


def test_increment_hand_traced_steps():
    history = increment_machine().run("1011")
    # 4 steps right over the digits, 1 step onto the blank and back, 2 carries (1->0), one final write 0->1
    assert len(history) - 1 == 4 + 1 + 2 + 1
    assert [s.state for s in history[:6]] == ["right"] * 5 + ["carry"]
    assert history[5].head == 3 and history[5].read() == "1"
    assert final_tape(history) == "1100"
    assert history[-1].head == 1  # it stops where it wrote the carry


def test_carry_into_a_new_leftmost_cell():
    history = increment_machine().run("111")
    last = history[-1]
    assert last.text(-1, 2) == "1000"
    assert last.head == -1


def test_missing_rule_and_non_halting_raise():
    machine = TuringMachine(rules={("a", "0"): Rule("1", "R", "a")}, start="a")
    with pytest.raises(RuntimeError, match="no rule for state 'a' reading ' '"):
        machine.run("00")
    loop = TuringMachine(rules={("a", BLANK): Rule(BLANK, "S", "a")}, start="a")
    with pytest.raises(RuntimeError, match="did not halt"):
        loop.run("", max_steps=10)


def test_bad_symbols_and_moves_are_rejected():
    with pytest.raises(ValueError, match="tape may hold only"):
        increment_machine().run("102")
    with pytest.raises(ValueError, match="move must be one of"):
        Rule("0", "X", "a")
    with pytest.raises(ValueError, match="write must be one of"):
        Rule("2", "L", "a")


def test_draw_run_makes_a_figure_with_one_row_per_step():
    history = increment_machine().run("10")
    fig = draw_run(history, title="10 + 1")
    ax = fig.axes[0]
    assert ax.get_ylim() == (-len(history), 0)
    with pytest.raises(ValueError, match="history is empty"):
        draw_run([])
