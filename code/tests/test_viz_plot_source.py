"""Tests of the readability helpers: heatmaps with a colour bar and ticks, positional encodings as curves, a memory
weighting cropped to the rows used, ``readable``, and ``show_source`` listings that fit a page."""

import ast
import importlib
import inspect

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from e2t import attention, checks, masks, ntm, transformer  # noqa: E402
from e2t.book import source  # noqa: E402
from e2t.book.source import MARKER, WIDTH, show_source, source_text  # noqa: E402
from e2t.transformer import sinusoidal_positions  # noqa: E402
from e2t.viz import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ------------------------------------------------------------------------------------------------------ heatmap
def test_heatmap_has_a_labelled_colour_bar_and_readable_ticks():
    ax = plot.heatmap(torch.rand(4, 6), x_labels=list("abcdef"), y_labels=list("wxyz"), cbar_label="weight",
                      xlabel="source", ylabel="target", title="t")
    bar = ax.collections[0].colorbar
    assert bar is not None and bar.ax.get_ylabel() == "weight"
    sizes = [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels() + bar.ax.get_yticklabels()]
    assert min(sizes) >= plot.MIN_FONT and ax.xaxis.label.get_fontsize() >= plot.MIN_FONT


def test_heatmap_keeps_its_old_arguments():
    fig, ax = plt.subplots()
    out = plot.heatmap(torch.eye(3), x_labels=list("abc"), y_labels=list("xyz"), ax=ax, title="t", xlabel="x",
                       ylabel="y", cmap="RdBu_r", vmin=-1, vmax=1, annot=True, cbar=False)
    assert out is ax and ax.collections[0].colorbar is None and ax.get_title() == "t"
    assert ax.collections[0].get_clim() == (-1, 1)


def test_heatmap_without_labels_ticks_the_indices():
    ax = plot.heatmap(torch.rand(12, 40))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "5", "10", "15", "20", "25", "30", "35"]
    assert [t.get_text() for t in ax.get_yticklabels()] == [str(i) for i in range(12)]
    assert not plot.heatmap(torch.rand(3, 3), ticks=False).get_xticklabels()
    assert plot.heatmap(torch.rand(3, 200)).figure.get_size_inches()[0] <= 11


def test_readable_raises_small_text():
    fig, ax = plt.subplots()
    ax.set_title("small", fontsize=6)
    ax.legend(handles=ax.plot([0, 1], label="line"), fontsize=7)
    plot.readable(fig)
    assert ax.title.get_fontsize() == plot.MIN_FONT
    assert ax.get_legend().get_texts()[0].get_fontsize() == plot.MIN_FONT


# ------------------------------------------------------------------------------------------- positional encoding
def test_positional_encoding_curves_show_the_chosen_dimensions():
    fig = plot.positional_encoding_curves(30, 16, dims=(0, 1, 6))
    assert len(fig.axes) == 2  # one panel per frequency: i = 0 (dims 0, 1) and i = 3 (dim 6)
    pe = sinusoidal_positions(30, 16).double()
    lines = fig.axes[0].get_lines() + fig.axes[1].get_lines()
    assert [ln.get_label() for ln in lines] == ["dim 0 (sin)", "dim 1 (cos)", "dim 6 (sin)"]
    for line, d in zip(lines, (0, 1, 6)):
        torch.testing.assert_close(torch.tensor(line.get_ydata()), pe[:, d])
    assert "wavelength 6.3" in fig.axes[0].get_title(loc="left")
    with pytest.raises(ValueError, match="dims must be"):
        plot.positional_encoding_curves(10, 8, dims=(8,))


# --------------------------------------------------------------------------------------------------- used rows
def _weights(T, N, rows_by_step):
    w = torch.zeros(T, N)
    for t, r in enumerate(rows_by_step):
        w[t, r] = 1.0
    return w


def test_used_rows_plain_and_circular():
    w = _weights(4, 20, [3, 4, 5, 5])
    assert plot.used_rows(w) == range(2, 7)
    assert plot.used_rows(w, margin=0) == range(3, 6)
    wrap = _weights(4, 128, [126, 127, 0, 1])
    assert plot.used_rows(wrap) == range(-3, 3)  # rows 125..127, 0..2
    assert plot.used_rows(wrap, circular=False, margin=0) == range(0, 128)
    read = _weights(3, 128, [0, 0, 0])
    write = _weights(3, 128, [127, 126, 125])
    assert plot.used_rows(write, read, margin=0) == range(-3, 1)  # one range for both heads
    edge = _weights(2, 10, [8, 9])
    assert list(plot.used_rows(edge)) == [-3, -2, -1, 0]  # rows 7, 8, 9 and 0: no index reaches 10
    spread = torch.full((2, 8), 1 / 8)
    assert plot.used_rows(spread, threshold=0.1) == range(0, 8)
    with pytest.raises(ValueError, match="no row reaches weight 0.5"):
        plot.used_rows(spread, threshold=0.5)
    with pytest.raises(ValueError, match="same N"):
        plot.used_rows(torch.zeros(2, 8), torch.zeros(2, 9))


