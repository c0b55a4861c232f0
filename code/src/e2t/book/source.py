"""Show the package's own source in a chapter, so the text never pastes (and never drifts from) the code.

``show_source(obj)`` reads the code of a function, class or module of ``e2t`` from the installed package and makes
it fit a book page: at most ``WIDTH`` characters a line (long code lines are broken inside their brackets with the
continuation aligned or hung, long comments and docstring lines are re-wrapped, a trailing comment that does not fit
moves above its line), and, by default, the argument checks (statements that only call a ``check_*`` helper or only
``raise`` a ``ValueError``/``TypeError`` on bad input) collapse into one ``# ... argument checks omitted ...`` line,
so the listing shows the computation. The result is deterministic: the same code gives the same listing.

Introduced in: the preface.
"""

from __future__ import annotations

import ast
import inspect
import io
import keyword
import textwrap
import tokenize

from IPython.display import Code

__all__ = ["WIDTH", "MARKER", "source_text", "show_source"]

#: The longest line of a listing, in characters: fits a 1280-pixel page without horizontal scrolling.
WIDTH = 100
#: The line that stands for omitted argument checks.
MARKER = "# ... argument checks omitted ..."
_ERRORS = {"ValueError", "TypeError", "IndexError"}
_OPEN, _CLOSE = "([{", ")]}"
_START = (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENCODING)  # a statement begins
_END = (tokenize.NEWLINE, tokenize.COMMENT)
_BREAK_BEFORE = {"and", "or", "if", "else", "for", "+", "-", "*", "/", "//", "%", "@", "==", "!=", "<", ">", "<=",
                 ">=", "|", "&", "->"}


# ------------------------------------------------------------------------------------------- argument checks
def _called(node: ast.AST) -> str:
    """The name a call statement calls (``check_tensor(...)``, ``self._check_shape(...)``), else ``""``."""
    if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        func = node.value.func
        return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return ""


def _raises_error(node: ast.stmt) -> bool:
    if not isinstance(node, ast.Raise) or node.exc is None:
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    return isinstance(exc, ast.Name) and exc.id in _ERRORS


def _is_check(node: ast.stmt) -> bool:
    """A statement that only validates arguments: a ``check_*`` call, an ``if`` that only raises a ``ValueError``
    (or ``TypeError``/``IndexError``, after building its message) or checks further, a ``for`` over such.
    """
    if _called(node).lstrip("_").startswith("check"):
        return True
    if isinstance(node, ast.If):
        branches = [node.body] + ([node.orelse] if node.orelse else [])
        return all(_is_check_block(b) for b in branches)
    if isinstance(node, ast.For) and not node.orelse:
        return all(_is_check(s) for s in node.body)
    return False


def _is_check_block(body: list[ast.stmt]) -> bool:
    if len(body) == 1 and isinstance(body[0], ast.If):
        return _is_check(body[0])
    if _raises_error(body[-1]):
        return all(isinstance(s, (ast.Assign, ast.AnnAssign)) or _is_check(s) for s in body[:-1])
    return all(_is_check(s) for s in body)


def _is_checker(node: ast.AST) -> bool:
    """A function that is itself an argument check (``check_tensor``, ``_check_rows``): shown whole."""
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.lstrip("_").startswith("check")


def _check_groups(node: ast.AST) -> list[tuple[int, int, int]]:
    """``(first line, last line, column)`` of each run of consecutive check statements (1-based lines) under
    ``node``; never a whole block, nothing inside a checker function, no statement that shares a line.
    """
    if _is_checker(node):
        return []
    groups = []
    for field in ("body", "orelse", "finalbody"):
        body = getattr(node, field, None)
        if not isinstance(body, list) or not body or not isinstance(body[0], ast.stmt):
            continue
        docstring = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and \
            isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
        stmts = body[1:] if docstring else body
        run: list[ast.stmt] = []
        for i, stmt in enumerate(stmts):
            alone = (i == 0 or stmts[i - 1].end_lineno < stmt.lineno) and (
                i + 1 == len(stmts) or stmts[i + 1].lineno > stmt.end_lineno)
            if alone and _is_check(stmt):
                run.append(stmt)
                continue
            if run:
                groups.append((run[0].lineno, run[-1].end_lineno, run[0].col_offset))
            run = []
        if run and len(run) < len(stmts):
            groups.append((run[0].lineno, run[-1].end_lineno, run[0].col_offset))
    for child in ast.iter_child_nodes(node):
        groups += _check_groups(child)
    return sorted(groups)


def _omit_checks(code: str) -> str:
    try:
        tree = ast.parse(code)
    except SyntaxError:  # a fragment that does not parse on its own is shown as it is
        return code
    lines = code.splitlines()
    for first, last, col in reversed(_check_groups(tree)):
        lines[first - 1:last] = [" " * col + MARKER]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------ line width
