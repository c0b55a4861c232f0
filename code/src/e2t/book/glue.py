"""Numbers the prose states, glued from the cell that computes them.

A chapter never types a measured number into its text: the cell that computes it calls ``glue("name", value)`` and
the Markdown says ``{glue:text}`name:.2f```. Jupyter Book (myst-nb) puts the value there on the web site. This
module writes the same output as ``myst_nb.glue(name, value, display=False)`` without needing myst-nb, so a
chapter also runs in Colab or Binder where only ``e2t`` is installed (there the role shows as written; the text
around it points at the printed output that holds the number).

Introduced in: the preface.
"""

from __future__ import annotations

import re
from typing import Any

from IPython.core.formatters import format_display_data
from IPython.display import display

__all__ = ["GLUE_PREFIX", "glue", "glue_figure"]

#: The MIME prefix myst-nb reads glued values from (``myst_nb.ext.glue.GLUE_PREFIX``).
GLUE_PREFIX = "application/papermill.record/"

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def glue(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` for ``{glue:text}`name``` in this page's Markdown.

    Nothing is shown in the notebook (the stored bundle has only prefixed MIME types, which no front end renders),
    and nothing is returned, so a cell may end with a ``glue`` call without printing the value again.
    Numbers are stored as plain Python numbers, so a format spec (``name:.2f``, ``name:.0%``) applies to them.
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be a Python-identifier-like string, got {name!r}")
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 0) == 0:
        value = value.item()  # a 0-d tensor or numpy scalar: glue the number, not the tensor's repr
    bundle, metadata = format_display_data(value)
    metadata = dict(metadata)
    metadata["scrapbook"] = {"name": name, "mime_prefix": GLUE_PREFIX}
    display({GLUE_PREFIX + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def glue_figure(name: str, fig) -> None:
    """Show ``fig`` in the notebook and glue it for a numbered figure on the site; the figure is then closed.

    The Markdown cell after it says ```` ```{glue:figure} name ```` with ``:name: fig-...`` and a caption that says
    what to see; ``{numref}`fig-...``` refers to it. Tag the code cell ``remove-output`` so the site shows the
    figure once, numbered, where the directive stands (Jupyter and Colab show the cell's output and the directive's
    caption as written).
    """
    import matplotlib.pyplot as plt  # only a figure needs matplotlib; plain numbers are glued without it

    display(fig)
    glue(name, fig)
    plt.close(fig)
