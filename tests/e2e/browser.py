"""Browser test helpers: serve site objects (or any page) on a free port; drive Debian's chromium.

The server sends only what an object carries (type, cache control): no security header of its own.
The page's Content-Security-Policy is its own (a meta tag; the edge adds the same as a header).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from publisher.render import SiteObject
from tests.conftest import REQUIRE_TOOLS, require_tool

CHROMIUM = "/usr/bin/chromium"
# The flags the machine notes prescribe: without the background-networking ones chromium keeps
# dialling Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


class SiteServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, objects: Iterable[SiteObject]) -> None:
        self.objects = {obj.key: obj for obj in objects}
        self.requests: list[str] = []
        super().__init__(("127.0.0.1", 0), _Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: SiteServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        path = urlsplit(self.path).path
        self.server.requests.append(path)
        key = "index.html" if path == "/" else path.lstrip("/")
        obj = self.server.objects.get(key)
        if obj is None:
            body = b'{"error": "not found"}'
            self.send_response(404)
            self.send_header("Content-Type", "application/json")
        else:
            body = obj.body
            self.send_response(200)
            self.send_header("Content-Type", obj.content_type)
            self.send_header("Cache-Control", obj.cache_control)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence per-request logs
        return


@contextmanager
def serve(objects: Iterable[SiteObject]) -> Iterator[SiteServer]:
    server = SiteServer(objects)
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class PageProblems:
    """Console errors, uncaught exceptions and dialogs seen by a page."""

    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def watch(self, page: Any) -> Any:
        page.on("console", lambda msg: self.console.append(msg.text) if msg.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return page

    def assert_clean(self) -> None:
        assert not self.console, f"console errors: {self.console}"
        assert not self.errors, f"page errors: {self.errors}"
        assert not self.dialogs, f"dialogs fired: {self.dialogs}"


def require_browser() -> Any:
    """playwright.sync_api with Debian's chromium present; skip loudly, or fail when CI requires tools."""
    require_tool("chromium", CHROMIUM)
    try:
        return importlib.import_module("playwright.sync_api")
    except ImportError:
        message = "playwright (python) is not installed: this test cannot run here"
        if os.environ.get(REQUIRE_TOOLS) == "1":
            pytest.fail(f"{REQUIRE_TOOLS}=1 but {message}")
        pytest.skip(f"SKIPPED LOUDLY: {message}")
        raise AssertionError("unreachable") from None


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def screenshot_path(name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def axe_violations(page: Any, context: str | None = None) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (rule id, impact, offending nodes), run in the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context=context)
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in results.response["violations"]]


# The detail view (?model=<name>) as a reader meets it: heading, error, figures, and each history
# point with what a screen reader announces for it, beside the table equivalent.
_DETAIL_STATE = """() => {
    const byId = id => document.getElementById(id);
    const shown = id => byId(id).hidden ? null : byId(id);
    return {
        title: byId("detail-title").textContent,
        error: shown("detail-error") && byId("detail-error").textContent,
        figures: shown("detail-figures") && Object.fromEntries([...document.querySelectorAll("#detail-figures dt")]
            .map(dt => [dt.textContent, dt.nextElementSibling.textContent])),
        points: [...document.querySelectorAll("[data-history-point]")].map(p => ({
            at: p.getAttribute("data-at"), value: Number(p.getAttribute("data-value")),
            label: p.getAttribute("aria-label"), title: p.querySelector("title").textContent,
            role: p.getAttribute("role")})),
        rows: [...document.querySelectorAll("#history-table tbody tr")]
            .map(r => [...r.cells].map(c => c.textContent)),
        json: byId("detail-json").getAttribute("href"),
    };
}"""


def detail_state(page: Any, timeout: float = 15_000) -> dict[str, Any]:
    """The open detail view once it has settled: its history drawn or an error shown."""
    page.wait_for_selector("#detail:not([hidden])", timeout=timeout)
    # A function, not a string: the page's CSP (no 'unsafe-eval') refuses strings evaluated in it.
    page.wait_for_function("() => document.querySelector('#detail-error:not([hidden])')"
                           " || document.querySelector('[data-history-point]')", timeout=timeout)
    return page.evaluate(_DETAIL_STATE)