def _tokens(code: str) -> list[tokenize.TokenInfo]:
    try:
        return list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []


def _wrap_prose(line: str, prefix: str, width: int) -> list[str]:
    """Re-wrap a comment or docstring text, keeping its indentation (and ``# `` for a comment)."""
    indent = line[:len(line) - len(line.lstrip())]
    body = line.strip()[len(prefix):].strip() if prefix else line.strip()
    lead = indent + (prefix + " " if prefix else "")
    hang = " " * (body.index("::") + 3) if body.startswith("..") and "::" in body else ""  # under a directive
    return textwrap.wrap(body, width=width, initial_indent=lead, subsequent_indent=lead + hang,
                         break_long_words=False, break_on_hyphens=False) or [line]


def _split_string(tok: tokenize.TokenInfo, room: int) -> tuple[str, str] | None:
    """Split a one-line string literal into two adjacent literals, at a space at most ``room`` characters in."""
    text = tok.string
    q = next((i for i, ch in enumerate(text) if ch in "'\""), None)
    if q is None or text[q:q + 3] in ('"""', "'''"):
        return None
    prefix, quote = text[:q], text[q]
    depth, best = 0, None
    for i in range(q + 1, len(text) - 1):
        ch = text[i]
        if "f" in prefix.lower() and ch in "{}":
            depth += 1 if ch == "{" else -1
        if ch == " " and depth == 0 and 10 < i < room - 1:
            best = i + 1
    if best is None:
        return None
    return text[:best] + quote, prefix + quote + text[best:]


