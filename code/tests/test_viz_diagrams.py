"""Tests of ``e2t.viz.diagrams``: every diagram builds, holds its labelled parts, keeps its text at 10 pt or more,
inside the figure and without two texts overlapping, and draws the same picture every time."""

import io
import itertools

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from e2t.viz import diagrams  # noqa: E402

#: Texts each diagram must show (exact strings of its text artists).
PARTS = {
    "encoder_decoder": ["Encoder", "Decoder", "code $c$", "input $x$", "output $y$", "CNN", "RNN"],
    "seq2seq": ["forty", "two", "<bos>", "zwei", "und", "vierzig", "<eos>", "$h_1$", "$h_2$", "$c = h_{2}$",
                "$s_1$", "$s_4$"],
    "bahdanau": [r"$\overrightarrow{h}_{1}$", r"$\overleftarrow{h}_{4}$", "$h_1$", r"$\alpha_{t,1}$",
                 r"$\alpha_{t,4}$", r"$\Sigma$", "$c_t$", "$s_{t-1}$", "$s_t$", "$y_{t-1}$", "$y_t$", "query"],
    "ntm": ["Controller", "Read head", "Write head", r"Memory $M_t$ ($N \times M$)", "external input $x_t$",
            "external output $y_t$", "$r_t$", "$w^r_t$", "$w^w_t$"],
    "ntm_addressing_flow": ["Content addressing", "Interpolation", "Convolutional shift", "Sharpening",
                            r"$k_t, \beta_t$", "$g_t$", "$s_t$", r"$\gamma_t$", "$M_t$", "$w^c_t$", "$w^g_t$",
                            r"$\tilde w_t$", "$w_t$"],
    "transformer": ["Multi-head self-attention", "Masked multi-head self-attention", "Multi-head attention",
                    "Add & Norm", "Feed-forward", "Input embedding", "Output embedding", "Linear", "Softmax",
                    "N ×", "Encoder", "Decoder", "causal mask", "padding mask"],
}


def _texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


@pytest.fixture(params=sorted(PARTS))
def built(request):
    fig = getattr(diagrams, request.param)()
    yield request.param, fig
    plt.close(fig)


def test_every_diagram_is_listed():
    assert sorted(PARTS) == sorted(n for n in diagrams.__all__ if n not in ("PALETTE", "FONT", "SMALL"))


def test_diagram_has_its_labelled_parts(built):
    name, fig = built
    texts = {t.get_text() for t in _texts(fig)}
    missing = [p for p in PARTS[name] if p not in texts]
    assert not missing, f"{name} lacks {missing}"


def test_diagram_size_and_font_sizes(built):
    name, fig = built
    width, height = fig.get_size_inches()
    assert 8 <= width <= 11 and 3 <= height <= 10, (name, width, height)
    small = [(t.get_text(), t.get_fontsize()) for t in _texts(fig) if t.get_fontsize() < diagrams.SMALL]
    assert diagrams.SMALL >= 10 and not small, f"{name}: text below 10 pt: {small}"


@pytest.mark.parametrize("dpi", [72, 100])
def test_diagram_texts_do_not_overlap_and_stay_inside(built, dpi):
    name, fig = built
    fig.set_dpi(dpi)
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in _texts(fig)]
    outside = [s for s, b in boxes if b.x0 < 0 or b.y0 < 0 or b.x1 > fig.bbox.width or b.y1 > fig.bbox.height]
    assert not outside, f"{name}: text outside the figure: {outside}"
    overlaps = [(a, b) for (a, ba), (b, bb) in itertools.combinations(boxes, 2) if ba.overlaps(bb)]
    assert not overlaps, f"{name}: texts overlap: {overlaps}"


def test_diagram_is_deterministic(built):
    name, fig = built
    again = getattr(diagrams, name)()
    try:
        pngs = []
        for f in (fig, again):
            buf = io.BytesIO()
            f.savefig(buf, format="png", dpi=72)
            pngs.append(buf.getvalue())
        assert pngs[0] == pngs[1]
    finally:
        plt.close(again)


def _y_of(fig, text):
    return next(t.get_position()[1] for t in _texts(fig) if t.get_text() == text)


def test_transformer_marks_where_each_mask_applies():
    fig = diagrams.transformer()
    try:
        texts = [t.get_text() for t in _texts(fig)]
        assert texts.count("Add & Norm") == 5 and texts.count("Feed-forward") == 2  # 2 + 3 sublayers
        assert texts.count("positional\nencoding") == 2 and texts.count("N ×") == 2
        causal = _y_of(fig, "causal mask:\nno later position")
        pads = sorted(t.get_position()[1] for t in _texts(fig) if t.get_text() == "padding mask:\nno source <pad>")
        # each tag sits beside the attention it applies to (labels are 0.13 in above the box centres)
        assert abs(causal - (_y_of(fig, "Masked multi-head self-attention") - 0.45)) < 0.1
        assert abs(pads[0] - (_y_of(fig, "Multi-head self-attention") - 0.45)) < 0.1
        assert abs(pads[1] - (_y_of(fig, "Multi-head attention") - 0.45)) < 0.1
        assert "causal mask" in texts and texts.count("padding mask") == 1  # the notes inside the boxes
    finally:
        plt.close(fig)


def test_seq2seq_follows_its_example():
    fig = diagrams.seq2seq(("seven",), ("sieben",))
    try:
        texts = [t.get_text() for t in _texts(fig)]
        assert "$c = h_{1}$" in texts and "$s_2$" in texts and "$s_3$" not in texts
        assert texts.count("sieben") == 2  # written as the output, then read as the next input
    finally:
        plt.close(fig)
