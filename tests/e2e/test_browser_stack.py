"""The published page end to end: the local stack's CDN stand-in serves it and Chromium runs it cleanly."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browser import PageProblems, launch, require_browser, screenshot_path

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
VISIBLE = "#catalogue tbody tr:not([hidden])"
TEXTS = "cells => cells.map(c => c.textContent)"


def test_published_page_lists_the_seeded_models_and_filters(local_stack: Any) -> None:
    sync_api = require_browser()
    expected = {m["model_name"] for m in local_stack.get_json("/llms.json")["models"]}
    assert "GPT-4" in expected
    problems = PageProblems()
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = problems.watch(browser.new_page(viewport={"width": 1280, "height": 900}))
            page.goto(local_stack.edge + "/?provider=OpenAI")
            page.wait_for_load_state("networkidle")
            shown = page.eval_on_selector_all(VISIBLE + ' [data-col="provider"]', TEXTS)
            assert shown and set(shown) == {"OpenAI"}
            page.select_option("#f-provider", "")
            names = page.eval_on_selector_all(VISIBLE + ' [data-col="model_name"]', TEXTS)
            assert set(names) == expected
            page.screenshot(path=str(screenshot_path("catalogue-local-stack.png")), full_page=True)
        finally:
            browser.close()
    problems.assert_clean()
