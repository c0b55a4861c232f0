"""Widgets whose static twin recomputes the figure in the reader's browser.

A ``BrowserExplorer`` is an ``e2t.viz.widgets.Explorer`` for a closed-form computation (softmax temperature, the
1/sqrt(d) demo, Luong's local window, the NTM's read/write and addressing, the Transformer's masks). Displayed in
Jupyter, Colab or Binder it is a live ipywidgets panel that computes with ``e2t`` itself (a ``Painter`` draws the
PNG). Its ``text/html`` twin, the one the built site shows, is a plain inline script: a small JavaScript module per
widget (``e2t/viz/js/<widget>.js``, the same formulas in float64) plus a shared runtime (``js/twin.js``: controls,
presets, constraints, timing) and drawing helper (``js/svg.js``). Every combination of the controls works, and a
move redraws within an animation frame.

Why a plain script and not anywidget: the site renders the notebooks' *saved* outputs with no kernel, and a saved
anywidget view needs its ES module loaded by a widget manager (the vendored html-manager does not load anywidget's
front end), so it would show nothing offline. An inline ``<script>`` inside the ``text/html`` output needs nothing:
the saved notebook carries the whole twin (code and data, about 20-40 KB), works offline, and finds its own
container through ``document.currentScript`` (no element ids, so outputs stay deterministic and two twins on one
page never drive each other).

Inputs that ``e2t`` draws at random (a memory, random scores) are generated in Python and embedded as data, so both
sides compute on the same numbers. The twin exposes what it computed on its element (``data-e2t-values``, and the
settings used in ``data-e2t-settings``); ``BrowserExplorer.expected(**settings)`` computes the same values with
``e2t``, which is what the browser check (``tools/twin_check.py``) compares them with.

On the book's site the twin widens its notebook cell the way the theme widens a cell tagged ``full-width`` (into
the right margin, about 920 px at a 1280 px window; the theme then folds the page's table of contents while the
cell is in view), so the figure's text can stay at 9-10 pt. Anywhere else it takes the width it is given and lays
its panels out for it.

Controls keep their values as shown: a constraint between two controls (the shift weights s(-1) + s(+1) <= 1, a
sequence length <= its padded length) moves the *other* control visibly, never rescales silently.

Introduced in: the preface.
"""

from __future__ import annotations

import functools
import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from typing import Any

from e2t.viz.widgets import Control, Explorer, live_control

__all__ = ["BROWSER_TWINS", "BrowserExplorer", "sum_at_most", "at_most", "preset", "script"]

#: Every widget of the book whose twin computes in the browser (factory paths; the browser check finds them).
BROWSER_TWINS = ("e2t.viz.temperature.temperature_explorer", "e2t.viz.scaling.scaling_explorer",
                 "e2t.viz.local_window.local_window_explorer", "e2t.viz.ntm_read_write.read_write_explorer",
                 "e2t.viz.ntm_addressing.addressing_explorer", "e2t.viz.masking.masking_explorer")

_TOLERANCE = 1e-9


def sum_at_most(a: str, b: str, total: float = 1.0) -> dict:
    """A constraint: control ``a`` + control ``b`` <= ``total``; moving one moves the other down to fit."""
    return {"kind": "sum_at_most", "names": [a, b], "total": total}


def at_most(a: str, b: str) -> dict:
    """A constraint: control ``a`` <= control ``b``; moving one past the other takes the other along."""
    return {"kind": "at_most", "names": [a, b]}


def preset(label: str, **settings: Any) -> dict:
    """A button that sets the controls named in ``settings`` (every control, so a preset is reproducible)."""
    return {"label": label, "settings": settings}


@functools.cache
def script(name: str) -> str:
    """The text of ``e2t/viz/js/<name>.js`` (shipped as package data)."""
    text = resources.files("e2t.viz").joinpath("js", f"{name}.js").read_text(encoding="utf-8")
    if "</script" in text.lower():
        raise ValueError(f"js/{name}.js contains '</script', which would end the inline script early")
    return text


