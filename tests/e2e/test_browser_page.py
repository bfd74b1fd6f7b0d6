"""The catalogue page in headless Chromium under its own CSP (its meta tag, no header): sort, filter, escaping."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from publisher.publish.render import render_site
from tests.e2e.browser import (
    PageProblems,
    SiteServer,
    axe_violations,
    detail_state,
    screenshot_path,
    serve,
)

pytestmark = pytest.mark.browser

XSS_NAME = "<img src=x onerror=alert(1)>"
ROWS = "#catalogue tbody tr"
VISIBLE_ROWS = "#catalogue tbody tr:not([hidden])"


def catalogue() -> list[dict[str, Any]]:
    from publisher.ops.data import __file__ as data_init

    with open(data_init.replace("__init__.py", "sample_models.json")) as handle:
        models = json.load(handle)
    models.append({"model_name": XSS_NAME, "provider": "Evil & Co", "score": 42.0})
    return models


MODELS = catalogue()


@pytest.fixture(scope="module")
def browser(chromium: Any) -> Any:
    return chromium


@pytest.fixture(scope="module")
def site() -> Iterator[SiteServer]:
    objects = render_site(3, "2026-11-27T14:41:50Z", {m["model_name"]: m for m in MODELS},
                          links={"changes": "/changes.atom"})
    with serve(objects) as server:
        yield server


@pytest.fixture
def problems() -> PageProblems:
    return PageProblems()


@pytest.fixture
def page(browser: Any, problems: PageProblems) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield problems.watch(context.new_page())
    finally:
        context.close()


def open_page(page: Any, site: SiteServer, query: str = "") -> Any:
    page.goto(site.url + "/" + query)
    page.wait_for_load_state("networkidle")
    return page


def column(page: Any, col: str, visible_only: bool = True) -> list[str]:
    selector = VISIBLE_ROWS if visible_only else ROWS
    return page.eval_on_selector_all(
        f'{selector} [data-col="{col}"]',
        "cells => cells.map(c => c.hasAttribute('data-value') ? c.getAttribute('data-value')"
        " : c.textContent.trim())",
    )


def natural(text: str) -> list[Any]:
    parts = [p for p in re.split(r"(\d+)", text.lower()) if p]
    return [(0, int(p)) if p.isdigit() else (1, p) for p in parts]


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def test_table_shows_every_model_with_no_console_errors(page: Any, site: SiteServer,
                                                         problems: PageProblems) -> None:
    open_page(page, site)
    names = column(page, "model_name")
    assert sorted(names) == sorted(m["model_name"] for m in MODELS)
    scores = [float(v) for v in column(page, "score")]
    assert scores == sorted(scores, reverse=True)
    assert page.text_content("#status") == f"{len(MODELS)} of {len(MODELS)} models shown"
    problems.assert_clean()


def test_clicking_score_header_sorts_both_ways_and_flips_aria_sort(page: Any, site: SiteServer,
                                                                   problems: PageProblems) -> None:
    open_page(page, site)
    header = page.locator('th[data-col="score"]')
    assert header.get_attribute("aria-sort") == "descending"
    header.locator("button").click()
    ascending = [float(v) for v in column(page, "score")]
    assert ascending == sorted(ascending)
    assert header.get_attribute("aria-sort") == "ascending"
    header.locator("button").click()
    descending = [float(v) for v in column(page, "score")]
    assert descending == sorted(descending, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"
    assert page.locator("th[aria-sort]").count() == 1
    problems.assert_clean()


def test_sorting_by_another_column_moves_aria_sort_and_puts_missing_values_last(
        page: Any, site: SiteServer, problems: PageProblems) -> None:
    open_page(page, site)
    page.click('th[data-col="context_window"] button')
    windows = column(page, "context_window")
    present = [int(v) for v in windows if v]
    assert present == sorted(present, reverse=True)
    assert windows[len(present):] == [""] * (len(windows) - len(present))
    assert page.get_attribute('th[data-col="context_window"]', "aria-sort") == "descending"
    assert page.get_attribute('th[data-col="score"]', "aria-sort") is None
    page.click('th[data-col="model_name"] button')
    names = column(page, "model_name")
    # Natural order, as a person reads it: "Llama 3.1 8B" before "Llama 3.1 405B".
    assert names == sorted(names, key=natural)
    problems.assert_clean()


def test_provider_in_the_url_shows_only_that_provider(page: Any, site: SiteServer,
                                                      problems: PageProblems) -> None:
    open_page(page, site, "?provider=OpenAI")
    openai = [m for m in MODELS if m["provider"] == "OpenAI"]
    assert set(column(page, "provider")) == {"OpenAI"}
    assert len(column(page, "model_name")) == len(openai)
    assert page.input_value("#f-provider") == "OpenAI"
    assert page.text_content("#status") == f"{len(openai)} of {len(MODELS)} models shown"
    problems.assert_clean()


def test_all_filters_from_the_url_apply_together(page: Any, site: SiteServer, problems: PageProblems) -> None:
    open_page(page, site, "?provider=openai&q=gpt&min_score=90")
    expected = sorted(m["model_name"] for m in MODELS
                      if m["provider"] == "OpenAI" and "gpt" in m["model_name"].lower() and m["score"] >= 90)
    assert sorted(column(page, "model_name")) == expected
    assert page.input_value("#f-provider") == "OpenAI"
    assert page.input_value("#f-q") == "gpt"
    assert page.input_value("#f-min") == "90"
    problems.assert_clean()


def test_typing_in_search_filters_rows_and_updates_the_url(page: Any, site: SiteServer,
                                                           problems: PageProblems) -> None:
    open_page(page, site)
    page.fill("#f-q", "claude")
    names = column(page, "model_name")
    assert names and all("claude" in n.lower() for n in names)
    assert len(names) == sum("claude" in m["model_name"].lower() for m in MODELS)
    assert query_of(page) == {"q": ["claude"]}
    page.fill("#f-min", "95")
    assert all(float(v) >= 95 for v in column(page, "score"))
    assert query_of(page) == {"q": ["claude"], "min_score": ["95"]}
    page.select_option("#f-provider", "Anthropic")
    assert query_of(page)["provider"] == ["Anthropic"]
    page.fill("#f-q", "no such model anywhere")
    assert column(page, "model_name") == []
    assert page.is_visible("#no-match")
    assert page.text_content("#status") == f"0 of {len(MODELS)} models shown"
    # The shared URL reproduces the view after a reload.
    page.reload()
    page.wait_for_load_state("networkidle")
    assert page.input_value("#f-q") == "no such model anywhere"
    assert column(page, "model_name") == []
    page.click("#f-reset")
    assert len(column(page, "model_name")) == len(MODELS)
    assert urlsplit(page.url).query == ""
    problems.assert_clean()


def test_script_looking_model_name_stays_text_and_runs_nothing(page: Any, site: SiteServer,
                                                               problems: PageProblems) -> None:
    open_page(page, site)
    page.fill("#f-q", "onerror")
    assert column(page, "model_name") == [XSS_NAME]
    assert page.locator("img").count() == 0
    page.fill("#f-q", "")
    page.click('th[data-col="model_name"] button')
    assert page.locator("img").count() == 0
    assert XSS_NAME in column(page, "model_name")
    problems.assert_clean()


def test_keyboard_tab_to_a_header_button_and_enter_sorts(page: Any, site: SiteServer,
                                                         problems: PageProblems) -> None:
    open_page(page, site)
    page.focus("#f-min")
    target = 'th[data-col="score"] button'
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate(f"document.activeElement === document.querySelector('{target}')"):
            break
    else:
        pytest.fail("Tab never reached the Score header button")
    page.keyboard.press("Enter")
    assert page.get_attribute('th[data-col="score"]', "aria-sort") == "ascending"
    scores = [float(v) for v in column(page, "score")]
    assert scores == sorted(scores)
    problems.assert_clean()


def test_provider_link_filters_in_place(page: Any, site: SiteServer, problems: PageProblems) -> None:
    open_page(page, site)
    page.click('a[data-provider="Meta"]')
    assert set(column(page, "provider")) == {"Meta"}
    assert query_of(page) == {"provider": ["Meta"]}
    problems.assert_clean()


def test_page_without_javascript_still_lists_every_model(browser: Any, site: SiteServer) -> None:
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        open_page(page, site, "?provider=OpenAI")
        assert len(column(page, "model_name", visible_only=False)) == len(MODELS)
        assert page.text_content("#status") == f"{len(MODELS)} of {len(MODELS)} models shown"
    finally:
        context.close()


def test_script_causes_no_layout_shift(browser: Any, site: SiteServer) -> None:
    boxes = []
    for enabled in (False, True):
        context = browser.new_context(java_script_enabled=enabled, viewport={"width": 1280, "height": 900})
        try:
            page = open_page(context.new_page(), site)
            boxes.append(page.eval_on_selector_all(
                "#filters, #status, #catalogue thead",
                "els => els.map(e => { const r = e.getBoundingClientRect();"
                " return [r.x, r.y, r.width, r.height]; })",
            ))
        finally:
            context.close()
    assert boxes[0] == boxes[1]


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize(("device", "viewport"), [("desktop", (1280, 900)), ("phone", (390, 844))])
def test_screenshot(browser: Any, site: SiteServer, scheme: str, device: str,
                    viewport: tuple[int, int]) -> None:
    problems = PageProblems()
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]}, color_scheme=scheme,
                                  is_mobile=device == "phone", has_touch=device == "phone")
    try:
        page = problems.watch(context.new_page())
        open_page(page, site)
        if device == "phone":
            # Cards, not a table wider than the screen: nothing scrolls sideways.
            assert page.evaluate("document.documentElement.scrollWidth") <= viewport[0]
        path = screenshot_path(f"catalogue-{device}-{scheme}.png")
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000
    finally:
        context.close()
    problems.assert_clean()


def injected(page: Any) -> dict[str, Any]:
    """Inject script the ways an attacker would once text reaches the DOM; report what ran and what was refused."""
    return page.evaluate("""async () => {
        const refused = [];
        document.addEventListener("securitypolicyviolation", e => refused.push(e.violatedDirective));
        const script = document.createElement("script");
        script.textContent = "window.__inlineRan = true";
        document.body.appendChild(script);
        const img = document.createElement("img");
        img.setAttribute("onerror", "window.__handlerRan = true");
        img.src = "/no-such-image.png";
        document.body.appendChild(img);
        const frame = document.createElement("a");
        frame.href = "javascript:window.__urlRan = true";
        frame.click();
        await new Promise(resolve => setTimeout(resolve, 300));
        return {inline: !!window.__inlineRan, handler: !!window.__handlerRan, url: !!window.__urlRan, refused};
    }""")


def test_the_pages_own_policy_blocks_injected_script_without_any_header(page: Any, site: SiteServer) -> None:
    response = page.goto(site.url + "/")
    assert "content-security-policy" not in response.headers
    page.wait_for_load_state("networkidle")
    result = injected(page)
    assert (result["inline"], result["handler"], result["url"]) == (False, False, False)
    assert any(d.startswith("script-src") for d in result["refused"]), result
    # Its own script still runs under that policy: sorting works.
    page.click('th[data-col="model_name"] button')
    assert page.get_attribute('th[data-col="model_name"]', "aria-sort") == "ascending"


def _event(version: int, at: str, kind: str, field: str | None, old: Any, new: Any) -> dict[str, Any]:
    return {"id": f"{version}-{version:016x}", "version": version, "at": at, "kind": kind, "model_name": "",
            "slug": "", "field": field, "old": old, "new": new, "sequence": str(version * 100)}


def history_document(name: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    """A history document as the publisher writes it (merged, newest first), valid against its schema."""
    import jsonschema

    from publisher.core import schemas
    from publisher.core.history import merge_history

    document = merge_history(name, None, [{**e, "model_name": name} for e in events], 100)
    jsonschema.validate(document, schemas.standalone("History"))
    return document


HIDDEN = "Hidden Model"
GPT4_EVENTS = [
    _event(1, "2026-11-01T10:00:00Z", "added", None, None, {"score": 80.0, "provider": "OpenAI"}),
    _event(2, "2026-11-02T10:00:00Z", "changed", "version", None, "0613"),
    _event(3, "2026-11-03T10:00:00Z", "changed", "score", 80.0, 85.0),
    _event(4, "2026-11-04T10:00:00Z", "removed", None, {"score": 85.0, "provider": "OpenAI"}, None),
    _event(5, "2026-11-05T10:00:00Z", "added", None, None, {"score": 95.5, "provider": "OpenAI"}),
]


@pytest.fixture(scope="module")
def history_site() -> Iterator[SiteServer]:
    """The page with GPT-4's history document and, behind /api/*, a model the page does not list."""
    from publisher.core import identity
    from publisher.core.documents import JSON_TYPE, SiteObject, dumps

    objects = render_site(3, "2026-11-27T14:41:50Z", {m["model_name"]: m for m in MODELS})
    hidden = {"model_name": HIDDEN, "provider": "Far Labs", "score": 12.5, "context_window": 8192}
    extra = {
        identity.history_key("GPT-4"): history_document("GPT-4", GPT4_EVENTS),
        "api/llms/" + quote(HIDDEN, safe=""): hidden,
        "api/llms/" + quote(HIDDEN, safe="") + "/history": history_document(HIDDEN, GPT4_EVENTS[:1]),
    }
    objects += [SiteObject(k, dumps(v), JSON_TYPE, "no-store") for k, v in extra.items()]
    with serve(objects) as server:
        yield server


