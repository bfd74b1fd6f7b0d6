"""A model's detail view on the local stack (issue 15, the page), in Chromium under the page's own CSP:
`/?model=<name>` for a model written at 50, then 60, then 70 shows its 3 recorded scores oldest first,
readable by a screen reader, axe-core clean; a name in the table opens it and the URL follows (back,
forward, close); a look-alike name never shows another's history; an unknown name is a clear error;
with JavaScript off the table still reads and each name is a real link."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from publisher.core import identity
from tests.e2e.browser import PageProblems, axe_violations, detail_state, screenshot_path

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
MODEL = "History View Probe Ünï"
# Differs only by case: by the identity rules it is another model with its own history.
LOOKALIKE = "history view probe ünï"
POINTS = "[data-history-point]"
DATE_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$")


def _scores(stack: Any, name: str) -> list[float]:
    events = stack.get_json("/" + identity.history_key(name))["events"]
    return [e["new"] if e["field"] == "score" else e["new"]["score"] for e in reversed(events)
            if e["field"] == "score" or (e["field"] is None and isinstance(e["new"], dict))]


@pytest.fixture(scope="module")
def written(local_stack: Any) -> Iterator[Any]:
    """MODEL written at 50, then changed to 60 and 70 (each published before the next), and LOOKALIKE at 10;
    both deleted afterwards, so the shared stack's later tests see the catalogue they expect."""
    dynamodb = local_stack.client("dynamodb")
    dynamodb.put_item(TableName=local_stack.table, Item={
        "model_name": {"S": LOOKALIKE}, "provider": {"S": "Probe Labs"}, "score": {"N": "10"}})
    dynamodb.put_item(TableName=local_stack.table, Item={
        "model_name": {"S": MODEL}, "provider": {"S": "Probe Labs"}, "score": {"N": "50"},
        "context_window": {"N": "128000"}, "version": {"S": "2026-11"}})
    for score in (50, 60, 70):
        if score != 50:
            dynamodb.update_item(TableName=local_stack.table, Key={"model_name": {"S": MODEL}},
                                 UpdateExpression="SET score = :s", ExpressionAttributeValues={":s": {"N": str(score)}})

        def published(score: int = score) -> bool:
            models = {m["model_name"]: m for m in local_stack.get_json("/llms.json")["models"]}
            return models.get(MODEL, {}).get("score") == score and LOOKALIKE in models
        local_stack.wait_for(published, timeout=20)
    local_stack.wait_for(lambda: _scores(local_stack, MODEL) == [50, 60, 70], timeout=20)
    yield local_stack
    for name in (MODEL, LOOKALIKE):
        dynamodb.delete_item(TableName=local_stack.table, Key={"model_name": {"S": name}})

    def gone() -> bool:
        names = {m["model_name"] for m in local_stack.get_json("/llms.json")["models"]}
        return not names & {MODEL, LOOKALIKE}
    local_stack.wait_for(gone, timeout=20)


def _wait_for_view(page: Any, title: str, points: int) -> None:
    # A function, not a string: the page's CSP (no 'unsafe-eval') refuses strings evaluated in it.
    page.wait_for_function("([title, points]) => document.getElementById('detail-title').textContent === title"
                           " && document.querySelectorAll('[data-history-point]').length === points",
                           arg=[title, points])


def _model_param(page: Any) -> list[str] | None:
    return parse_qs(urlsplit(page.url).query).get("model")


