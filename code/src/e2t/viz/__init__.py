"""Plots and widgets: what the book draws, one module per widget.

``widgets`` is the framework (a live ipywidgets panel with a static twin for the web site), ``browser`` its twin
that recomputes in the reader's browser (JavaScript in ``js/``) for every closed-form widget; ``plot`` the shared
plots (heatmaps, learning curves); every other module is one widget or one kind of figure. Nothing here is imported
by a model module.

Introduced in: the preface.
"""