def test_weighting_heatmap_crops_and_labels_the_real_rows():
    T, N = 30, 128
    w = _weights(T, N, [(N - 1 - t) % N for t in range(T)])  # rows 127, 126, ..., 98
    ax = plot.weighting_heatmap(w, title="write weightings")
    rows = plot.used_rows(w)
    assert ax.collections[0].get_array().shape == (len(rows), T)  # (rows, steps)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert all(int(s) % 5 == 0 for s in labels) and {"100", "125", "0"} <= set(labels)  # row 0: the margin
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["0", "5", "10"]
    assert ax.collections[0].colorbar is not None and ax.get_xlabel() == "time step"
    with pytest.raises(ValueError, match="rows must be row indices"):
        plot.weighting_heatmap(w, rows=range(120, 130))


# ------------------------------------------------------------------------------------------------- show_source
SHOWN = [masks.causal_mask, attention.scaled_dot_product_attention, attention.masked_softmax, ntm.write,
         ntm.address, ntm.content_addressing, transformer.MultiHeadAttention, transformer.MultiHeadAttention.forward,
         transformer.sinusoidal_positions, checks.check_tensor]


@pytest.mark.parametrize("obj", SHOWN, ids=lambda o: o.__qualname__)
def test_show_source_fits_the_page_and_still_parses(obj):
    text = source_text(obj)
    assert max(len(line) for line in text.splitlines()) <= WIDTH
    ast.parse(text)
    assert text == source_text(obj)  # deterministic
    assert show_source(obj).data == text


def test_show_source_omits_argument_checks():
    text = source_text(ntm.write)
    assert MARKER in text and "_check_rows" not in text and "raise" not in text
    assert "erased = memory * (1 - w * erase.unsqueeze(1))" in text  # the computation stays
    assert "B, N, M = _check_memory(memory)" in text  # an assignment is not only a check
    assert text.count(MARKER) == 1  # consecutive checks collapse into one line
    full = source_text(ntm.write, omit_checks=False)
    assert MARKER not in full and "_check_rows" in full


def test_show_source_keeps_a_function_that_is_all_checks():
    text = source_text(checks.check_tensor)
    assert MARKER not in text and "raise TypeError" in text


def test_show_source_breaks_long_lines_sensibly():
    code = (
        "def f(alpha, beta):\n"
        '    """A docstring line that is far too long for the page, so it must be re-wrapped into two or more '
        'lines of prose."""\n'
        "    value = some_function(alpha, beta, gamma=alpha + beta, delta=alpha * beta, epsilon=[alpha, beta],"
        " zeta=(alpha, beta))\n"
        "    other = alpha + beta  # a trailing comment that makes the line longer than the page allows it to be\n"
        '    label = f"{alpha} and {beta}: a long formatted string that goes on and on past the edge of the page"\n'
        "    return value, other, label\n")
    fitted = source._fit(code, 80)
    lines = fitted.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "    # a trailing comment" in fitted and "    other = alpha + beta" in lines
    before, after = ast.parse(code), ast.parse(fitted)
    code_only = [ast.dump(s) for s in before.body[0].body[1:]]  # without the docstring
    assert code_only == [ast.dump(s) for s in after.body[0].body[1:]]  # the same program
    assert next(i for i, line in enumerate(lines) if "gamma" in line) > 2  # broken inside the call


def test_show_source_refuses_other_packages():
    with pytest.raises(ValueError, match="e2t objects only"):
        source_text(inspect.getsource)
    with pytest.raises(ValueError, match="width must be"):
        source_text(masks.causal_mask, width=10)


def test_show_source_fits_every_listing_of_the_models():
    too_long = []
    for name in ("e2t.masks", "e2t.attention", "e2t.scores", "e2t.ntm", "e2t.transformer", "e2t.rnnsearch",
                 "e2t.seq2seq", "e2t.luong", "e2t.ntm_model", "e2t.transformer_model"):
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == name:
                text = source_text(obj)
                ast.parse(text)
                too_long += [f"{name}.{obj.__qualname__}" for line in text.splitlines() if len(line) > WIDTH]
    assert not too_long
