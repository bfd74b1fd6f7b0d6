"""The catalogue page from render_site: content, escaping, the attributes the script reads, weight."""

from __future__ import annotations

import gzip
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from publisher.core import edge_contract
from publisher.core.documents import SiteObject
from publisher.core.identity import key, provider_key
from publisher.publish.render import render_site

GENERATED_AT = "2026-11-27T14:41:50Z"
XSS_NAME = "<img src=x onerror=alert(1)>"
COLUMNS = ["model_name", "provider", "version", "context_window", "score", "release_date"]
WEIGHT_BUDGET = 60 * 1024

FULL = {
    "model_name": "GPT-4o", "provider": "OpenAI", "version": "2024-08-06", "context_window": 128000,
    "score": 95.9, "release_date": "2024-05-13", "benchmarks": {"mmlu": 88.7}, "updated_at": GENERATED_AT,
}
BARE = {"model_name": "Llama 3 70B", "provider": "Meta", "score": 89.5}


class Page(HTMLParser):
    """Elements with their attributes, table rows as {data-col: (data-value, text)}, and all text."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.rows: list[dict[str, tuple[str | None, str]]] = []
        self.text: list[str] = []
        self._in_tbody = False
        self._cell: tuple[str, str | None] | None = None
        self._cell_text: list[str] = []
        self._stack: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if tag == "tbody":
            self._in_tbody = True
        elif self._in_tbody and tag == "tr" and "empty" not in attributes.get("class", ""):
            self.rows.append({})
        elif self._in_tbody and tag in ("td", "th") and "data-col" in attributes:
            self._cell = (attributes["data-col"], attributes.get("data-value"))
            self._cell_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_tbody = False
        elif tag in ("td", "th") and self._cell is not None:
            col, value = self._cell
            self.rows[-1][col] = (value, "".join(self._cell_text).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell_text.append(data)

    def all(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.elements if t == tag and all(a.get(k.replace("_", "-")) == v
                                                               for k, v in attrs.items())]

    @property
    def body_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def render(models: list[dict[str, Any]], **links: str | None) -> tuple[str, list[SiteObject]]:
    objects = render_site(7, GENERATED_AT, {m["model_name"]: m for m in models}, links=links or None)
    index = next(o for o in objects if o.key == "index.html")
    return index.body.decode(), objects


def sample(n: int) -> list[dict[str, Any]]:
    providers = ["OpenAI", "Anthropic", "Google", "Meta", "Mistral AI", "DeepSeek", "Alibaba", "Cohere"]
    return [
        {
            "model_name": f"Model {i:03d} Instruct Large",
            "provider": providers[i % len(providers)],
            "version": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "context_window": [8192, 32768, 128000, 200000, 1000000][i % 5],
            "score": round(50 + (i * 37 % 500) / 10, 1),
            "release_date": f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "benchmarks": {"mmlu": 70.0 + i % 20, "humaneval": 60.0 + i % 30},
            "updated_at": GENERATED_AT,
        }
        for i in range(n)
    ]


def test_page_escapes_a_script_looking_model_name_everywhere() -> None:
    html, _ = render([dict(BARE, model_name=XSS_NAME, provider='Evil" onmouseover="x')])
    page = Page(html)
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert not page.all("img")
    assert page.rows[0]["model_name"] == (None, XSS_NAME)
    # The provider lands in attributes (option value, data-provider): still one attribute, escaped.
    assert page.all("option", value='Evil" onmouseover="x')
    assert not any(k == "onmouseover" for _, a in page.elements for k in a)


def test_page_has_no_inline_script_style_or_handlers() -> None:
    html, _ = render([FULL, BARE, dict(BARE, model_name=XSS_NAME)])
    page = Page(html)
    scripts = page.all("script")
    assert scripts and all(s.get("src", "").startswith("/static/") for s in scripts)
    for tag, attributes in page.elements:
        assert "style" not in attributes, tag
        assert not [k for k in attributes if k.startswith("on")], (tag, attributes)
    assert "<style" not in html
    assert "javascript:" not in html


def test_empty_catalogue_renders_a_page_with_no_rows() -> None:
    html, _ = render([])
    page = Page(html)
    assert page.rows == []
    assert "No models are published yet." in page.body_text
    assert "0 models from 0 providers" in page.body_text
    assert "0 of 0 models shown" in page.body_text
    assert not page.all("svg")
    assert page.all("form", id="filters")


def test_one_model_renders_one_row_a_chart_and_singular_wording() -> None:
    html, _ = render([FULL])
    page = Page(html)
    assert len(page.rows) == 1
    assert "1 model from 1 provider," in page.body_text
    assert page.all("svg", role="img")
    assert "Top 1 model by score" in html
    assert page.all("option", value="OpenAI")


def test_every_cell_names_its_column_and_numbers_carry_raw_values() -> None:
    html, _ = render([FULL])
    row = Page(html).rows[0]
    assert list(row) == COLUMNS
    assert row["model_name"] == (None, "GPT-4o")
    assert row["provider"] == (None, "OpenAI")
    assert row["version"] == (None, "2024-08-06")
    assert row["context_window"] == ("128000", "128K")
    assert row["score"] == ("95.9", "95.9")
    assert row["release_date"] == (None, "2024-05-13")


def test_missing_optional_fields_show_a_dash_with_an_empty_value() -> None:
    html, _ = render([BARE])
    row = Page(html).rows[0]
    for col in ("version", "context_window", "release_date"):
        assert row[col] == ("", "—"), col
    assert row["score"] == ("89.5", "89.5")


@pytest.mark.parametrize(
    ("window", "shown"),
    [(512, "512"), (8192, "8K"), (16385, "16K"), (32768, "32K"), (128000, "128K"), (131072, "128K"),
     (200000, "200K"), (1000000, "1M"), (1048576, "1M"), (1500000, "1.5M"), (2000000, "2M")],
)
def test_context_window_is_shown_compactly(window: int, shown: str) -> None:
    html, _ = render([dict(BARE, context_window=window)])
    assert Page(html).rows[0]["context_window"] == (str(window), shown)


def test_rows_are_sorted_by_score_then_name() -> None:
    scores = [("b", 90.0), ("a", 90.0), ("c", 99.5), ("d", 10.0)]
    models = [dict(BARE, model_name=n, score=s) for n, s in scores]
    html, _ = render(models)
    assert [r["model_name"][1] for r in Page(html).rows] == ["c", "a", "b", "d"]
    header = Page(html).all("th", data_col="score")[0]
    assert header["aria-sort"] == "descending"


def test_page_shows_last_updated_count_and_data_links() -> None:
    html, _ = render([FULL, BARE])
    page = Page(html)
    times = page.all("time")
    assert times and times[0]["datetime"] == GENERATED_AT
    assert "2026-11-27 14:41 UTC" in page.body_text
    assert "2 models from 2 providers" in page.body_text
    hrefs = {a.get("href") for a in page.all("a")}
    assert {"/llms.json", "/api/openapi.json", "/schemas/catalogue.schema.json",
            f"/{provider_key('OpenAI')}", f"/{provider_key('Meta')}"} <= hrefs
    assert not page.all("link", type="application/atom+xml")
    assert "Change feed" not in page.body_text


def test_change_feed_is_linked_when_there_is_one() -> None:
    html, _ = render([FULL], changes="/changes.atom")
    page = Page(html)
    assert page.all("link", rel="alternate", type="application/atom+xml", href="/changes.atom")
    assert page.all("a", href="/changes.atom")


def test_every_control_has_a_label_and_the_form_works_as_a_get_form() -> None:
    html, _ = render([FULL, BARE])
    page = Page(html)
    form = page.all("form", id="filters")[0]
    assert form.get("method") == "get"
    labelled = {label["for"] for label in page.all("label")}
    controls = page.all("input") + page.all("select")
    assert {c["name"] for c in controls} == {"q", "provider", "min_score"}
    assert {c["id"] for c in controls} <= labelled
    assert page.all("p", id="status", role="status")
    buttons = page.all("button", type="button")
    assert [b["data-sort"] for b in buttons] == COLUMNS


def test_provider_options_carry_the_key_and_the_slug() -> None:
    html, _ = render([dict(BARE, provider="Mistral AI"), dict(FULL)])
    page = Page(html)
    assert page.all("option", value="Mistral AI", data_slug="mistral-ai", data_key=key("Mistral AI"))
    assert page.all("td", data_col="provider", data_key=key("Mistral AI"))


def test_providers_that_differ_only_in_case_are_two_providers_with_two_files() -> None:
    html, objects = render([dict(BARE, provider="TwinCo"), dict(FULL, provider="twinco")])
    page = Page(html)
    assert len(page.all("option", data_slug="twinco")) == 2
    assert {o["data-key"] for o in page.all("option", data_slug="twinco")} == {key("TwinCo"), "twinco"}
    keys = {o.key for o in objects}
    assert {provider_key("TwinCo"), provider_key("twinco")} <= keys
    assert provider_key("twinco") == "providers/twinco.json" != provider_key("TwinCo")


def test_page_carries_its_content_security_policy_in_a_meta_tag_before_any_script() -> None:
    html, _ = render([FULL])
    meta = Page(html).all("meta", **{"http-equiv": "Content-Security-Policy"})
    assert meta and meta[0]["content"] == edge_contract.meta_content_security_policy()
    assert "'unsafe-inline'" not in meta[0]["content"] and "script-src 'self'" in meta[0]["content"]
    # frame-ancestors works only as a header; in a meta tag browsers ignore it and warn.
    assert "frame-ancestors" not in meta[0]["content"]
    assert "frame-ancestors 'none'" in edge_contract.content_security_policy()
    assert html.index('http-equiv="Content-Security-Policy"') < html.index("<script")
    # Nothing inline that the policy would block: no <script> body, no style attribute, no handler.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=|\son[a-z]+=", html)


def test_page_references_only_assets_that_are_published() -> None:
    html, objects = render([FULL])
    keys = {o.key for o in objects}
    referenced = re.findall(r'(?:href|src)="/(static/[^"]+)"', html)
    assert {r.split(".")[0] for r in referenced} >= {"static/style", "static/app", "static/favicon"}
    assert set(referenced) <= keys


def test_page_with_100_models_stays_within_the_weight_budget() -> None:
    html, objects = render(sample(100))
    assert len(Page(html).rows) == 100
    by_key = {o.key: o for o in objects}
    assets = re.findall(r'(?:href|src)="/(static/[^"]+\.(?:css|js))"', html)
    parts = [html.encode()] + [by_key[k].body for k in assets]
    assert len(parts) == 3
    total = sum(len(gzip.compress(p, compresslevel=9)) for p in parts)
    print(f"index.html + CSS + JS for 100 models: {total} bytes gzipped ({total / 1024:.1f} KiB)")
    assert total <= WEIGHT_BUDGET, total
