"""The explorers' static twins, used in a real browser as a reader would.

Headless Chromium opens the built page of the explorers (`chapters/explorers.html` of the
site in NNTRAIN_SITE, by default `_build/smoke/_build/html`, which `make test-book` builds)
from a local server with the network cut off, waits for each explorer's chart, moves one of
its controls, and checks that the figure changed, that the control's state went into the
page's address and comes back on reload, and that the console shows no error and no request
left the site. Screenshots before and after each move go to `_build/screenshots/explorers/`.

The browser, the server and the network cut are those of tests/site/test_site.py (its fixtures
`browser` and `site_url`, and its `_open`). Where no Chromium is found the tests are skipped,
saying so, except on CI, where they fail.
"""

from __future__ import annotations

import pytest

from test_site import ON_CI, ROOT, SITE, _open, _require_site, browser, site_url  # noqa: F401

PAGE = "chapters/explorers.html"
SHOTS = ROOT / "_build" / "screenshots" / "explorers"
# The explorers, by the page that shows them and their key (the prefix of their controls in
# the address): the explorers' own page, and the playground that closes the search chapter.
EXPLORERS = [(PAGE, key) for key in ("lr", "sweep", "init", "opt")] + [
    ("chapters/hyperparameter_search.html", "pg")]
# Moves a control to another of its values, as a reader's click would, and says which.
_MOVE = """
(el) => {
  const input = el.querySelector(".vega-bindings input[type=range]");
  if (input) {
    const next = Number(input.value) + Number(input.step) <= Number(input.max)
      ? Number(input.value) + Number(input.step) : Number(input.min);
    input.value = next;
    input.dispatchEvent(new Event("input", {bubbles: true}));
    return input.closest(".vega-bind").textContent.trim() + " -> " + input.value;
  }
  const select = el.querySelector(".vega-bindings select");
  select.selectedIndex = (select.selectedIndex + 1) % select.options.length;
  select.dispatchEvent(new Event("change", {bubbles: true}));
  return select.closest(".vega-bind").textContent.trim();
}
"""


def _page_url(site_url: str, page: str) -> str:
    _require_site()
    if not (SITE / page).is_file():
        message = f"{page} is not in the site at {SITE} (is it in _toc.yml?)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    return site_url + page


@pytest.fixture(scope="module")
def page_url(site_url):
    return _page_url(site_url, PAGE)


def _ready(page) -> None:
    page.wait_for_function(
        "() => [...document.querySelectorAll('.nntrain-explorer')].length > 0 && "
        "[...document.querySelectorAll('.nntrain-explorer')].every(e => e.dataset.ready === 'true')",
        timeout=60_000)


@pytest.mark.parametrize("where, key", EXPLORERS, ids=[key for _, key in EXPLORERS])
def test_a_control_changes_the_figure_offline(browser, site_url, where, key):  # noqa: F811
    SHOTS.mkdir(parents=True, exist_ok=True)
    context, page, problems = _open(browser, _page_url(site_url, where))
    try:
        _ready(page)
        explorer = page.locator(f'.nntrain-explorer[data-explorer="{key}"]')
        assert explorer.count() == 1, f"no explorer {key!r} on {where}"
        explorer.scroll_into_view_if_needed()
        before = explorer.locator("svg").first.inner_html()
        explorer.screenshot(path=str(SHOTS / f"{key}-before.png"))
        moved = explorer.evaluate(_MOVE)
        page.wait_for_timeout(300)  # Vega re-renders on the next animation frame
        after = explorer.locator("svg").first.inner_html()
        explorer.screenshot(path=str(SHOTS / f"{key}-after.png"))
        address = page.url
        page.wait_for_timeout(100)  # late console messages
    finally:
        context.close()
    assert after != before, f"{key}: moving {moved!r} did not change the figure"
    assert f"{key}." in address, f"{key}: the control's state is not in the address {address}"
    assert not problems, f"{key}:\n" + "\n".join(problems)


def test_the_address_restores_the_controls(browser, page_url):  # noqa: F811
    context, page, problems = _open(browser, page_url + "?lr.surface=2&lr.log_lr=-0.75")
    try:
        _ready(page)
        explorer = page.locator('.nntrain-explorer[data-explorer="lr"]')
        values = explorer.evaluate(
            "(el) => [el.querySelector('select').value, el.querySelector('input[type=range]').value]")
        label = explorer.locator("svg").first.text_content()
    finally:
        context.close()
    assert values == ["2", "-0.75"], values
    assert "η = 0.178" in label, label
    assert not problems, problems
