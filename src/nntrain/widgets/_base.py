"""One explorer, two faces: ipywidgets in a kernel, a Vega-Lite twin on the website.

:class:`Explorer` is what every ``nt.widgets.explore_*`` function returns. Displayed as a
cell's last value, it hands Jupyter a MIME bundle with both faces:

* ``application/vnd.jupyter.widget-view+json``: the live face, ipywidgets controls above a
  matplotlib figure. JupyterLab, Notebook 7, VS Code and Colab render this one.
* ``text/html``: the static twin (:mod:`nntrain.widgets._static`), computed ahead from the
  same data. The course website's build (myst-nb) is told to prefer it
  (``nb_mime_priority_overrides`` in ``_config.yml``), since no kernel runs behind a page.

Both faces read the same precomputed tables (:attr:`Explorer.data`), so what a reader sees
on the site is what the kernel would draw. A redraw of the live face only filters those
tables and updates the figure's artists in place, then sends one JPEG frame; anything slower (a
forward pass the explorer has not cached yet) shows a progress bar while it runs.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator, Mapping

import ipywidgets
import PIL.Image
import matplotlib.figure
from matplotlib.backends.backend_agg import FigureCanvasAgg
import numpy as np
import pandas as pd

from . import _static

__all__ = ["Explorer", "log_options"]

# JPEG quality of the live face's frames (95: no visible ringing around lines or text).
_JPEG_QUALITY = 95


def log_options(values) -> list[tuple[str, float]]:
    """(label, value) pairs for a ``SelectionSlider`` over log-spaced values (3 significant digits)."""
    return [(f"{v:.3g}", float(v)) for v in values]


class Explorer:
    """Base of the explorers: controls, a figure that redraws on every change, a static twin.

    Subclasses set :attr:`key` and :attr:`title`, fill :attr:`data` with their precomputed
    tables, call :meth:`_build` with their controls and a figure, and implement
    :meth:`_draw` (update the figure for the current values) and :meth:`static_spec`
    (the Vega-Lite twin).

    Attributes:
        key: a short name, used in the page's query string (``"lr"``).
        title: a one-line description shown above the controls.
        data: the precomputed tables both faces draw from.
        controls: the ipywidgets controls, by name.
        figure: the matplotlib figure of the live face.
        image: the ``ipywidgets.Image`` that shows the figure.
        widget: the whole live face (an ``ipywidgets.VBox``).
        last_redraw_s: how long the last redraw took, in seconds.
    """

    key: str = "explorer"
    title: str = ""

    def __init__(self) -> None:
        self.data: dict[str, pd.DataFrame] = {}
        self.controls: dict[str, ipywidgets.ValueWidget] = {}
        self.last_redraw_s = float("nan")
        self._static_html: str | None = None

    # ------------------------------------------------------------------ live face

    def _build(self, controls: Mapping[str, ipywidgets.ValueWidget],
               figure: matplotlib.figure.Figure) -> None:
        """Lay out the live face and draw it once."""
        self.controls = dict(controls)
        self.figure = figure
        self._canvas = FigureCanvasAgg(figure)
        self._restage()
        self.image = ipywidgets.Image(format="jpeg", layout=ipywidgets.Layout(max_width="100%"))
        self.status = ipywidgets.HTML()
        self.progress = ipywidgets.FloatProgress(
            min=0.0, max=1.0, layout=ipywidgets.Layout(visibility="hidden", width="50%"))
        header = ipywidgets.HTML(f"<b>{self.title}</b>") if self.title else ipywidgets.HTML()
        row = ipywidgets.HBox(list(self.controls.values()),
                              layout=ipywidgets.Layout(flex_flow="row wrap"))
        self.widget = ipywidgets.VBox([header, row, ipywidgets.HBox([self.progress, self.status]),
                                       self.image])
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        # Lay the figure out once, with its first content, then keep the layout: re-running
        # the layout engine measures every tick label again and costs more than the drawing.
        self._draw(self.values)
        for artist in self._animated:
            artist.set_animated(False)  # so that the layout makes room for titles
        self._canvas.draw()
        self.figure.set_layout_engine("none")
        for artist in self._animated:
            artist.set_animated(True)
        self._background = None
        self.redraw()

    @property
    def values(self) -> dict:
        """The controls' current values, by name."""
        return {name: control.value for name, control in self.controls.items()}

    def set(self, **values) -> Explorer:
        """Move controls, as a reader would; the figure redraws once, at the end.

        Args:
            **values: new values by control name, e.g. ``learning_rate=0.1``. A value
                that the control does not offer raises ``ValueError``.

        Returns:
            The explorer itself.
        """
        unknown = set(values) - set(self.controls)
        if unknown:
            raise ValueError(f"Controls are {sorted(self.controls)}. Received: {sorted(unknown)}")
        matched = {name: _match(name, value, _allowed(self.controls[name]))
                   for name, value in values.items()}  # check every value before moving any
        with self._hold():
            for name, value in matched.items():
                self.controls[name].value = value
        self.redraw()
        return self

    @contextlib.contextmanager
    def _hold(self) -> Iterator[None]:
        """Within it, control changes do not redraw."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def _on_change(self, change) -> None:
        if not getattr(self, "_holding", False):
            self.redraw()

    def redraw(self) -> float:
        """Redraw the live face for the controls' values; return the seconds it took.

        Blitting: the figure's static part (axes, ticks, contour lines) is rendered once
        and kept as pixels; a redraw restores those pixels and draws only the artists
        registered with :meth:`_animate` (paths, curves, titles), then encodes one JPEG.
        A subclass calls :meth:`_restage` when the static part itself changes.
        """
        start = time.perf_counter()
        self._draw(self.values)
        if self._background is None:
            self._canvas.draw()  # animated artists are skipped: this is the background
            self._background = self._canvas.copy_from_bbox(self.figure.bbox)
        else:
            self._canvas.restore_region(self._background)
        for artist in self._animated:
            self.figure.draw_artist(artist)
        buffer = io.BytesIO()
        rgb = PIL.Image.fromarray(np.asarray(self._canvas.buffer_rgba())).convert("RGB")
        # JPEG, not PNG: PNG's filtering alone takes several times the whole redraw budget
        # (measured: ~7x JPEG's time at this size); at quality 95 without chroma subsampling
        # thin coloured lines and text stay crisp.
        rgb.save(buffer, format="jpeg", quality=_JPEG_QUALITY, subsampling=0)
        self.image.value = buffer.getvalue()
        self.last_redraw_s = time.perf_counter() - start
        return self.last_redraw_s

    def _animate(self, *artists) -> None:
        """Register artists that change on every redraw (drawn over the kept background)."""
        for artist in artists:
            artist.set_animated(True)
            self._animated.append(artist)

    def _restage(self) -> None:
        """Forget the kept background and the animated artists (the static part changed)."""
        self._background = None
        self._animated = []

    @contextlib.contextmanager
    def busy(self, message: str) -> Iterator[ipywidgets.FloatProgress]:
        """Show ``message`` and a progress bar while a slow computation runs.

        Yields the ``FloatProgress`` (0 to 1) for the computation to advance. Widget
        updates are sent to the front end at once, so the reader sees the message while
        the kernel is busy.
        """
        self.progress.value = 0.0
        self.progress.layout.visibility = "visible"
        self.status.value = f"<i>{message}</i>"
        try:
            yield self.progress
        finally:
            self.progress.layout.visibility = "hidden"
            self.status.value = ""

    def _draw(self, values: dict) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ static twin

    def static_spec(self) -> dict:
        """The Vega-Lite specification of the static twin (a dict)."""
        raise NotImplementedError

    def static_html(self) -> str:
        """The static twin as an HTML fragment (see :func:`nntrain.widgets._static.to_html`)."""
        if self._static_html is None:
            self._static_html = _static.to_html(self.static_spec(), self.key)
        return self._static_html

    # ------------------------------------------------------------------ display

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        bundle = _widget_bundle(self.widget, include, exclude)
        if _static.available():  # the website's face; a live kernel without it shows the widgets
            bundle["text/html"] = self.static_html()
        bundle["text/plain"] = repr(self)
        return bundle

    def __repr__(self) -> str:
        settings = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({settings})"


def _widget_bundle(widget, include, exclude) -> dict:
    """The mime bundle that shows ``widget`` live in a kernel's front end."""
    method = getattr(widget, "_repr_mimebundle_", None)
    if method is not None:  # ipywidgets 8
        return method(include=include, exclude=exclude)
    # ipywidgets 7 (Colab's 7.7.1) has no _repr_mimebundle_: the same view reference that
    # its _ipython_display_ sends.
    return {"application/vnd.jupyter.widget-view+json":
            {"version_major": 2, "version_minor": 0, "model_id": widget._model_id}}


def _allowed(control) -> list | None:
    options = getattr(control, "options", None)
    if options is None:
        return None
    return [o[1] if isinstance(o, tuple) else o for o in options]


def _match(name: str, value, allowed: list | None):
    """``value`` as one of ``allowed`` (floats matched to 1e-9 relative), or a ValueError."""
    if allowed is None:
        return value
    for option in allowed:
        if option == value:
            return option
        if (isinstance(option, float) and isinstance(value, (int, float, np.number))
                and not isinstance(value, bool) and np.isclose(option, value, rtol=1e-9, atol=0)):
            return option
    shown = [float(f"{o:.4g}") if isinstance(o, float) else o for o in allowed]
    raise ValueError(f"`{name}` must be one of {shown}. Received: {name}={value!r}")
