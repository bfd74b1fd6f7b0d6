"""README and SOLUTION: short paths resolve, and every figure that names a results key is that key's value.

A figure cites its source as `results/<file>.json` (or `benchmarks/results/<file>.json`) followed by
the key it comes from (`peak_mb`, "warm.ours_first_request_ms"); the check reads the file, finds the
key (a dotted path, or a key anywhere in it) and requires a figure just before the citation that
equals the key's value at the precision written (in the value's unit or scaled by 1,000 or 100).
A renamed file, a renamed key or a figure that drifted from its results fails here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.unit.test_architecture import REPO

DOCS = ("README.md", "SOLUTION.md")
RESULTS = REPO / "benchmarks" / "results"
CITATION = re.compile(r"(?<![\w/])(?:benchmarks/)?results/([\w.*-]+\.json)")
KEY = re.compile(r"""\s*[,;:]?\s*(?:and\s+)?[`"]([a-z][\w.]*)[`"]""")
# Short forms of the package's paths the docs use: `core/x.py` is publisher/core/x.py.
SHORT_PATH = re.compile(r"`((?:core|read|publish|local|ops|canary)/[\w./-]+)`")
NUMBER = re.compile(r"(?<![\w.])-?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w])")
SCALES = (Decimal(1), Decimal(1000), Decimal("0.001"), Decimal(100), Decimal("0.000001"))
WINDOW = 320


def text(doc: str) -> str:
    return (REPO / doc).read_text(encoding="utf-8")


def leaves(value: Any) -> Iterator[float]:
    if isinstance(value, bool):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from leaves(item)


def find_key(document: Any, key: str) -> list[Any]:
    """The values a key names: a dotted path from the top or from any object, or a key anywhere."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            target: Any = node
            for part in key.split("."):
                if not isinstance(target, dict) or part not in target:
                    target = None
                    break
                target = target[part]
            if target is not None:
                found.append(target)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(document)
    return found


def figures(window: str) -> list[tuple[Decimal, int]]:
    """The numbers written in the window (code spans left out), each with its decimal places."""
    plain = re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), window)
    return [(Decimal(whole.replace(",", "") + (f".{frac}" if frac else "")), len(frac or ""))
            for whole, frac in NUMBER.findall(plain)]


def matches(value: float, written: Decimal, places: int) -> bool:
    exact = Decimal(str(value))
    return any(abs((exact * scale).quantize(Decimal(1).scaleb(-places))) == written for scale in SCALES)


def citations(doc: str) -> Iterator[tuple[str, int, str, list[str]]]:
    """(file, offset, window before the citation, keys named after it) for every results citation.
    A table row's window is its own cells; a sentence's, the text since the last sentence break."""
    body = text(doc)
    for match in CITATION.finditer(body):
        keys, end = [], match.end() + (body[match.end():match.end() + 1] == "`")
        while (named := KEY.match(body, end)) is not None:
            keys.append(named.group(1))
            end = named.end()
        start = max(0, match.start() - WINDOW)
        window = body[start:match.start()]
        # A table row's figures are its own cells; a sentence's, those since the last paragraph.
        line_start = body.rfind("\n", 0, match.start()) + 1
        if body[line_start:line_start + 1] == "|":
            cell = body[body.rfind("|", line_start, match.start()) + 1:match.start()]
            # A citation inside a cell of prose cites that cell's figures; in a column of its own, the row's.
            window = re.split(r"[.;] (?=[A-Z(])", cell)[-1] if figures(cell) else body[line_start:match.start()]
        else:
            window = re.split(r"\n\n|[.;] (?=[A-Z(])", window)[-1]
        yield match.group(1), match.start(), window, keys


@pytest.mark.parametrize("doc", DOCS)
def test_every_short_path_resolves(doc: str) -> None:
    missing = [f"results/{name}" for name, *_ in citations(doc)
               if "*" not in name and not (RESULTS / name).is_file()]
    missing += [path for path in SHORT_PATH.findall(text(doc))
                if not (REPO / "publisher" / path.rstrip("/")).exists()]
    globs = [name for name, *_ in citations(doc) if "*" in name and not list(RESULTS.glob(name))]
    assert not missing and not globs, f"{doc} names what is not in the tree: {missing + globs}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_figure_that_names_a_results_key_is_its_value(doc: str) -> None:
    checked, wrong = 0, []
    for name, offset, window, keys in citations(doc):
        if "*" in name or not (RESULTS / name).is_file():
            continue
        document = json.loads((RESULTS / name).read_text(encoding="utf-8"))
        written = figures(window)
        for key in keys:
            values = find_key(document, key)
            if not values:
                # A token like `llms.json` or `canary` names no key; one that reads like a key must be one.
                if "_" in key and not key.endswith((".json", ".py")):
                    wrong.append(f"{name} has no key {key!r} (line {text(doc).count(chr(10), 0, offset) + 1})")
                continue
            numbers = [v for value in values for v in leaves(value)]
            if not numbers:
                continue
            checked += 1
            # In prose the figures the keys name are the last ones before the citation (one per
            # key); a table row's cells may be in any order.
            near = written if window.startswith("|") else written[-len(keys):]
            if not any(matches(v, x, p) for v in numbers for x, p in near):
                line = text(doc).count("\n", 0, offset) + 1
                wrong.append(f"line {line}: no figure before results/{name} {key!r} equals its value "
                             f"({sorted(set(numbers))[:6]}); the text says {[str(x) for x, _ in written][-6:]}")
    assert not wrong, f"{doc}:\n" + "\n".join(wrong)
    if doc == "SOLUTION.md":
        assert checked >= 10, f"only {checked} figures with a results key were checked"


def test_the_check_fails_on_a_drifted_figure(tmp_path: Path) -> None:
    """The comparison itself: the right value at the written precision passes, a drifted one fails."""
    assert matches(116.50390625, Decimal("116.5"), 1) and matches(0.01955, Decimal("19.6"), 1)
    assert matches(14053317, Decimal("14.1"), 1) and not matches(116.50390625, Decimal("134"), 0)
    assert [x for x, _ in figures("at 100,000 models 116.5 MB (`10k`) and -0.10 s")] == [
        Decimal(100000), Decimal("116.5"), Decimal("0.10")]
    assert find_key({"results": [{"peak_mb": 1}, {"peak_mb": 2}]}, "peak_mb") == [1, 2]
    assert find_key({"warm": {"ours_first_request_ms": 91.2}}, "warm.ours_first_request_ms") == [91.2]
