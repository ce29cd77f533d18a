"""The built website, checked the way a reader uses it.

Run by `make test-site`, after the strict build of `make test-book` (the site it checks is
`_build/smoke/_build/html`, or the folder named by NNTRAIN_SITE, e.g. `_build/html` after
`make book`). Three kinds of check:

* every relative link and source in every page resolves to a file of the site, and every
  `#anchor` exists on the page it points to;
* no page shows what a reader should never see: TensorFlow's C++ log lines, Python
  deprecation warnings, raw stderr output;
* headless Chromium loads every page from a local server with the network otherwise cut off
  and fails on console errors, uncaught exceptions, requests that leave the site, broken
  images, empty figures and math that MathJax did not render. It saves a screenshot of each
  page under `_build/screenshots/`.

The browser is driven by Playwright for Python, launched on the system's Chromium (never a
browser Playwright downloads): one dependency with a synchronous API that reports console
messages, page errors and every network request, which lets the test both cut the network
and see any attempt to reach it. Where no Chromium is found the browser tests are skipped,
saying so, except on CI (the CI environment variable is set), where they fail.
"""

from __future__ import annotations

import functools
import os
import posixpath
import re
import shutil
import threading
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("NNTRAIN_SITE", ROOT / "_build" / "smoke" / "_build" / "html")).resolve()
SCREENSHOTS = ROOT / "_build" / "screenshots"
ON_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
# Folders of the built site that hold assets, not pages.
ASSET_DIRS = {"_static", "_sources", "_images", "_downloads", "_sphinx_design_static"}
PAGES = sorted(
    p.relative_to(SITE).as_posix()
    for p in SITE.rglob("*.html")
    if not ASSET_DIRS & set(p.relative_to(SITE).parts)
) if SITE.is_dir() else []

# What a reader must never see on a page, outside the code cells' own source.
LEAKS = {
    "a TensorFlow/absl C++ log line": re.compile(r"\b[IWEF]\d{4} \d\d:\d\d:\d\d"),
    "a oneDNN notice": re.compile(r"oneDNN"),
    "an absl log notice": re.compile(r"WARNING: All log messages before absl"),
    "a DeprecationWarning": re.compile(r"DeprecationWarning"),
    "a FutureWarning": re.compile(r"FutureWarning"),
    "a Python traceback": re.compile(r"Traceback \(most recent call last\)"),
}
# Tags without an end tag in HTML.
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
LINK_ATTRS = {"href", "src"}


def _require_site() -> None:
    if (SITE / "index.html").is_file():
        return
    message = f"no built site at {SITE}: run `make test-book` (or `make book` with NNTRAIN_SITE=_build/html)"
    if ON_CI:
        pytest.fail(message)
    pytest.skip(message)