def _break_code(line: str, toks: list[tokenize.TokenInfo], depth0: int, width: int) -> list[str] | None:
    """Break one code line: after a comma, before an operator or after an opening parenthesis inside brackets, or
    between (or inside) string literals; outside brackets with a backslash. ``None`` if it cannot be broken.
    """
    indent = len(line) - len(line.lstrip())
    depth, opened, found = depth0, [], []  # opened: columns of the brackets opened on this line
    for k, tok in enumerate(toks):
        s, col, end = tok.string, tok.start[1], tok.end[1]
        inner = opened[-1] if opened else None
        if tok.type == tokenize.OP and s in _CLOSE:
            depth -= 1
            if opened:
                opened.pop()
        elif tok.type == tokenize.OP and s == "," and end <= width - 2:
            found.append((end, 2, depth, inner))
        elif col > indent + 12 and col <= width - 2 and s in _BREAK_BEFORE and (
                tok.type == tokenize.OP or keyword.iskeyword(s)):
            found.append((col, 1, depth, inner))
        elif tok.type == tokenize.STRING and k and toks[k - 1].type == tokenize.STRING and col <= width:
            found.append((col, 2, depth, inner))  # between two adjacent literals
        elif tok.type == tokenize.STRING and end > width and col < width - 20 and not any(
                c[0] > indent + 20 for c in found):
            parts = _split_string(tok, width - col - 2)
            if parts:
                more, cont = ("", col) if depth > 0 else (" \\", col if col + len(parts[1]) <= width else indent + 4)
                return [line[:col] + parts[0] + more, " " * cont + parts[1] + line[end:]]
        if tok.type == tokenize.OP and s in _OPEN:
            depth += 1
            opened.append(col)
            if s == "(" and end <= width - 2 and end < len(line.rstrip()) - 1:
                found.append((end, 0, depth, "hang"))
    found = [c for c in found if c[0] > indent + 4 and (c[2] > 0 or not any(d[2] > 0 for d in found))]
    if not found:
        return None
    commas = [c for c in found if c[1] == 2 and c[0] >= width // 3]  # the outermost comma, then the rightmost
    cut, _, depth, bracket = min(commas, key=lambda c: (c[2], -c[0])) if commas else max(found)
    head, rest = line[:cut].rstrip(), line[cut:].strip()
    if depth == 0:  # outside brackets the break needs a backslash
        return [head + " \\", " " * (indent + 4) + rest]
    if bracket == "hang" or bracket is None:
        cont = indent + (8 if bracket == "hang" else 0)
    else:
        cont = bracket + 1 if bracket + 1 + len(rest) <= width or bracket + 1 <= indent + 8 else indent + 8
    return [head, " " * cont + rest]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _paragraph_end(lines: list[str], i: int, last: int, prefix: str) -> int:
    """The end (exclusive) of the paragraph that starts at line ``i`` and may run to line ``last``: following lines
    of the same indentation, not blank, not a list item or directive, not a lone closing quote.
    """
    j = i + 1
    while j <= last and j < len(lines) and _indent(lines[j]) == _indent(lines[i]):
        text = lines[j].strip()
        if prefix:
            if not text.startswith(prefix):
                break
            text = text[len(prefix):].strip()
        if not text or text[0] in "-*>.:'\"" or text.startswith(("Shapes:", "Introduced in")):
            break
        j += 1
    return j


def _fit_line(lines: list[str], i: int, toks: list[tokenize.TokenInfo], width: int) -> tuple[int, list[str]]:
    """How to fix long line ``i``: ``(lines replaced, new lines)``."""
    row, line = i + 1, lines[i]
    indent = _indent(line)
    # prose: the lines of a multi-line string after its first, or a statement that is only a string (a docstring)
    string = next((t for k, t in enumerate(toks[:-1]) if t.type == tokenize.STRING and (
        t.start[0] < row <= t.end[0] or (t.start == (row, indent) and toks[k + 1].type in _END and (
            k == 0 or toks[k - 1].type in _START)))), None)
    if string is not None or line.lstrip().startswith("#"):
        prefix = "" if string is not None else "#"
        end = _paragraph_end(lines, i, string.end[0] - 1 if string is not None else len(lines) - 1, prefix)
        words = " ".join(ln.strip()[len(prefix):].strip() for ln in lines[i:end])
        return end - i, _wrap_prose(" " * indent + prefix + " " + words if prefix else " " * indent + words,
                                     prefix, width)
    on_line = [t for t in toks if t.start[0] == row and t.type not in (tokenize.NL, tokenize.NEWLINE)]
    comment = next((t for t in on_line if t.type == tokenize.COMMENT), None)
    if comment is not None:  # the comment moves above the code it describes
        return 1, _wrap_prose(" " * indent + comment.string, "#", width) + [line[:comment.start[1]].rstrip()]
    depth0 = sum(1 if t.string in _OPEN else -1 for t in toks
                 if t.type == tokenize.OP and t.start[0] < row and t.string in _OPEN + _CLOSE)
    new = _break_code(line, on_line, depth0, width)
    if new is None:  # inside brackets a continuation line may move left: under the line above, 4 further in
        room = min(_indent(lines[i - 1]) + 4 if i else 0, width - len(line.strip()))
        return 1, [" " * room + line.strip()] if depth0 > 0 and 0 <= room < indent else [line]
    depth_end = depth0 + sum(1 if t.string in _OPEN else -1 for t in on_line
                             if t.type == tokenize.OP and t.string in _OPEN + _CLOSE)
    nxt = lines[i + 1] if i + 1 < len(lines) else ""
    if depth_end > 0 and nxt.strip() and "#" not in nxt and not nxt.lstrip().startswith(tuple(_CLOSE)) and \
            _indent(nxt) == _indent(new[-1]) and len(new[-1]) + 1 + len(nxt.strip()) <= width:
        return 2, [*new[:-1], new[-1] + " " + nxt.strip()]  # the rest joins the next line of the same bracket
    return 1, new


def _fit(code: str, width: int) -> str:
    """Break or re-wrap every line longer than ``width`` (each pass fixes the first long line left)."""
    stuck: set[int] = set()
    for _ in range(400):
        lines = code.split("\n")
        long = [i for i, ln in enumerate(lines) if len(ln) > width and i not in stuck]
        if not long:
            break
        i = long[0]
        count, new = _fit_line(lines, i, _tokens(code), width)
        if new == lines[i:i + count]:
            stuck.add(i)
            continue
        code = "\n".join(lines[:i] + new + lines[i + count:])
        stuck = {j if j < i else j + len(new) - count for j in stuck}
    return code


def source_text(obj, *, width: int = WIDTH, omit_checks: bool = True) -> str:
    """The listing ``show_source`` displays: the source of ``obj`` (an object of ``e2t``), dedented, with argument
    checks collapsed (``omit_checks``) and lines fitted to ``width`` characters.
    """
    module = inspect.getmodule(obj)
    if module is None or not module.__name__.startswith("e2t"):
        raise ValueError(f"show_source shows e2t objects only, got {obj!r}")
    if not isinstance(width, int) or width < 40:
        raise ValueError(f"width must be an int >= 40, got {width!r}")
    code = textwrap.dedent(inspect.getsource(obj))
    if omit_checks:
        code = _omit_checks(code)
    return _fit(code.rstrip("\n"), width) + "\n"


def show_source(obj, *, width: int = WIDTH, omit_checks: bool = True) -> Code:
    """Return a displayable, syntax-highlighted listing of a function, class or module of ``e2t``.

    The listing is read from the installed package with ``inspect.getsource``, so it always shows the code that
    the chapter runs; ``source_text`` says how it is fitted to the page. It renders in Jupyter, Colab and the
    built site alike.
    """
    return Code(source_text(obj, width=width, omit_checks=omit_checks), language="python")
