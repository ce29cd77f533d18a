r"""The static twin: a Vega-Lite chart whose controls work in a page with no kernel.

The explorers' live face needs a Python kernel; the course website has none. So each
explorer also renders a *static twin*: a Vega-Lite specification (built with Altair) that
holds the explorer's precomputed data and binds the same controls (sliders, drop-downs) to
Vega-Lite parameters, which filter the data in the reader's browser.

:func:`to_html` wraps a specification in a small HTML fragment: a ``<div>`` and an inline
ES-module script that hands the specification to ``vegaEmbed``. The Vega, Vega-Lite and
Vega-Embed libraries are not fetched from a CDN: the course's Sphinx extension writes one
bundle of them (:func:`javascript_bundle`, made by ``vl-convert-python``) into the site's
``_static`` folder and loads it as ``<script type="module">`` on each page with an
explorer. Being ES modules, neither script meets require.js (which Jupyter Book loads for
thebe and ipywidgets): a UMD bundle would register itself with require.js as an anonymous
module and never set ``window.vegaEmbed``.

The state of the controls is kept in the page's query string (``?lr.surface=saddle&...``),
so that a setting can be shared as a link and is restored when the page loads.
"""

from __future__ import annotations

import functools
import html
import json
import uuid

import numpy as np
import pandas as pd

__all__ = ["BUNDLE_NAME", "available", "choose", "csv_data", "javascript_bundle", "log_slider",
           "to_html"]

# The bundle's file name in the site's `_static` folder (written by `_ext/nntrain_site.py`).
BUNDLE_NAME = "nntrain-vega.js"
# Significant digits kept in a static twin's data: plenty for a figure, and short text.
_DIGITS = 4
# The CSS class of every static twin's <div>: the Sphinx extension looks for it.
CSS_CLASS = "nntrain-explorer"

# The inline module: wait for the bundle, restore controls from the query string, embed,
# then mirror every control into the query string.
_SCRIPT = """
const key = %(key)s, el = document.getElementById(%(id)s), spec = %(spec)s;
const embed = await new Promise((resolve, reject) => {
  let tries = 0;
  (function poll() {
    if (window.vegaEmbed) resolve(window.vegaEmbed);
    else if (++tries > 400) reject(new Error("nntrain: the Vega bundle (%(bundle)s) did not load"));
    else setTimeout(poll, 25);
  })();
}).catch(err => { el.textContent = "This interactive figure needs the course website's scripts."; throw err; });
const query = new URLSearchParams(window.location.search);
for (const param of spec.params || []) {
  const saved = query.get(key + "." + param.name), bind = param.bind || {};
  if (saved === null || !bind.input) continue;
  if (bind.input === "select" && bind.options.map(String).includes(saved)) {
    param.value = bind.options.find(o => String(o) === saved);
  } else if (bind.input === "range" && Number.isFinite(Number(saved))) {
    param.value = Math.min(bind.max, Math.max(bind.min, Number(saved)));
  } else if (bind.input === "checkbox") {
    param.value = saved === "true";
  }
}
const result = await embed(el, spec, {actions: false, renderer: "svg"});
el.querySelectorAll(".vega-bind").forEach(b => { b.style.display = "inline-block"; b.style.marginRight = "1.2em"; });
for (const param of spec.params || []) {
  if (!param.bind) continue;
  result.view.addSignalListener(param.name, (name, value) => {
    const now = new URLSearchParams(window.location.search);
    now.set(key + "." + name, String(value));
    window.history.replaceState(null, "", "?" + now.toString() + window.location.hash);
  });
}
el.nntrainView = result.view;
el.dataset.ready = "true";
"""


def csv_data(frame: pd.DataFrame, digits: int = _DIGITS, exact: tuple[str, ...] = ("log_lr",)) -> alt.InlineData:
    """A DataFrame as Vega-Lite inline CSV data, numbers rounded to ``digits`` significant digits.

    CSV text is about half the size of the JSON records Altair writes by default, which
    matters for a page that carries thousands of precomputed points.

    Args:
        frame: the data; column names must be plain identifiers.
        digits: significant digits kept for float columns.
        exact: columns that a filter compares (such as ``log_lr``, matched against a
            slider's value), written with 6 significant digits whatever ``digits`` says.

    Returns:
        An ``altair.InlineData`` to pass as a chart's ``data``.
    """
    import altair as alt  # the book extra: only static twins need it
    if not isinstance(frame, pd.DataFrame) or frame.empty:
        raise ValueError(f"`frame` must be a non-empty DataFrame. Received: frame={type(frame).__name__}")
    # Numbers parsed as numbers (not left to type inference, which may keep strings).
    parse = {c: "number" for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])}
    frame = frame.assign(**{c: frame[c].map(lambda v: f"{v:.6g}") for c in exact if c in frame.columns})
    text = frame.to_csv(index=False, float_format=f"%.{digits}g", lineterminator="\n")
    return alt.InlineData(values=text, format=alt.CsvDataFormat(type="csv", parse=parse))


