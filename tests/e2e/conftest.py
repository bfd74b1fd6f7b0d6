"""The local stack as a user starts it (`python -m publisher run`), on free ports, once per session."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from publisher.local.emulator import local_aws_env
from publisher.local.launch import REPO, LaunchedStack, http_get, launch

__all__ = ["REPO", "RunningStack", "start_stack", "stop_stack"]


@dataclass
class RunningStack(LaunchedStack):
    bucket: str = "llm-catalogue-site-local"
    table: str = "llm_scores"

    def client(self, service: str) -> Any:
        import boto3

        env = local_aws_env(self.endpoint)
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name=env["AWS_DEFAULT_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        return http_get(self.edge + path, headers)

    def get_json(self, path: str) -> Any:
        status, _, body = self.get(path)
        assert status == 200, (path, status, body[:200])
        return json.loads(body)

    def wait_for(self, predicate: Any, timeout: float = 10.0, interval: float = 0.05) -> float:
        """Poll until predicate() is truthy; return the seconds it took."""
        started = time.monotonic()
        while True:
            try:
                if predicate():
                    return time.monotonic() - started
            except (OSError, ValueError, AssertionError):
                pass
            if time.monotonic() - started > timeout:
                raise AssertionError(f"condition not met within {timeout} s; stack log:\n{self.log_tail()}")
            time.sleep(interval)


def start_stack(tmp: Path, extra_args: list[str] | None = None) -> RunningStack:
    launched = launch(tmp, extra_args)
    return RunningStack(launched.edge, launched.endpoint, launched.process, launched.log_path)


def stop_stack(stack: RunningStack) -> None:
    stack.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright, one per test module (skips loudly, or fails in CI, without it)."""
    from tests.e2e.browser import launch, require_browser

    sync_api = require_browser()
    with sync_api.sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(tmp_path_factory.mktemp("stack"))
    try:
        yield stack
    finally:
        stop_stack(stack)