class _Page(HTMLParser):
    """One built page: its anchors, its links, its visible text outside code inputs, stderr blocks."""

    def __init__(self, path: Path) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.links: list[str] = []
        self.stderr_blocks = 0
        self.redirect: str | None = None  # where a <meta http-equiv="refresh"> page sends the reader
        self._text: list[str] = []
        self._stack: list[tuple[str, bool]] = []  # (tag, inside a part whose text is not checked)
        self.feed(path.read_text(encoding="utf-8"))

    @property
    def text(self) -> str:
        return "".join(self._text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        for name in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(name):
                self.ids.add(attrs[name])
        self.links += [value for name, value in attrs.items() if name in LINK_ATTRS and value is not None]
        if tag == "meta" and (attrs.get("http-equiv") or "").lower() == "refresh":
            self.redirect = re.sub(r"^\s*\d+\s*;\s*url=", "", attrs.get("content") or "", flags=re.I).strip()
            self.links.append(self.redirect)
        if "stderr" in classes:
            self.stderr_blocks += 1
        if tag in VOID:
            return
        skipped = (self._stack and self._stack[-1][1]) or tag in ("script", "style") or "cell_input" in classes
        self._stack.append((tag, bool(skipped)))

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return

    def handle_data(self, data):
        if not (self._stack and self._stack[-1][1]):
            self._text.append(data)


@functools.cache
def _parse(path: Path) -> _Page:
    return _Page(path)


def _broken_links(page: str) -> list[str]:
    path = SITE / page
    broken = []
    for link in _parse(path).links:
        if not link or link == "#" or link.startswith("//") or re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*:", link):
            continue  # external (http:, mailto:, data:, javascript:) or empty
        parts = urlsplit(link)
        target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file() or SITE not in target.parents:
            broken.append(f"{link} (no file {target})")
        elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in _parse(target).ids:
            broken.append(f"{link} (no anchor #{parts.fragment} in {target.relative_to(SITE)})")
    return broken


def test_the_site_has_pages():
    _require_site()
    assert "intro.html" in PAGES and "status.html" in PAGES, PAGES
    assert any(p.startswith("chapters/") for p in PAGES), PAGES


def test_the_status_page_shows_the_claims_ledger_of_its_own_build():
    """Every notebook's asserts reached the status page, none failed (the build would have)."""
    _require_site()
    text = _parse(SITE / "status.html").text
    found = re.search(r"(\d+) checks in (\d+) notebooks ran in this build; (\d+) passed and (\d+) failed", text)
    assert found, "status.html: no claims ledger (was NNTRAIN_LEDGER set for the build?)"
    checks, notebooks, passed, failed = map(int, found.groups())
    assert notebooks == len(list(ROOT.glob("chapters/*.ipynb")) + list(ROOT.glob("labs/*.ipynb")))
    assert checks > 300 and failed == 0 and passed == checks, found.group(0)
    assert "The claim in words" in text and "Margin" in text


@pytest.mark.parametrize("page", PAGES)
def test_every_internal_link_and_anchor_resolves(page):
    _require_site()
    broken = _broken_links(page)
    assert not broken, f"{page}: {len(broken)} broken internal links:\n" + "\n".join(broken[:20])


@pytest.mark.parametrize("page", PAGES)
def test_no_log_lines_warnings_or_stderr_leak_into_the_page(page):
    _require_site()
    parsed = _parse(SITE / page)
    assert parsed.stderr_blocks == 0, f"{page}: {parsed.stderr_blocks} raw stderr output blocks"
    found = [f"{what}: ...{parsed.text[max(m.start() - 60, 0):m.end() + 60]!r}..."
             for what, rx in LEAKS.items() if (m := rx.search(parsed.text))]
    assert not found, f"{page} shows " + "\n".join(found)


def test_the_leak_and_link_checks_can_fail(tmp_path):
    """The checks above parse what they should: a page with a leak and a broken link is caught."""
    page = tmp_path / "bad.html"
    page.write_text('<p id="here">x</p><a href="#here">ok</a><a href="#gone">bad</a>'
                    '<div class="cell_input"><pre>warnings.simplefilter("ignore", FutureWarning)</pre></div>'
                    '<div class="output stderr"><pre>2025 W0000 00:00:12.3 oneDNN custom operations are on</pre></div>')
    parsed = _Page(page)
    assert parsed.ids == {"here"} and parsed.links == ["#here", "#gone"]
    assert parsed.stderr_blocks == 1
    assert "FutureWarning" not in parsed.text  # a code cell's source may name a warning
    assert LEAKS["a oneDNN notice"].search(parsed.text) and LEAKS["a TensorFlow/absl C++ log line"].search(parsed.text)


# --------------------------------------------------------------------------- the browser

# What a page may not contain once MathJax has run: the checks run in the page itself.
_PAGE_CHECKS = """
async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done); img.addEventListener("error", done); setTimeout(done, 5000);
  })));
  const broken = images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.getAttribute("src"));
  const math = [...document.querySelectorAll(".math")];
  const unrendered = math.filter(m => !m.querySelector("mjx-container")).map(m => m.textContent.slice(0, 80));
  const mathErrors = [...document.querySelectorAll("mjx-merror, [data-mjx-error]")]
    .map(e => e.getAttribute("data-mjx-error") || e.textContent);
  const emptyFigures = [...document.querySelectorAll("figure")]
    .filter(f => !f.querySelector("img, svg, canvas, video, iframe, mjx-container"))
    .map(f => f.id || f.textContent.trim().slice(0, 60));
  const main = (document.querySelector("main") || document.body).cloneNode(true);
  main.querySelectorAll("pre, code, script, style, textarea, mjx-container").forEach(e => e.remove());
  const text = main.textContent;
  const rawDelimiters = ["$$", "\\\\(", "\\\\)", "\\\\[", "\\\\begin{"].filter(d => text.includes(d));
  return {broken, unrendered, mathErrors, emptyFigures, rawDelimiters,
          nMath: math.length, nImages: images.length, title: document.title};
}
"""


def _chromium() -> str | None:
    for candidate in (os.environ.get("NNTRAIN_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def _skip_or_fail(message: str) -> None:
    if ON_CI:
        pytest.fail(message + " (CI is set, so the browser test must run)")
    pytest.skip(message)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url():
    _require_site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser():
    chromium = _chromium()
    if chromium is None:
        _skip_or_fail("no Chromium found (install Debian's `chromium`, or set NNTRAIN_CHROMIUM)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("Playwright is not installed (it is in the `test` extra)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            # The network is cut: no host resolves but the local server's.
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
        ])  # headless by default, with a fresh temporary profile
        yield browser
        browser.close()


def _open(browser, url: str, **context_options):
    """A new page that records every problem a reader would meet, with the network cut."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **context_options)
    context.set_default_timeout(30_000)
    problems: list[str] = []

    def route(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            problems.append(f"request leaves the site: {route.request.url}")
            route.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text} ({m.location.get('url')})"))
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(url, wait_until="load")
    return context, page, problems


@pytest.mark.parametrize("page_name", PAGES)
def test_page_renders_offline_in_a_browser(browser, site_url, page_name):
    redirect = _parse(SITE / page_name).redirect
    if redirect:  # the root index.html only sends the reader on: check that it does
        page_name = posixpath.normpath(posixpath.join(posixpath.dirname(page_name), redirect))
    context, page, problems = _open(browser, site_url + page_name)
    try:
        # MathJax typesets after the page loads; wait for it wherever it was loaded.
        page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
        found = page.evaluate(_PAGE_CHECKS)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / (page_name.replace("/", "__").removesuffix(".html") + ".png")))
        page.wait_for_timeout(100)  # let late console messages arrive
    finally:
        context.close()
    problems += [f"broken image: {src}" for src in found["broken"]]
    problems += [f"math not rendered: {tex!r}" for tex in found["unrendered"]]
    problems += [f"MathJax error: {err!r}" for err in found["mathErrors"]]
    problems += [f"figure without an image: {fig!r}" for fig in found["emptyFigures"]]
    problems += [f"raw math delimiter {d!r} in the visible text" for d in found["rawDelimiters"]]
    assert not problems, f"{page_name} ({found['title']}):\n" + "\n".join(problems)


def test_math_renders_with_the_sites_own_mathjax(browser, site_url):
    """The chapter's equations are typeset, by the copy of MathJax served from `_static`."""
    chapters = [p for p in PAGES if p.startswith("chapters/")]
    context, page, problems = _open(browser, site_url + chapters[0])
    try:
        page.evaluate("async () => { await MathJax.startup.promise; }")
        rendered = page.locator("mjx-container").count()
        scripts = page.evaluate("() => [...document.scripts].map(s => s.src).filter(s => s.includes('mathjax'))")
    finally:
        context.close()
    assert rendered > 0, f"{chapters[0]}: no equation rendered"
    assert scripts and all(s.startswith(site_url + "_static/mathjax/") for s in scripts), scripts
    assert not problems, problems


def test_dark_mode_follows_the_readers_setting(browser, site_url):
    context, page, problems = _open(browser, site_url + "intro.html", color_scheme="dark")
    try:
        theme = page.evaluate("() => document.documentElement.dataset.theme")
        page.screenshot(path=str(SCREENSHOTS / "intro-dark.png"))
    finally:
        context.close()
    assert theme == "dark"
    assert not problems, problems
