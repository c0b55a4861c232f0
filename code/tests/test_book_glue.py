"""Tests of e2t.book.glue: the stored bundle is the one myst-nb reads, and bad names fail."""

import pytest
import torch
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from myst_nb.ext.glue import GLUE_PREFIX as MYST_PREFIX

from e2t.book.glue import GLUE_PREFIX, glue


def test_glue_stores_a_hidden_bundle_that_myst_nb_reads():
    InteractiveShell.instance()
    with capture_output() as captured:
        returned = glue("accuracy", torch.tensor(0.25))
    assert returned is None  # a cell ending with glue(...) shows nothing
    (out,) = captured.outputs
    assert out.data == {GLUE_PREFIX + "text/plain": "0.25"}  # nothing a front end would render
    assert out.metadata["scrapbook"] == {"name": "accuracy", "mime_prefix": GLUE_PREFIX}
    assert MYST_PREFIX == GLUE_PREFIX  # the prefix myst-nb looks for


@pytest.mark.parametrize("name", ["", "two words", "1st", None])
def test_glue_rejects_names_a_role_cannot_use(name):
    with pytest.raises(ValueError, match="name must be"):
        glue(name, 1)


def test_glue_figure_shows_the_figure_and_glues_its_image():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from e2t.book.glue import glue_figure

    from IPython.core.pylabtools import select_figure_formats

    select_figure_formats(InteractiveShell.instance(), {"png"})  # what a notebook's inline backend does
    fig, ax = plt.subplots(figsize=(2, 1))
    ax.plot([0, 1], [1, 0])
    with capture_output() as captured:
        glue_figure("fig_test", fig)
    shown, glued = captured.outputs
    assert "image/png" in shown.data and shown.data["text/plain"].startswith("<Figure size")
    assert set(glued.data) == {GLUE_PREFIX + "image/png", GLUE_PREFIX + "text/plain"}
    assert glued.metadata["scrapbook"]["name"] == "fig_test"
    assert not plt.fignum_exists(fig.number)  # closed: the cell shows it once
