"""Show the package's own source in a chapter, so the text never pastes (and never drifts from) the code.

Introduced in: the preface.
"""

from __future__ import annotations

import inspect

from IPython.display import Code


def show_source(obj) -> Code:
    """Return a displayable, syntax-highlighted listing of a function, class or module of ``e2t``.

    The listing is read from the installed package with ``inspect.getsource``, so it always shows the code that
    the chapter runs. It renders in Jupyter, Colab and the built site alike.
    """
    module = inspect.getmodule(obj)
    if module is None or not module.__name__.startswith("e2t"):
        raise ValueError(f"show_source shows e2t objects only, got {obj!r}")
    return Code(inspect.getsource(obj), language="python")