def test_detail_view_plots_each_recorded_score_oldest_first_and_skips_other_fields(
        page: Any, history_site: SiteServer, problems: PageProblems) -> None:
    from publisher.core import identity

    open_page(page, history_site, "?model=GPT-4")
    state = detail_state(page)
    # Added at 80, version changed (no point), 85, removed (no point), re-added at 95.5.
    assert [p["value"] for p in state["points"]] == [80.0, 85.0, 95.5]
    assert [p["label"] for p in state["points"]] == [
        "2026-11-01 10:00:00 UTC: score 80.0", "2026-11-03 10:00:00 UTC: score 85.0",
        "2026-11-05 10:00:00 UTC: score 95.5"]
    assert state["figures"]["Provider"] == "OpenAI" and state["figures"]["Score"] == "95.5"
    assert state["json"] == "/" + identity.history_key("GPT-4")
    assert axe_violations(page) == []
    page.focus("#detail-json")  # Escape within the view closes it
    page.keyboard.press("Escape")
    assert page.is_hidden("#detail") and "model" not in query_of(page)
    problems.assert_clean()


def test_detail_view_shows_figures_and_a_clear_error_when_the_history_is_unavailable(
        page: Any, history_site: SiteServer) -> None:
    open_page(page, history_site, "?model=" + quote("Claude 3 Opus"))
    state = detail_state(page)
    assert state["figures"]["Provider"] == "Anthropic"
    assert state["error"] and "unavailable" in state["error"] and "HTTP 404" in state["error"]
    assert [p["value"] for p in state["points"]] == []
    assert axe_violations(page) == []


def test_detail_view_of_a_model_the_page_does_not_list_reads_the_api(page: Any, history_site: SiteServer,
                                                                      problems: PageProblems) -> None:
    open_page(page, history_site, "?model=" + quote(HIDDEN))
    state = detail_state(page)
    assert state["title"] == HIDDEN and state["figures"]["Context window"] == "8,192 tokens"
    assert [p["value"] for p in state["points"]] == [80.0]
    assert state["json"] == "/api/llms/Hidden%20Model/history"
    problems.assert_clean()


def test_page_is_axe_clean_with_and_without_a_filter(page: Any, site: SiteServer) -> None:
    open_page(page, site)
    assert axe_violations(page) == []
    open_page(page, site, "?q=no+such+model")
    assert axe_violations(page) == []
