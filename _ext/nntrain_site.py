"""The course site's local Sphinx extension: offline MathJax and the build-information table.

Two jobs, both small:

* **MathJax from the site itself.** Sphinx points ``mathjax_path`` at a CDN by default, so a
  reader offline (or behind a firewall) sees raw ``$$`` instead of equations. This extension
  points it at ``_static/mathjax/tex-mml-chtml.js`` and copies MathJax 3's es5 build there
  from the ``django-static-mathjax`` package (a plain copy of the MathJax distribution; it
  needs no Django), which the ``book`` extra installs.
* **No script errors.** Each page lists each of its scripts once (see ``_dedupe_scripts``).
* **The explorers' static twins.** A page that shows an explorer of ``nntrain.widgets``
  carries its static twin (a Vega-Lite chart, see ``nntrain.widgets._static``). This
  extension writes Vega, Vega-Lite and Vega-Embed as one ES-module bundle into
  ``_static`` (made by ``vl-convert-python`` at build time, cached beside the doctrees)
  and loads it on those pages only, as ``<script type="module">``, out of require.js's
  way. It also drops the ipywidgets state that myst-nb would embed in such a page: no
  widget manager runs on the site (``nb_ipywidgets_js`` is empty in ``_config.yml``), so
  the state would only add weight.
* **The labs' student versions.** Each lab page links to its student copy (a raw
  ``<a href="../assignments/<lab>.ipynb">`` in the lab's first cell: a Markdown link to an
  ``.ipynb`` would be resolved as a page of the book). Once the site is written, this
  extension writes those copies into its ``assignments/`` folder with ``_ext/assignments.py``
  (the solutions between nbgrader's ``### BEGIN SOLUTION`` / ``### END SOLUTION`` markers
  taken out), the same code that ``make assignments`` runs.
* **The status page.** The ``{nntrain-build-info}`` directive renders a table of the run
  profile and the versions the site was built with (Python, Keras, TensorFlow, JAX, NumPy,
  Jupyter Book, ...). The notebooks' execution times come from myst-nb's own
  ``{nb-exec-table}`` directive, placed beside it on ``status.md``. The
  ``{nntrain-claims-ledger}`` directive renders the claims ledger of the build's own run
  (:mod:`nntrain.ledger`: every assert of every notebook, what it needed and what it got),
  read from ``$NNTRAIN_LEDGER`` once every notebook has run.

Jupyter Book loads it through ``sphinx.local_extensions`` in ``_config.yml``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import platform
from importlib import metadata
from pathlib import Path

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util.docutils import SphinxDirective
from sphinx.util.fileutil import copy_asset

__all__ = ["BuildInfoTable", "ClaimsLedger", "setup"]

# Where MathJax lands in the built site, relative to its `_static` folder, and the combined
# component every page loads (TeX and MathML input, CommonHTML output).
MATHJAX_STATIC_DIR = "mathjax"
MATHJAX_ENTRY = "tex-mml-chtml.js"
# Sub-folders of MathJax's es5 build that the entry point loads on demand: TeX extensions
# (autoload), CommonHTML fonts, the context menu and its accessibility tools.
MATHJAX_PARTS = ("a11y", "adaptors", "input", "output", "sre", "ui")

# The explorers' static twins: the CSS class of their <div> (nntrain.widgets._static.CSS_CLASS),
# the Vega bundle's name in `_static` (nntrain.widgets._static.BUNDLE_NAME) and the script
# type of the ipywidgets state myst-nb embeds.
EXPLORER_CLASS = "nntrain-explorer"
VEGA_BUNDLE = "nntrain-vega.js"
WIDGET_STATE_TYPE = "application/vnd.jupyter.widget-state+json"

# The folder of the built site that holds the labs' student copies (the labs link to
# ../assignments/<lab>.ipynb).
ASSIGNMENTS_DIR = "assignments"

# (label, distribution names tried in order) for the versions table.
_DISTRIBUTIONS = (
    ("Keras", ("keras",)),
    ("TensorFlow", ("tensorflow-cpu", "tensorflow")),
    ("JAX", ("jax",)),
    ("NumPy", ("numpy",)),
    ("nntrain", ("nntrain",)),
    ("Jupyter Book", ("jupyter-book",)),
    ("MyST-NB", ("myst-nb",)),
    ("Sphinx", ("sphinx",)),
    ("MathJax", ("django-static-mathjax",)),
)


def _mathjax_es5() -> Path:
    """The folder of MathJax 3's es5 build inside the installed `django-static-mathjax`."""
    try:
        import mathjax  # installed by the `django-static-mathjax` distribution
    except ImportError as err:
        raise ExtensionError(
            "MathJax is not installed, so the site cannot render math offline: install the "
            "`book` extra (`pip install -e '.[book]'`), which brings `django-static-mathjax`."
        ) from err
    es5 = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (es5 / MATHJAX_ENTRY).is_file():
        raise ExtensionError(f"MathJax's {MATHJAX_ENTRY} is missing from {es5}.")
    return es5


