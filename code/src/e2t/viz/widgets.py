"""Live controls with a static twin: one helper for every widget of the book.

``explore(draw, slider(...), choice(...))`` returns an ``Explorer``. Displayed in Jupyter, Colab or Binder it is an
ipywidgets panel whose controls re-run ``draw`` live. The same output also carries a kernel-free *twin*: frames
precomputed over the controls' values, behind plain ``<input type=range>`` controls, as ``text/html``. The built
site (no kernel) shows the twin, so a reader can still move every control and see the figure change.

The twin covers every combination of the controls' values when there are at most ``max_frames`` of them (a grid).
Beyond that it covers each control's values with the others at their defaults (the axes through the default);
moving one control then puts the others back to their defaults, and the twin says so.

This frames twin is for a widget whose figure needs a trained model (the alignment explorer). A widget whose
computation is closed-form is a ``e2t.viz.browser.BrowserExplorer`` instead: its twin recomputes the figure in the
reader's browser, so every combination of its controls works.

``draw(**values)`` returns a matplotlib ``Figure`` (a pyplot figure is closed after use) or the frame's PNG bytes.
A widget that must answer within the book's budget (100 ms per move, DESIGN.md) draws with a ``Painter``: the
figure is built once, and each move recomputes and redraws only the artists that change, over a cached background.

Introduced in: the preface.
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image


@dataclass(frozen=True)
class Control:
    """One control: the keyword ``name`` passed to ``draw``, the twin's ``values``, the default ``value``.

    ``kind`` is ``"slider"`` (numbers) or ``"choice"`` (any labelled options). For a slider, ``live_step`` makes the
    live control continuous on [min(values), max(values)] with that step; otherwise the live control offers exactly
    ``values``.
    """

    name: str
    values: tuple[Any, ...]
    value: Any
    label: str
    kind: str = "slider"
    live_step: float | None = None
    labels: tuple[str, ...] = ()

    @property
    def default_index(self) -> int:
        return self.values.index(self.value)


def _format(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def slider(name: str, values: Sequence[float], *, value: float | None = None, label: str | None = None,
           live_step: float | None = None) -> Control:
    """A numeric control over ``values`` (the twin's frames), defaulting to ``value`` (one of ``values``)."""
    values = tuple(values)
    if len(values) < 2:
        raise ValueError(f"slider {name!r} needs at least 2 values, got {len(values)}")
    if any(not isinstance(v, (int, float)) or isinstance(v, bool) for v in values):
        raise TypeError(f"slider {name!r} takes numbers; use choice() for other options")
    if list(values) != sorted(values):
        raise ValueError(f"slider {name!r} values must be increasing, got {values}")
    value = values[len(values) // 2] if value is None else value
    if value not in values:
        raise ValueError(f"slider {name!r}: value {value!r} is not one of its values {values}")
    return Control(name=name, values=values, value=value, label=label or name, kind="slider", live_step=live_step,
                   labels=tuple(_format(v) for v in values))


def choice(name: str, options: Sequence[Any] | dict[str, Any], *, value: Any = None,
           label: str | None = None) -> Control:
    """A control over labelled options: a sequence (labels are ``str(option)``) or a ``{label: option}`` dict."""
    if isinstance(options, dict):
        labels, values = tuple(options.keys()), tuple(options.values())
    else:
        values = tuple(options)
        labels = tuple(_format(v) for v in values)
    if len(values) < 2:
        raise ValueError(f"choice {name!r} needs at least 2 options, got {len(values)}")
    value = values[0] if value is None else value
    if value not in values:
        raise ValueError(f"choice {name!r}: value {value!r} is not one of its options")
    return Control(name=name, values=values, value=value, label=label or name, kind="choice", labels=labels)


def _encode_png(canvas: FigureCanvasAgg, mode: str = "RGB") -> bytes:
    """The canvas's current pixels as a PNG (no redraw): ``mode`` "RGB"; "P", quantized to 256 colours (a third
    of the bytes, and faster to encode; a widget's flat colours survive it); or "L" for a grey-scale figure."""


    width, height = canvas.get_width_height()
    image = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    if mode == "P":
        image = image.convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE)
    else:
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format="png")
    return buffer.getvalue()


