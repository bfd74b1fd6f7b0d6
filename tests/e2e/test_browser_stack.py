"""The published page and the data end to end in Chromium: the local stack serves them, another origin reads them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from publisher.core import edge_contract
from publisher.core.documents import SiteObject
from publisher.publish.render import HTML_TYPE
from tests.e2e.browser import PageProblems, SiteServer, screenshot_path, serve
from tests.e2e.test_browser_page import injected
from tests.e2e.test_read_api import wait_for_published_snapshot

pytestmark = [pytest.mark.e2e, pytest.mark.browser]
VISIBLE = "#catalogue tbody tr:not([hidden])"
TEXTS = "cells => cells.map(c => c.textContent)"

# A consumer's page on another origin (another port), as a web app would be: its own script reads
# the catalogue with fetch(), in CORS mode, and writes what it got into the page.
CONSUMER_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>consumer</title><link rel="icon" href="data:,"></head>
<body><pre id="results"></pre>
<script>
(async () => {
  const edge = new URLSearchParams(location.search).get("edge");
  const results = {};
  async function read(label, path, init) {
    try {
      const response = await fetch(edge + path, init);
      const text = await response.text();
      results[label] = {status: response.status, etag: response.headers.get("ETag"),
                        version: response.headers.get("X-Snapshot-Version"),
                        objectVersion: response.headers.get("x-amz-meta-snapshot-version"),
                        body: text ? JSON.parse(text) : null};
    } catch (error) {
      results[label] = {error: String(error)};
    }
  }
  try {
    await read("llms.json", "/llms.json");
    await read("llms", "/llms");
    await read("changes.json", "/changes.json");
    await read("providers", "/api/providers");
    const provider = results.providers.body.items.find(p => p.name === "OpenAI");
    await read("provider file", "/providers/" + provider.slug + ".json");
    await read("old provider url", "/providers/openai.json");
    await read("filter", "/api/llms?provider=OpenAI&min_score=90");
    await read("lookup", "/api/llms/" + encodeURIComponent("GPT-4"));
    await read("pinned", "/api/llms?limit=1&min_version=" + results["llms.json"].body.version);
    await read("schema", results["llms.json"].body["$schema"]);
    // A request header that is not CORS-safelisted makes the browser send a preflight first.
    await read("revalidated", "/llms.json", {headers: {"If-None-Match": results["llms.json"].etag}});
    await read("head", "/api/llms/GPT-4", {method: "HEAD"});
  } catch (error) {
    results.script = {error: String(error)};
  } finally {
    document.getElementById("results").textContent = JSON.stringify(results);
    document.title = "done";
  }
})();
</script></body></html>
"""


@pytest.fixture(scope="module")
def consumer_site() -> Iterator[SiteServer]:
    with serve([SiteObject("index.html", CONSUMER_PAGE.encode(), HTML_TYPE, "no-store")]) as server:
        yield server


def test_published_page_lists_the_seeded_models_and_filters(local_stack: Any, chromium: Any) -> None:
    expected = {m["model_name"] for m in local_stack.get_json("/llms.json")["models"]}
    assert "GPT-4" in expected
    problems = PageProblems()
    page = problems.watch(chromium.new_page(viewport={"width": 1280, "height": 900}))
    try:
        page.goto(local_stack.edge + "/?provider=OpenAI")
        page.wait_for_load_state("networkidle")
        shown = page.eval_on_selector_all(VISIBLE + ' [data-col="provider"]', TEXTS)
        assert shown and set(shown) == {"OpenAI"}
        page.select_option("#f-provider", "")
        names = page.eval_on_selector_all(VISIBLE + ' [data-col="model_name"]', TEXTS)
        assert set(names) == expected
        page.click('th[data-col="score"] button')
        assert page.get_attribute('th[data-col="score"]', "aria-sort") == "ascending"
        page.screenshot(path=str(screenshot_path("catalogue-local-stack.png")), full_page=True)
    finally:
        page.close()
    problems.assert_clean()


def test_a_page_on_another_origin_reads_every_document_and_the_api(local_stack: Any, chromium: Any,
                                                                   consumer_site: SiteServer) -> None:
    wait_for_published_snapshot(local_stack)
    assert consumer_site.url.split(":")[-1] != local_stack.edge.split(":")[-1]
    problems = PageProblems()
    page = problems.watch(chromium.new_page())
    try:
        page.goto(f"{consumer_site.url}/?edge={local_stack.edge}")
        page.wait_for_function("document.title === 'done'", timeout=20_000)
        results = json.loads(page.text_content("#results") or "{}")
    finally:
        page.close()
    problems.assert_clean()
    failed = {label: r for label, r in results.items() if "error" in r}
    assert not failed, failed
    snapshot = results["llms.json"]
    assert snapshot["status"] == 200 and snapshot["etag"] and snapshot["body"]["count"] > 0
    assert results["llms"]["body"] == snapshot["body"]["models"]
    assert int(results["llms"]["objectVersion"]) >= snapshot["body"]["version"]
    assert results["changes.json"]["body"]["events"]
    assert results["provider file"]["body"]["provider"] == "OpenAI"
    assert results["old provider url"]["body"] == results["provider file"]["body"]
    assert {m["provider"] for m in results["filter"]["body"]["items"]} == {"OpenAI"}
    assert results["lookup"]["body"]["model_name"] == "GPT-4" and results["lookup"]["version"]
    assert int(results["pinned"]["version"]) >= snapshot["body"]["version"]
    assert results["schema"]["body"]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert results["revalidated"]["status"] in (200, 304)
    assert results["head"]["status"] == 200 and results["head"]["body"] is None


def test_the_page_served_by_the_edge_blocks_injected_script_by_its_own_policy(local_stack: Any,
                                                                              chromium: Any) -> None:
    page = chromium.new_page()
    try:
        response = page.goto(local_stack.edge + "/")
        assert response.headers["content-security-policy"] == edge_contract.content_security_policy()
        page.wait_for_load_state("networkidle")
        result = injected(page)
    finally:
        page.close()
    assert (result["inline"], result["handler"], result["url"]) == (False, False, False)
    assert any(d.startswith("script-src") for d in result["refused"]), result