def _use_local_mathjax(app: Sphinx, config: Config) -> None:
    _mathjax_es5()  # fail at start-up, not after every notebook has run
    config.mathjax_path = f"{MATHJAX_STATIC_DIR}/{MATHJAX_ENTRY}"


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    es5 = _mathjax_es5()
    target = Path(app.outdir) / "_static" / MATHJAX_STATIC_DIR
    copy_asset(es5 / MATHJAX_ENTRY, target)
    for part in MATHJAX_PARTS:
        copy_asset(es5 / part, target / part)


def _dedupe_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """List each script of a page once.

    Sphinx 7.4 lists a body-only script twice when an extension adds it after the builder
    has started (once with the file name ``None``, once with ``""``). sphinx-thebe's
    ``const THEBE_JS_URL = ...`` is such a script, and declaring a ``const`` twice throws in
    the browser on every page.
    """
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (getattr(script, "filename", script) or "", getattr(script, "priority", None),
               tuple(sorted(getattr(script, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def _explorer_scripts(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Load the Vega bundle on pages with a static twin; drop embedded ipywidgets state."""
    scripts = context.get("script_files")
    if scripts:
        scripts[:] = [s for s in scripts
                      if getattr(s, "attributes", {}).get("type") != WIDGET_STATE_TYPE]
    if EXPLORER_CLASS in context.get("body", ""):
        # Called during html-page-context, add_js_file adds the script to this page only.
        app.add_js_file(VEGA_BUNDLE, type="module")


def _vega_bundle(app: Sphinx) -> str:
    """The Vega bundle's text, from the cache beside the doctrees or made afresh."""
    try:
        import vl_convert
    except ImportError as err:
        raise ExtensionError(
            "vl-convert-python is not installed, so the explorers' static twins cannot be "
            "served: install nntrain's dependencies (`pip install -e .`)."
        ) from err
    cache = Path(app.doctreedir) / f"nntrain-vega-{metadata.version('vl-convert-python')}.js"
    if not cache.is_file():
        cache.write_text(vl_convert.javascript_bundle(), encoding="utf-8")
    return cache.read_text(encoding="utf-8")


def _write_vega_bundle(app: Sphinx, exception: Exception | None) -> None:
    # Written on every html build, not only when a page with an explorer was rendered:
    # an incremental build may re-render none of them and still serve them.
    if exception is not None or app.builder.format != "html":
        return
    target = Path(app.outdir) / "_static" / VEGA_BUNDLE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_vega_bundle(app), encoding="utf-8")


def _write_assignments(app: Sphinx, exception: Exception | None) -> None:
    """The student copy of every lab into the site's ``assignments/`` folder."""
    labs = sorted(Path(app.srcdir).glob("labs/*.ipynb"))
    if exception is not None or app.builder.format != "html" or not labs:
        return
    if importlib.util.find_spec("nbgrader") is None:  # its ClearSolutions takes the solutions out
        raise ExtensionError(
            "nbgrader is not installed, so the labs' student versions cannot be written: "
            "install the `book` extra (`pip install -e '.[book]'`).")
    # _ext/assignments.py, loaded by its path (it is a script, not an installed module).
    spec = importlib.util.spec_from_file_location("nntrain_assignments", Path(__file__).with_name("assignments.py"))
    assignments = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(assignments)
    assignments.write(labs, Path(app.outdir) / ASSIGNMENTS_DIR)


def _version(names: tuple[str, ...]) -> str:
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def _keras_backend() -> str:
    """The backend Keras will pick: KERAS_BACKEND, else keras.json, else TensorFlow."""
    if "KERAS_BACKEND" in os.environ:
        return os.environ["KERAS_BACKEND"]
    config = Path(os.environ.get("KERAS_HOME", Path.home() / ".keras")) / "keras.json"
    try:
        return json.loads(config.read_text()).get("backend", "tensorflow")
    except (OSError, ValueError):
        return "tensorflow"  # Keras's own default


def _table(header: tuple[str, str], rows: list[tuple[str, str]]) -> nodes.table:
    table = nodes.table(classes=["colwidths-auto"])
    group = nodes.tgroup(cols=len(header))
    table += group
    group += [nodes.colspec(colwidth=1) for _ in header]
    head, body = nodes.thead(), nodes.tbody()
    group += [head, body]
    for parent, cells in [(head, header), *[(body, row) for row in rows]]:
        row = nodes.row()
        row += [nodes.entry("", nodes.paragraph(text=cell)) for cell in cells]
        parent += row
    return table


class BuildInfoTable(SphinxDirective):
    """``{nntrain-build-info}``: the run profile and package versions of this build."""

    def run(self) -> list[nodes.Node]:
        # The page shows the build it belongs to, so it is re-rendered on every build.
        self.env.note_reread()
        rows = [
            ("Run profile (NNTRAIN_PROFILE)", os.environ.get("NNTRAIN_PROFILE", "book")),
            ("Keras backend", _keras_backend()),
            ("Python", platform.python_version()),
            *[(label, _version(names)) for label, names in _DISTRIBUTIONS],
            ("Platform", f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores"),
        ]
        return [_table(("Component", "Version or setting"), rows)]


class _ledger_placeholder(nodes.General, nodes.Element):
    """Where the claims ledger goes; filled once every document (and notebook) has been read."""


class ClaimsLedger(SphinxDirective):
    """``{nntrain-claims-ledger}``: every assert this build's notebooks made, and its margin."""

    def run(self) -> list[nodes.Node]:
        self.env.note_reread()
        return [_ledger_placeholder()]


def _ledger_nodes(app: Sphinx) -> list[nodes.Node]:
    folder = os.environ.get("NNTRAIN_LEDGER", "").strip()
    if not folder or not any(Path(folder).glob("*.jsonl")):
        return [nodes.paragraph(text=(
            "This build recorded no claims ledger (NNTRAIN_LEDGER was not set, or no notebook "
            "ran): `make book` and `make test` record one."))]
    from nntrain import ledger

    notebooks = sorted(str(p) for p in Path(app.srcdir).glob("*/*.ipynb")
                       if p.parent.name in ("chapters", "labs"))
    table = ledger.claims(ledger.collect(folder, notebooks))
    table["notebook"] = [Path(n).relative_to(app.srcdir).as_posix() if Path(n).is_absolute() else n
                         for n in table["notebook"]]
    failed = int((~table["ok"]).sum())
    margins = table["margin"].dropna()
    summary = (f"{len(table)} checks in {table['notebook'].nunique()} notebooks ran in this build; "
               f"{len(table) - failed} passed and {failed} failed. Of the {len(margins)} checks that "
               f"compare a measured value with a threshold, the median margin is "
               f"{margins.median():.2f} and the smallest {margins.min():.3f} (the margin is the "
               "relative slack (b - a) / max(|a|, |b|) of a claim a < b; 0 is the edge).")
    rows, last = [], None
    for row in table.itertuples():
        where = (row.notebook, row.cell)
        label = f"{Path(row.notebook).stem}, cell {row.cell}" if where != last else ""
        claim = row.claim if where != last else ""
        last = where
        rows.append((label, claim, row.check, row.got,
                     "" if row.margin != row.margin else f"{row.margin:.3f}",
                     "pass" if row.ok else "FAIL"))
    return [nodes.paragraph(text=summary),
            _table(("Notebook, cell", "The claim in words", "Check", "Got", "Margin", "Result"), rows)]


def _fill_ledger(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in doctree.findall(_ledger_placeholder):
        node.replace_self(_ledger_nodes(app))


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", _use_local_mathjax)
    app.connect("build-finished", _copy_mathjax)
    app.connect("html-page-context", _dedupe_scripts)
    app.connect("html-page-context", _explorer_scripts)
    app.connect("build-finished", _write_vega_bundle)
    app.connect("build-finished", _write_assignments)
    app.add_directive("nntrain-build-info", BuildInfoTable)
    app.add_node(_ledger_placeholder)
    app.add_directive("nntrain-claims-ledger", ClaimsLedger)
    app.connect("doctree-resolved", _fill_ledger)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