def figure_to_png(fig, *, dpi: int = 72, tight: bool = False) -> bytes:
    """Render a matplotlib figure to PNG bytes; close it if pyplot made it.

    The figure keeps its own layout (set it with ``fig.subplots_adjust``): one Agg draw, no second pass to crop.
    ``tight=True`` crops to the drawn content like ``bbox_inches="tight"`` (about twice as slow).
    """
    if tight:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        png = buffer.getvalue()
    else:
        fig.set_dpi(dpi)
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        canvas.draw()
        png = _encode_png(canvas)
    plt.close(fig)  # a no-op for a figure pyplot does not know
    return png


class Painter:
    """A widget's figure, built once and redrawn fast: the book's way to meet the 100 ms budget per move.

    A subclass sets ``figsize`` and implements ``build(fig)`` (axes, the artists that never change, and the ones that
    do, registered with ``self.dynamic(...)``) and ``update(**values)`` (recompute for ``values``, set the dynamic
    artists' data and the axes' limits). ``update`` returns ``None``, or a hashable *layout key* when the static part
    depends on the values; ``layout(key)`` then sets that static part (e.g. tick labels), and is called only when the
    key's background is not cached yet. ``png(**values)`` draws the static part once per layout key (cached), then
    per call only the dynamic artists over it (matplotlib blitting) and encodes the PNG. ``figure(**values)``
    returns an ordinary figure with everything drawn, for use outside a widget (the painter is then used up).
    """

    figsize: tuple[float, float] = (6.4, 3.0)
    dpi: int = 72
    mode: str = "P"  # PNG of 256 colours; "L" for a grey-scale figure, "RGB" for exact colours

    def __init__(self):
        self.fig = Figure(figsize=self.figsize, dpi=self.dpi)
        self.canvas = FigureCanvasAgg(self.fig)
        self._dynamic: list = []
        self._backgrounds: dict = {}
        self.build(self.fig)

    def build(self, fig: Figure) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, **values: Any):  # pragma: no cover - abstract
        raise NotImplementedError

    def layout(self, key) -> None:
        """Set the static part for layout ``key`` (tick labels, fixed titles); by default nothing depends on it."""

    def dynamic(self, *artists):
        """Register artists that ``update`` changes; they are drawn per frame, over the cached background."""
        for artist in artists:
            artist.set_animated(True)
            self._dynamic.append(artist)
        return artists[0] if len(artists) == 1 else artists

    def png(self, **values: Any) -> bytes:
        """Recompute and redraw the frame for ``values``; return it as PNG bytes."""
        if self._dynamic is None:
            raise RuntimeError("this painter's figure was handed out by figure(); build a new painter for frames")
        key = self.update(**values)
        background = self._backgrounds.get(key)
        if background is None:
            self.layout(key)
            self.canvas.draw()  # everything but the dynamic artists
            background = self._backgrounds[key] = self.canvas.copy_from_bbox(self.fig.bbox)
        else:
            self.canvas.restore_region(background)
        for artist in sorted(self._dynamic, key=lambda a: a.get_zorder()):
            if artist.get_visible():
                self.fig.draw_artist(artist)
        return _encode_png(self.canvas, self.mode)

    def __call__(self, **values: Any) -> bytes:
        return self.png(**values)

    def figure(self, **values: Any) -> Figure:
        """An ordinary figure for ``values`` (this painter's figure, all artists drawn normally)."""
        self.layout(self.update(**values))
        for artist in self._dynamic or []:
            artist.set_animated(False)
        self._dynamic = None  # from now on an ordinary figure: no more blitted frames
        self._backgrounds = {}
        return self.fig


