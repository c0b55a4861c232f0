"""Self-check questions that answer a click on the static web site, with no kernel and no network.

``self_check("6a")`` returns an object that Jupyter (and myst-nb, when it builds the site) displays as a small
HTML form: a multiple-choice question answers as soon as a choice is picked (by mouse, or by the arrow keys in the
radio group); a numeric one answers when the reader presses Enter or the Check button. The feedback appears in a
live region (read out by screen readers) and says *why*, not only whether.

The HTML is generated from the question alone, so it is byte-identical from run to run (nbval can compare it), it
holds no element ids (its script finds its own container), and its script is a few lines of plain JavaScript with
no library. Where scripts do not run (a notebook opened untrusted, GitHub's preview) the form is inert and a folded
"Answer" section below it still gives the answer and the reason.

Introduced in: the preface.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Choice", "Question", "QuestionInfo", "SelfCheck", "add_question", "messages", "questions", "self_check"]

_QUESTIONS: dict[str, Question] = {}


@dataclass(frozen=True)
class Choice:
    """One answer of a multiple-choice question and the feedback shown when it is picked."""

    text: str
    correct: bool = False
    feedback: str = ""


@dataclass(frozen=True)
class Question:
    """A multiple-choice question (``choices``) or a numeric one (``answer`` within ``tolerance``).

    Text may use `backticks` for code; everything else is shown as written (no HTML, no LaTeX: use Unicode).
    """

    id: str
    chapter: int
    prompt: str
    choices: tuple[Choice, ...] = ()
    answer: float | None = None
    tolerance: float = 0.0
    explanation: str = ""  # why the right answer is right (numeric: shown when it is found, and in the fold)
    hint: str = ""  # numeric: shown after a wrong number

    def __post_init__(self):
        if bool(self.choices) == (self.answer is not None):
            raise ValueError(f"question {self.id}: give either choices or a numeric answer")
        if self.choices and sum(c.correct for c in self.choices) != 1:
            raise ValueError(f"question {self.id}: exactly one choice must be correct")


class QuestionInfo(NamedTuple):
    """One row of ``questions()``."""

    chapter: int
    id: str
    kind: str
    prompt: str


def add_question(question: Question) -> Question:
    """Register ``question`` under its id."""
    if question.id in _QUESTIONS:
        raise ValueError(f"question {question.id} is registered twice")
    _QUESTIONS[question.id] = question
    return question


def questions(chapter: int | None = None) -> list[QuestionInfo]:
    """Every self-check question as ``(chapter, id, kind, prompt)``, in book order."""
    rows = [QuestionInfo(q.chapter, q.id, "choice" if q.choices else "numeric", q.prompt)
            for q in sorted(_QUESTIONS.values(), key=lambda q: (q.chapter, q.id))]
    return [r for r in rows if chapter is None or r.chapter == chapter]


def _inline(text: str) -> str:
    """Escape ``text`` for HTML and turn `code` into <code>code</code>."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def _plain(text: str) -> str:
    """The text for an HTML attribute: backticks dropped, quotes escaped."""
    return html.escape(text.replace("`", ""), quote=True)


_STYLE = (
    "<style>"
    ".e2t-quiz{border:1px solid rgba(127,127,127,.5);border-radius:6px;padding:.6em .9em;margin:.6em 0;max-width:46em}"
    ".e2t-quiz fieldset{border:0;margin:0;padding:0}"
    ".e2t-quiz legend{float:none;width:auto;padding:0;margin-bottom:.4em;font-size:1em;font-weight:normal}"
    ".e2t-quiz label{display:block;margin:.25em 0;cursor:pointer}"
    ".e2t-quiz input[type=radio]{margin-right:.5em}"
    ".e2t-quiz-status{min-height:1.4em;margin:.5em 0 .2em 0}"
    ".e2t-quiz .e2t-right{color:#1a7f37}.e2t-quiz .e2t-wrong{color:#b3261e}"
    ".e2t-quiz details{margin-top:.3em;font-size:.92em}"
    "</style>"
)

_SCRIPT = """<script>
(function () {{
  var me = document.currentScript, root = me ? me.parentNode : null;
  if (!root) {{ var all = document.querySelectorAll(".e2t-quiz:not([data-e2t-ready])"); root = all[all.length - 1]; }}
  if (!root || root.getAttribute("data-e2t-ready")) return;
  root.setAttribute("data-e2t-ready", "1");
  var status = root.querySelector(".e2t-quiz-status");
  function say(ok, text) {{
    status.textContent = "";
    var mark = document.createElement("strong");
    mark.className = ok ? "e2t-right" : "e2t-wrong";
    mark.textContent = ok ? {right} : {wrong};
    status.appendChild(mark);
    status.appendChild(document.createTextNode(text));
  }}
  var radios = root.querySelectorAll("input[type=radio]");
  for (var i = 0; i < radios.length; i++) {{
    radios[i].addEventListener("change", function (e) {{
      say(e.target.getAttribute("data-correct") === "1", e.target.getAttribute("data-feedback"));
    }});
  }}
  var form = root.querySelector("form");
  if (form) form.addEventListener("submit", function (e) {{
    e.preventDefault();
    var x = parseFloat(form.querySelector("input").value.replace(",", ".").trim());
    var answer = parseFloat(form.getAttribute("data-answer")), tol = parseFloat(form.getAttribute("data-tolerance"));
    if (isNaN(x)) {{ say(false, {nan}); return; }}
    var ok = Math.abs(x - answer) <= tol;
    say(ok, ok ? form.getAttribute("data-right") : (x < answer ? {low} : {high}) + form.getAttribute("data-hint"));
  }});
}})();
</script>"""


