"""The layout stays: modules under 300 lines, one emulator starter, each route written once, test code in tests/."""

from __future__ import annotations

import ast
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


def test_no_production_module_defines_what_only_tests_use() -> None:
    """Test-only helpers live under tests/: each public name a module under publisher/ defines is used
    by the code (its own module, another module, scripts, benchmarks, infra/ or the Makefile)."""
    code = files(SOURCE_SUFFIXES, include_tests=False)
    code.append(REPO / "Makefile")
    texts = {p: p.read_text(encoding="utf-8", errors="replace") for p in code}
    unused = []
    for path in (p for p in code if p.suffix == ".py" and p.relative_to(REPO).parts[0] == "publisher"):
        for node in ast.parse(texts[path]).body:
            if not isinstance(node, ast.FunctionDef | ast.ClassDef) or node.name.startswith("_"):
                continue
            used = re.compile(rf"\b{re.escape(node.name)}\b")
            if len(used.findall(texts[path])) < 2 and not any(used.search(t) for p, t in texts.items() if p != path):
                unused.append(f"{path.relative_to(REPO).as_posix()}:{node.name}")
    assert not unused, f"defined outside tests/ but used only by tests (move them under tests/) or by nothing: {unused}"


DOCS = ("README.md", "SOLUTION.md", "infra/README.md")
# A repository path in backticks, optionally naming a test in it: `tests/unit/test_x.py::test_y`; or a
# test alone, `::test_z`, which is in the file named last before it.
DOC_PATH = re.compile(r"`((?:publisher|scripts|tests|infra|benchmarks|site)/[\w./-]+)(?:::(\w+))?|`::(\w+)`")


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_and_test_the_docs_name_exists(doc: str) -> None:
    """README's Key files, SOLUTION and infra/README follow the tree: a moved file or a renamed test fails here."""
    stale = []
    last = ""
    for path, test, bare in DOC_PATH.findall((REPO / doc).read_text(encoding="utf-8")):
        if bare:
            path, test = last, bare
            if not path.endswith(".py"):
                stale.append(f"::{bare} (no Python file named before it)")
                continue
        last = path
        target = REPO / path.rstrip("/.")
        if not target.exists():
            stale.append(path)
        elif test and not re.search(rf"^(?:async )?def {test}\b|^class {test}\b", target.read_text(encoding="utf-8"),
                                    re.M):
            stale.append(f"{path}::{test}")
    assert not stale, f"{doc} names what is not in the tree: {sorted(set(stale))}"