class Explorer:
    """A live ipywidgets panel and its static twin in one displayable object. Build it with ``explore``."""

    def __init__(self, draw: Callable[..., Any], controls: Sequence[Control], *, title: str = "",
                 max_frames: int = 64, dpi: int = 72):
        if not controls:
            raise ValueError("explore needs at least one control")
        names = [c.name for c in controls]
        if len(set(names)) != len(names):
            raise ValueError(f"control names must be unique, got {names}")
        self.draw = draw
        self.controls = tuple(controls)
        self.title = title
        self.max_frames = max_frames
        self.dpi = dpi
        self._twin: str | None = None
        self._widget = None

    # -- frames ---------------------------------------------------------------------------------------------
    @property
    def defaults(self) -> dict[str, Any]:
        return {c.name: c.value for c in self.controls}

    @property
    def mode(self) -> str:
        """``"grid"`` (every combination) or ``"axes"`` (one control at a time)."""
        return "grid" if math.prod(len(c.values) for c in self.controls) <= self.max_frames else "axes"

    def frame_indices(self) -> list[tuple[int, ...]]:
        """The index tuples the twin precomputes, in order."""
        if self.mode == "grid":
            return list(itertools.product(*(range(len(c.values)) for c in self.controls)))
        base = [c.default_index for c in self.controls]
        seen, out = set(), []
        for i, c in enumerate(self.controls):
            for j in range(len(c.values)):
                idx = tuple(base[:i] + [j] + base[i + 1:])
                if idx not in seen:
                    seen.add(idx)
                    out.append(idx)
        return out

    def values_at(self, idx: Sequence[int]) -> dict[str, Any]:
        return {c.name: c.values[i] for c, i in zip(self.controls, idx)}

    def render(self, **values: Any) -> bytes:
        """Draw the figure for ``values`` (missing ones take their defaults) and return it as PNG bytes."""
        unknown = set(values) - set(self.defaults)
        if unknown:
            raise ValueError(f"unknown controls {sorted(unknown)}; this explorer has {list(self.defaults)}")
        frame = self.draw(**{**self.defaults, **values})
        return frame if isinstance(frame, bytes) else figure_to_png(frame, dpi=self.dpi)

    def time_update(self, control: str | None = None, repeats: int = 20) -> float:
        """Median seconds to recompute and redraw one frame while ``control`` (default: the first) moves through
        its values, the others at their defaults."""
        c = self.controls[0] if control is None else next((c for c in self.controls if c.name == control), None)
        if c is None:
            raise ValueError(f"unknown control {control!r}; this explorer has {list(self.defaults)}")
        times = []
        for r in range(repeats):
            value = c.values[r % len(c.values)]
            start = time.perf_counter()
            self.render(**{c.name: value})
            times.append(time.perf_counter() - start)
        times.sort()
        return times[len(times) // 2]

    # -- the static twin ------------------------------------------------------------------------------------
    def twin_html(self) -> str:
        """The kernel-free twin: precomputed frames behind plain range inputs (cached after the first call)."""
        if self._twin is None:
            self._twin = self._build_twin()
        return self._twin

    def _build_twin(self) -> str:
        images: list[str] = []
        by_png: dict[bytes, int] = {}
        frames: dict[str, int] = {}
        for idx in self.frame_indices():
            png = self.render(**self.values_at(idx))
            if png not in by_png:
                by_png[png] = len(images)
                images.append("data:image/png;base64," + base64.b64encode(png).decode("ascii"))
            frames[",".join(map(str, idx))] = by_png[png]
        defaults = [c.default_index for c in self.controls]
        data = {"mode": self.mode, "defaults": defaults, "frames": frames, "images": images,
                "labels": [list(c.labels) for c in self.controls]}
        rows = []
        for i, c in enumerate(self.controls):
            rows.append(
                f'<label style="display:flex;gap:.6em;align-items:center;margin:.15em 0">'
                f'<span style="min-width:9em">{html.escape(c.label)}</span>'
                f'<input class="e2t-twin-input" type="range" min="0" max="{len(c.values) - 1}" step="1" '
                f'value="{defaults[i]}" aria-label="{html.escape(c.label)}" style="flex:1;max-width:22em">'
                f'<output class="e2t-twin-value" style="min-width:5em">{html.escape(c.labels[defaults[i]])}</output>'
                f"</label>")
        note = ("Static version: precomputed frames. Moving one control puts the others back to their defaults; "
                "run the chapter for the live controls." if self.mode == "axes" else
                "Static version: precomputed frames; run the chapter for the live controls.")
        first = images[frames[",".join(map(str, defaults))]]
        title = f'<div style="font-weight:600">{html.escape(self.title)}</div>' if self.title else ""
        payload = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
        return (
            '<div class="e2t-twin" style="border:1px solid #ddd;border-radius:4px;padding:.5em;margin:.5em 0">'
            f"{title}{''.join(rows)}"
            f'<img class="e2t-twin-frame" src="{first}" alt="{html.escape(self.title or "figure")}" '
            'style="max-width:100%;display:block;margin-top:.4em">'
            f'<div style="font-size:80%;color:#666">{note}</div>'
            f'<script type="application/json" class="e2t-twin-data">{payload}</script>'
            f"<script>{_TWIN_JS}</script>"
            "</div>")

    # -- the live widget ------------------------------------------------------------------------------------
    def widget(self):
        """The live ipywidgets panel (built on first use)."""
        if self._widget is None:
            # Imported here, not at the top: building the static twin (the site, nbval) needs no ipywidgets.
            import ipywidgets as widgets
            from IPython.display import Image, display

            def show(**values):  # the same frames as the twin and the benchmark: draw + PNG
                display(Image(data=self.render(**values), format="png"))

            controls = {c.name: live_control(c) for c in self.controls}
            self._widget = widgets.interactive(show, **controls)
        return self._widget

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.widget()._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.twin_html()
        bundle["text/plain"] = f"Explorer({self.title!r}: {', '.join(c.name for c in self.controls)})"
        return bundle


def live_control(c: Control):
    """The ipywidgets control for ``c``: a continuous slider (``live_step``), a slider over ``values``, or a
    dropdown for a choice."""
    # Imported here, not at the top: building a static twin (the site, nbval) needs no ipywidgets.
    import ipywidgets as widgets

    style = {"description_width": "initial"}
    if c.kind == "slider" and c.live_step is not None:
        integer = all(isinstance(v, int) for v in c.values) and float(c.live_step).is_integer()
        cls = widgets.IntSlider if integer else widgets.FloatSlider
        return cls(value=c.value, min=min(c.values), max=max(c.values), step=c.live_step, description=c.label,
                   continuous_update=True, style=style, layout=widgets.Layout(width="34em"))
    if c.kind == "slider":
        return widgets.SelectionSlider(options=list(zip(c.labels, c.values)), value=c.value, description=c.label,
                                       style=style, layout=widgets.Layout(width="34em"))
    return widgets.Dropdown(options=list(zip(c.labels, c.values)), value=c.value, description=c.label, style=style)


def explore(draw: Callable[..., Any], *controls: Control, title: str = "", max_frames: int = 64,
            dpi: int = 72) -> Explorer:
    """Build a live panel + static twin over ``controls`` for ``draw(**values) -> Figure``."""
    return Explorer(draw, controls, title=title, max_frames=max_frames, dpi=dpi)


# The twin's script finds its own container through document.currentScript, so two twins on a page never drive
# each other. It needs no library and no network.
_TWIN_JS = """(function(root){
var data=JSON.parse(root.querySelector('script.e2t-twin-data').textContent);
var img=root.querySelector('img.e2t-twin-frame');
var inputs=root.querySelectorAll('input.e2t-twin-input');
var outs=root.querySelectorAll('output.e2t-twin-value');
function update(changed){
  var idx=[];
  for(var i=0;i<inputs.length;i++){
    if(data.mode==='axes'&&i!==changed){inputs[i].value=data.defaults[i];}
    idx.push(parseInt(inputs[i].value,10));
    outs[i].textContent=data.labels[i][idx[i]];
  }
  var f=data.frames[idx.join(',')];
  if(f!==undefined){img.src=data.images[f];img.setAttribute('data-frame',idx.join(','));}
}
for(var i=0;i<inputs.length;i++){(function(k){
  inputs[k].addEventListener('input',function(){update(k);});
  inputs[k].addEventListener('change',function(){update(k);});
})(i);}
})(document.currentScript.parentNode);"""