def _number(x: float) -> str:
    return f"{x:g}"


class SelfCheck:
    """What ``self_check(id)`` returns: shown as an HTML form in Jupyter and on the site, as text elsewhere."""

    def __init__(self, question: Question):
        self.question = question

    def __repr__(self) -> str:
        q = self.question
        lines = [f"Self-check {q.id}: {q.prompt.replace('`', '')}"]
        lines += [f"  ({chr(97 + i)}) {c.text.replace('`', '')}" for i, c in enumerate(q.choices)]
        lines.append("  (Answer it in Jupyter or on the book's web site: pick a choice or type a number.)")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.html()

    def html(self, translate: Callable[[str], str] | None = None) -> str:
        """The question as HTML; ``translate`` maps each English text of it (see ``messages()``) to another language.

        With no ``translate`` this is what Jupyter shows. The book's Chinese edition passes its catalogue
        (``locales/zh_CN/LC_MESSAGES/self_checks.po``, read by ``_ext/languages.py``).
        """
        t = translate or (lambda text: text)
        q = self.question
        head = (f"<strong>{html.escape(t('Self-check {id}.').format(id=q.id))}</strong> "
                f"{_inline(t(q.prompt))}")
        if q.choices:
            name = f"e2t-quiz-{q.id}"
            body = [f"<fieldset><legend>{head}</legend>"]
            for i, c in enumerate(q.choices):
                body.append(f'<label><input type="radio" name="{name}" value="{i}" data-correct="{int(c.correct)}" '
                            f'data-feedback="{_plain(t(c.feedback))}">{chr(97 + i)}. {_inline(t(c.text))}</label>')
            body.append("</fieldset>")
            right = next(c for c in q.choices if c.correct)
            fold = t("{answer}. {why}").format(answer=_inline(t(right.text)), why=_inline(t(right.feedback)))
        else:
            body = [f"<p>{head}</p>",
                    (f'<form data-answer="{q.answer!r}" data-tolerance="{q.tolerance!r}" '
                     f'data-right="{_plain(t(q.explanation))}" data-hint="{_plain(t(q.hint))}">'
                     f'<label>{html.escape(t("Your answer:"))} <input type="text" inputmode="decimal" size="10" '
                     f'autocomplete="off"> <button type="submit">{html.escape(t("Check"))}</button></label></form>')]
            fold = t("{answer}. {why}").format(answer=_number(q.answer), why=_inline(t(q.explanation)))
        script = _SCRIPT.format(right=json.dumps("\u2714 " + t("Right.") + " "),
                                wrong=json.dumps("\u2718 " + t("Not quite.") + " "),
                                nan=json.dumps(t("Type a number, then press Enter.")),
                                low=json.dumps(t("Too low.") + " "), high=json.dumps(t("Too high.") + " "))
        return ("".join(['<div class="e2t-quiz">', _STYLE, *body,
                         '<p class="e2t-quiz-status" role="status" aria-live="polite"></p>',
                         f"<details><summary>{html.escape(t('Answer'))}</summary><p>{fold}</p></details>"])
                + script + "</div>")


def self_check(question_id: str) -> SelfCheck:
    """The self-check question ``question_id`` (e.g. ``"6a"``), ready to display."""
    if question_id not in _QUESTIONS:
        known = ", ".join(sorted(_QUESTIONS, key=lambda k: (_QUESTIONS[k].chapter, k)))
        raise KeyError(f"there is no self-check question {question_id!r}; the questions are {known}")
    return SelfCheck(_QUESTIONS[question_id])


#: The words of the form itself, translated like the questions ({id}, {answer}, {why}: filled in by the form).
UI_TEXT = (
    "Self-check {id}.", "{answer}. {why}", "Your answer:", "Check", "Answer", "Right.", "Not quite.",
    "Type a number, then press Enter.", "Too low.", "Too high.",
)


def messages() -> list[str]:
    """Every English text a self-check shows (the form's words, then each question's), once each, in book order.

    A translation of the book translates exactly these (``tools/i18n.py`` writes them into ``self_checks.pot``).
    """
    out: dict[str, None] = dict.fromkeys(UI_TEXT)
    for q in sorted(_QUESTIONS.values(), key=lambda q: (q.chapter, q.id)):
        out.update(dict.fromkeys([q.prompt, *(x for c in q.choices for x in (c.text, c.feedback)), q.explanation,
                                  q.hint]))
    return [m for m in out if m]
