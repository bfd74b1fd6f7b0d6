"""The layout stays what it is: modules under 300 lines, one emulator starter, one spelling of the routes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MAX_LINES = 300
# Not the project's sources: environments, build output, local state, VCS.
SKIP_DIRS = frozenset({".git", ".venv", ".venv-checkov", ".local", "dist", "node_modules", "__pycache__",
                       ".pytest_cache", ".ruff_cache", ".terraform", "test-artifacts"})
SOURCE_SUFFIXES = frozenset({".py", ".tf", ".hcl", ".json", ".js", ".j2", ".css", ".yml", ".yaml", ".toml"})
# What starts a moto server: its entry points, in-process or as a child process.
MOTO_STARTS = re.compile(r"from moto\.server import|import moto\.server|ThreadedMotoServer|moto_server\b"
                         r"|[\"']-m[\"'],\s*[\"']moto\b|\"publisher\.local\.emulator\"")


def files(suffixes: frozenset[str], include_tests: bool) -> list[Path]:
    found = []
    for path in REPO.rglob("*"):
        rel = path.relative_to(REPO).parts
        if any(part in SKIP_DIRS for part in rel) or not path.is_file() or path.suffix not in suffixes:
            continue
        if not include_tests and rel[0] == "tests":
            continue
        found.append(path)
    return sorted(found)


def test_the_scan_sees_the_sources() -> None:
    names = {p.relative_to(REPO).as_posix() for p in files(frozenset({".py"}), include_tests=False)}
    assert {"publisher/read/handler.py", "publisher/publish/handler.py", "scripts/package.py",
            "benchmarks/bench_read.py", "publisher/local/emulator.py"} <= names
    assert not any(n.startswith("tests/") for n in names)


def test_no_python_module_outside_tests_exceeds_300_lines() -> None:
    over = {p.relative_to(REPO).as_posix(): n for p in files(frozenset({".py"}), include_tests=False)
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not over, f"modules over {MAX_LINES} lines (split them by idea): {over}"


def test_one_python_file_starts_the_moto_server() -> None:
    starters = {p.relative_to(REPO).as_posix() for p in files(frozenset({".py"}), include_tests=True)
                if p != Path(__file__).resolve() and MOTO_STARTS.search(p.read_text(encoding="utf-8"))}
    assert starters == {"publisher/local/emulator.py"}


@pytest.mark.parametrize("route", ["{model_name}/history", "/api/llms/{model_name}", "/history/{file}",
                                   "/providers/{file}"])
def test_each_read_route_is_written_in_one_source_file(route: str) -> None:
    """The edge contract; the read API, OpenAPI, the local edge and infra/cdn.tf read it from there."""
    spelled = {p.relative_to(REPO).as_posix() for p in files(SOURCE_SUFFIXES, include_tests=False)
               if route in p.read_text(encoding="utf-8", errors="replace")}
    assert spelled == {"publisher/core/edge_contract.json"}