def choose(values, param: str) -> dict:
    """A Vega expression reference picking ``values[i]`` when parameter ``param`` is ``i``.

    For what depends on a select control, e.g. an axis's limits per surface:
    ``alt.Scale(domain=[choose(lows, "surface"), choose(highs, "surface")])``.
    """
    return {"expr": "[" + ",".join(json.dumps(_json_default(v) if isinstance(v, np.generic) else v)
                                   for v in values) + f"][{param}]"}


def log_slider(name: str, rates, value: float) -> tuple[alt.Parameter, str]:
    """A slider over a grid of learning rates, and a Vega expression for its log10 value.

    Log-spaced rates get a slider over :math:`\\log_{10}\\eta` itself (its stops are the
    grid's); other grids get a slider over the rates' index. Either way the returned
    expression gives :math:`\\log_{10}\\eta` of the chosen rate, rounded to 4 decimals, to
    compare with a data column of ``round(log10(rate), 4)``.

    Args:
        name: the parameter's name.
        rates: the increasing grid of rates.
        value: the rate selected at first (one of ``rates``).

    Returns:
        ``(parameter, expression)``.
    """
    import altair as alt  # the book extra: only static twins need it
    logs = np.round(np.log10(np.asarray(rates, dtype=float)), 4)
    start = int(np.argmin(np.abs(logs - np.log10(value))))
    steps = np.diff(logs)
    if len(logs) > 1 and np.allclose(steps, steps.mean(), atol=2e-4):
        step = float(np.round(steps.mean(), 4))
        param = alt.param(name=name, value=float(logs[start]), bind=alt.binding_range(
            min=float(logs[0]), max=float(logs[-1]), step=step, name="log₁₀ η "))
        return param, name
    param = alt.param(name=name, value=start, bind=alt.binding_range(
        min=0, max=len(logs) - 1, step=1, name="η (stop) "))
    return param, "[" + ",".join(repr(float(v)) for v in logs) + f"][{name}]"


@functools.cache
def available() -> bool:
    """Whether static twins can be made here: Altair 6 or later is installed.

    Altair comes with the ``book`` extra, which builds the website. A lab on Colab needs no
    static twin (its explorers are live), and Colab's preinstalled Altair 5 is left alone.
    """
    from importlib import metadata

    try:
        return int(metadata.version("altair").split(".")[0]) >= 6
    except (metadata.PackageNotFoundError, ValueError):
        return False


@functools.cache
def javascript_bundle() -> str:
    """Vega, Vega-Lite and Vega-Embed in one script that sets ``window.vegaEmbed``.

    Made by ``vl_convert.javascript_bundle()`` from the libraries that ``vl-convert-python``
    ships (no network). The script declares top-level ``const`` names, so it must be loaded
    as ``<script type="module">`` (its own scope), never as a classic script.
    """
    import vl_convert

    return vl_convert.javascript_bundle()


def to_html(spec: dict, key: str) -> str:
    """The static twin's HTML: a ``<div>`` and the module script that embeds ``spec`` there.

    Args:
        spec: a Vega-Lite specification (e.g. ``chart.to_dict()``); its bound parameters
            are the controls.
        key: a short name for the explorer (``"lr"``), prefixed to the controls' names in
            the page's query string.

    Returns:
        An HTML fragment with no external reference: the page must load the bundle
        (:data:`BUNDLE_NAME`), as the course website does.
    """
    if not isinstance(key, str) or not key.isidentifier():
        raise ValueError(f"`key` must be a short identifier such as 'lr'. Received: key={key!r}")
    element = f"{CSS_CLASS}-{key}-{uuid.uuid4().hex[:8]}"
    # "</" inside a script would end it early; JSON allows "<\/" for "</".
    payload = json.dumps(spec, separators=(",", ":"), default=_json_default).replace("</", "<\\/")
    script = _SCRIPT % {"key": json.dumps(key), "id": json.dumps(element), "spec": payload,
                        "bundle": BUNDLE_NAME}
    return (f'<div class="{CSS_CLASS}" id="{element}" data-explorer="{html.escape(key)}"></div>\n'
            f'<script type="module">{script}</script>')


def _json_default(value):
    """NumPy scalars as Python numbers in a specification."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} into a Vega-Lite specification")