def _decimals(step: float) -> int:
    text = repr(float(step)).rstrip("0")
    return 0 if text.endswith(".") else len(text.split(".")[1])


def _spec(c: Control) -> dict:
    if c.kind == "choice":
        return {"name": c.name, "label": c.label, "kind": "choice", "values": list(c.values),
                "labels": list(c.labels), "value": c.value}
    if c.live_step is None:
        return {"name": c.name, "label": c.label, "kind": "values", "values": list(c.values),
                "labels": list(c.labels), "value": c.value}
    return {"name": c.name, "label": c.label, "kind": "range", "min": min(c.values), "max": max(c.values),
            "step": c.live_step, "value": c.value}


class BrowserExplorer(Explorer):
    """A live panel computing with ``e2t`` and a twin computing the same formulas in the browser.

    ``draw(**settings)`` draws the live figure (a ``Painter``); ``key`` is the factory's path (how the browser check
    finds this explorer again); ``script`` names the widget's module in ``js/``; ``data`` is what the twin embeds
    (JSON); ``expected(**settings)`` returns, computed with ``e2t``, the values the twin exposes; ``presets`` and
    ``constraints`` come from ``preset``, ``sum_at_most`` and ``at_most``; ``readout(settings)`` is a line of text
    under the controls (e.g. the derived shift weight s(0)).
    """

    def __init__(self, draw: Callable[..., Any], controls: Sequence[Control], *, key: str, script: str,
                 data: Mapping[str, Any], expected: Callable[..., dict], title: str = "",
                 presets: Sequence[dict] = (), constraints: Sequence[dict] = (),
                 readout: Callable[[dict], str] | None = None):
        super().__init__(draw, controls, title=title)
        self.key, self.script, self.data = key, script, dict(data)
        self._expected, self.readout = expected, readout
        self.presets, self.constraints = tuple(presets), tuple(constraints)
        by_name = {c.name: c for c in self.controls}
        for rule in self.constraints:
            unknown = [n for n in rule["names"] if n not in by_name]
            if unknown:
                raise ValueError(f"constraint {rule} names unknown controls {unknown}")
        self.normalize(self.defaults)
        for p in self.presets:
            if set(p["settings"]) != set(by_name):
                raise ValueError(f"preset {p['label']!r} must set every control {sorted(by_name)}, "
                                 f"got {sorted(p['settings'])}")
            self.normalize(p["settings"])

    @property
    def mode(self) -> str:
        """``"browser"``: the twin recomputes every combination of the controls; it stores no frames."""
        return "browser"

    def frame_indices(self) -> list[tuple[int, ...]]:
        """No precomputed frames: the twin computes each figure in the browser."""
        return []

    # -- settings ---------------------------------------------------------------------------------------------
    def normalize(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        """``settings`` checked against the controls (every name, range, step, option and constraint) and with
        each value in its control's type (int for integer controls). Raises ``ValueError`` naming the control."""
        names = [c.name for c in self.controls]
        if set(settings) != set(names):
            raise ValueError(f"settings must name every control {names}, got {sorted(settings)}")
        out = {}
        for c in self.controls:
            v = settings[c.name]
            if c.kind == "choice" or c.live_step is None:
                if v not in c.values:
                    raise ValueError(f"{c.name} = {v!r} is not one of its values {c.values}")
                out[c.name] = c.values[c.values.index(v)]
                continue
            lo, hi, step = min(c.values), max(c.values), c.live_step
            if not lo - _TOLERANCE <= v <= hi + _TOLERANCE:
                raise ValueError(f"{c.name} = {v!r} lies outside [{lo}, {hi}]")
            k = (v - lo) / step
            if abs(k - round(k)) > 1e-6:
                raise ValueError(f"{c.name} = {v!r} is not on its step {step} from {lo}")
            integer = all(isinstance(x, int) for x in c.values) and float(step).is_integer()
            out[c.name] = int(round(v)) if integer else float(v)
        for rule in self.constraints:
            a, b = (out[n] for n in rule["names"])
            if rule["kind"] == "sum_at_most" and a + b > rule["total"] + _TOLERANCE:
                raise ValueError(f"{' + '.join(rule['names'])} = {a + b} exceeds {rule['total']}")
            if rule["kind"] == "at_most" and a > b:
                raise ValueError(f"{rule['names'][0]} = {a} exceeds {rule['names'][1]} = {b}")
        return out

    def constrain(self, settings: Mapping[str, Any], moved: Sequence[str] = ()) -> dict[str, Any]:
        """``settings`` with each constraint met the way the controls meet it: the moved control keeps its value,
        its partner moves to the nearest value that fits (what the live panel and the twin both do)."""
        out = dict(settings)
        steps = {c.name: c.live_step for c in self.controls}
        for rule in self.constraints:
            a, b = rule["names"]
            other = a if b in moved and a not in moved else b
            if rule["kind"] == "sum_at_most" and out[a] + out[b] > rule["total"] + _TOLERANCE:
                keep = out[b] if other == a else out[a]
                step = steps[other] or 1
                out[other] = round(round((rule["total"] - keep) / step) * step, _decimals(step))
            elif rule["kind"] == "at_most" and out[a] > out[b]:
                out[other] = out[b] if other == a else out[a]
        return out

    def render(self, **values: Any) -> bytes:
        """The live figure's PNG for ``values`` (others at their defaults, constraints met as a move meets them)."""
        unknown = set(values) - set(self.defaults)
        if unknown:
            raise ValueError(f"unknown controls {sorted(unknown)}; this explorer has {list(self.defaults)}")
        return super().render(**self.constrain({**self.defaults, **values}, moved=tuple(values)))

    def expected(self, **settings: Any) -> dict[str, Any]:
        """What the twin must expose at ``settings`` (others at their defaults), computed with ``e2t`` in float64:
        a dict of numbers and nested lists, the same keys as the twin's ``data-e2t-values``."""
        return self._expected(**self.normalize({**self.defaults, **settings}))

    def spec(self) -> dict:
        """The controls, presets and constraints as the twin's runtime reads them."""
        return {"controls": [_spec(c) for c in self.controls], "presets": list(self.presets),
                "constraints": list(self.constraints)}

    # -- the twin ---------------------------------------------------------------------------------------------
    def _build_twin(self) -> str:
        payload = json.dumps({"spec": self.spec(), "data": self.data}, separators=(",", ":"),
                             allow_nan=False).replace("</", "<\\/")
        rows = []
        for c in self.controls:
            label = html.escape(c.label)
            if c.kind == "choice":
                options = "".join(f"<option{' selected' if v == c.value else ''}>{html.escape(text)}</option>"
                                  for v, text in zip(c.values, c.labels))
                field = f'<select data-e2t-control="{c.name}" aria-label="{label}">{options}</select>'
                shown = ""
            else:
                if c.live_step is None:
                    lo, hi, step, value = 0, len(c.values) - 1, 1, c.values.index(c.value)
                else:
                    lo, hi, step, value = min(c.values), max(c.values), c.live_step, c.value
                field = (f'<input type="range" data-e2t-control="{c.name}" min="{lo}" max="{hi}" step="{step}" '
                         f'value="{value}" aria-label="{label}">')
                shown = f'<output data-e2t-value="{c.name}"></output>'
            rows.append(f'<label class="e2t-control"><span>{label}</span>{field}{shown}</label>')
        buttons = "".join(f'<button type="button" class="e2t-preset" data-e2t-preset="{i}">'
                          f'{html.escape(p["label"])}</button>' for i, p in enumerate(self.presets))
        presets = f'<div class="e2t-presets"><span>Try:</span>{buttons}</div>' if buttons else ""
        readout = '<div class="e2t-readout-row"><output class="e2t-readout"></output></div>' if self.readout else ""
        title = f'<div class="e2t-title">{html.escape(self.title)}</div>' if self.title else ""
        code = "\n".join((script("svg"), script("twin"), script(self.script)))
        return (
            f'<div class="e2t-twin e2t-browser-twin" data-e2t-widget="{html.escape(self.key)}">'
            f"<style>{_CSS}</style>{title}{presets}"
            f'<div class="e2t-controls">{"".join(rows)}</div>{readout}'
            '<div class="e2t-figure"></div>'
            '<div class="e2t-note">Computed in your browser with the same formulas as <code>e2t</code> (float64); '
            "run the chapter for the live widget, which computes with <code>e2t</code> itself.</div>"
            f'<script type="application/json" class="e2t-twin-data">{payload}</script>'
            f'<script>(function (root) {{\n"use strict";\n{code}\nE2T.start(root, WIDGET);\n}})'
            "(document.currentScript.parentNode);</script></div>")

    # -- the live widget --------------------------------------------------------------------------------------
    def widget(self):
        """The live ipywidgets panel: the controls, the presets, and the figure drawn by ``e2t`` on every move."""
        if self._widget is None:
            # Imported here, not at the top: building the static twin (the site, nbval) needs no ipywidgets.
            import ipywidgets as widgets

            inputs = {c.name: live_control(c) for c in self.controls}
            image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
            text = widgets.HTML()
            busy = False

            def show():
                settings = {n: w.value for n, w in inputs.items()}
                image.value = Explorer.render(self, **settings)
                if self.readout is not None:
                    text.value = html.escape(self.readout(self.normalize(settings)))

            def update(values: Mapping[str, Any]):
                nonlocal busy
                busy = True
                try:
                    for name, value in values.items():
                        if inputs[name].value != value:
                            inputs[name].value = value
                finally:
                    busy = False
                show()

            def observer(name):
                def on_change(_change):
                    if not busy:
                        update(self.constrain({n: w.value for n, w in inputs.items()}, moved=(name,)))
                return on_change

            for name, control in inputs.items():
                control.observe(observer(name), names="value")
            buttons = []
            for p in self.presets:
                button = widgets.Button(description=p["label"], layout=widgets.Layout(width="auto"))
                button.on_click(lambda _b, settings=p["settings"]: update(settings))
                buttons.append(button)
            show()
            parts = [widgets.HTML(f"<b>{html.escape(self.title)}</b>")] if self.title else []
            if buttons:
                parts.append(widgets.HBox([widgets.Label("Try:"), *buttons]))
            self._widget = widgets.VBox([*parts, *inputs.values(), text, image])
        return self._widget


_CSS = (".e2t-browser-twin{box-sizing:border-box;border:1px solid #ddd;border-radius:4px;padding:.5em .35em;"
        "margin:.6em 0;"
        "font-size:15px;line-height:1.35;background:#fff;color:#222}"
        ".e2t-browser-twin .e2t-title{font-weight:600;margin-bottom:.3em}"
        ".e2t-browser-twin .e2t-presets{display:flex;flex-wrap:wrap;gap:.4em;align-items:center;margin:.2em 0 .4em}"
        ".e2t-browser-twin .e2t-preset{font:inherit;padding:.15em .6em;border:1px solid #999;border-radius:3px;"
        "background:#f6f6f6;cursor:pointer}"
        ".e2t-browser-twin .e2t-controls{display:grid;grid-template-columns:repeat(auto-fill,minmax(25em,1fr));"
        "gap:.15em 1.6em}"
        ".e2t-browser-twin .e2t-control{display:flex;gap:.6em;align-items:center;margin:0}"
        ".e2t-browser-twin .e2t-control>span{min-width:10.5em}"
        ".e2t-browser-twin .e2t-control>input,.e2t-browser-twin .e2t-control>select{flex:1;min-width:6em;font:inherit}"
        ".e2t-browser-twin output{min-width:3.6em;font-variant-numeric:tabular-nums}"
        ".e2t-browser-twin .e2t-readout-row{margin:.2em 0}"
        ".e2t-browser-twin .e2t-figure{width:100%;margin-top:.5em;overflow-x:auto}"
        ".e2t-browser-twin .e2t-note{font-size:13px;color:#555;margin-top:.3em}")