def test_a_model_changed_twice_shows_three_points_oldest_first_on_reload(written: Any, chromium: Any) -> None:
    problems = PageProblems()
    page = problems.watch(chromium.new_page(viewport={"width": 1280, "height": 900}))
    try:
        response = page.goto(f"{written.edge}/?model={quote(MODEL)}")
        assert "script-src 'self'" in response.headers["content-security-policy"]
        view = detail_state(page)
        assert view["error"] is None
        assert view["title"] == MODEL
        assert [p["value"] for p in view["points"]] == [50, 60, 70]
        ats = [p["at"] for p in view["points"]]
        assert ats == sorted(ats) and len(set(ats)) == 3
        for point, row in zip(view["points"], view["rows"], strict=True):
            date, _, score = point["label"].partition(": score ")
            # What a screen reader announces for each point: its date and value, as the table says.
            assert DATE_TEXT.match(date) and score == f"{point['value']:.1f}", point
            assert point["title"] == point["label"] and point["role"] == "img"
            assert row == [date, score]
        assert view["figures"]["Score"] == "70.0" and view["figures"]["Provider"] == "Probe Labs"
        assert view["figures"]["Version"] == "2026-11" and view["figures"]["Context window"] == "128,000 tokens"
        # The JSON link is the model's own history document.
        assert view["json"] == "/" + identity.history_key(MODEL)
        assert written.get_json(view["json"])["model_name"] == MODEL
        assert axe_violations(page) == []
        page.screenshot(path=str(screenshot_path("model-detail-local-stack.png")), full_page=True)
    finally:
        page.close()
    problems.assert_clean()


def test_clicking_a_name_opens_the_view_and_the_url_follows_back_forward_and_close(written: Any,
                                                                                   chromium: Any) -> None:
    problems = PageProblems()
    page = problems.watch(chromium.new_page(viewport={"width": 1280, "height": 900}))
    try:
        page.goto(f"{written.edge}/?q={quote('view probe')}")
        page.wait_for_load_state("networkidle")
        assert page.is_hidden("#detail")
        page.locator("#catalogue a[data-model]", has_text=re.compile(f"^{re.escape(MODEL)}$")).click()
        assert [p["value"] for p in detail_state(page)["points"]] == [50, 60, 70]
        assert _model_param(page) == [MODEL]
        assert parse_qs(urlsplit(page.url).query)["q"] == ["view probe"]  # the filters stay
        # The look-alike has its own history: one point, never the other's three.
        page.locator("#catalogue a[data-model]", has_text=re.compile(f"^{re.escape(LOOKALIKE)}$")).click()
        _wait_for_view(page, LOOKALIKE, 1)
        assert [p["value"] for p in detail_state(page)["points"]] == [10]
        assert _model_param(page) == [LOOKALIKE]
        page.go_back()
        _wait_for_view(page, MODEL, 3)
        assert _model_param(page) == [MODEL]
        page.click("#detail-close")
        assert page.is_hidden("#detail")
        assert _model_param(page) is None
        assert parse_qs(urlsplit(page.url).query)["q"] == ["view probe"]
        page.go_back()
        page.wait_for_selector("#detail:not([hidden])")
        assert _model_param(page) == [MODEL]
        page.go_forward()
        page.wait_for_selector("#detail", state="hidden")
        assert axe_violations(page) == []
    finally:
        page.close()
    problems.assert_clean()


def test_an_unknown_model_in_the_url_is_a_clear_error(written: Any, chromium: Any) -> None:
    page = chromium.new_page()
    try:
        page.goto(f"{written.edge}/?model={quote('No Such Model <b>')}")
        view = detail_state(page)
        assert view["title"] == "Unknown model"
        assert view["error"] and "No Such Model <b>" in view["error"] and view["points"] == []
        assert page.locator("#detail-error b").count() == 0
        assert axe_violations(page) == []
    finally:
        page.close()


def test_without_javascript_the_table_reads_and_names_are_links(written: Any, chromium: Any) -> None:
    context = chromium.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(f"{written.edge}/?model={quote(MODEL)}")
        names = page.eval_on_selector_all('#catalogue tbody [data-col="model_name"]', "c => c.map(e => e.textContent)")
        assert MODEL in names and LOOKALIKE in names
        assert page.is_hidden("#detail")
        link = page.locator("#catalogue a[data-model]", has_text=re.compile(f"^{re.escape(MODEL)}$"))
        href = link.get_attribute("href")
        assert parse_qs(urlsplit(href).query) == {"model": [MODEL]}
        link.click()
        page.wait_for_load_state("load")
        assert _model_param(page) == [MODEL]
        assert page.locator("#catalogue tbody tr").count() == len(names)
    finally:
        context.close()
