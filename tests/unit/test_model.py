"""The catalogue model: PoC items keep their fields and values; bad items are named and refused."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from publisher.core.documents import dumps
from publisher.core.model import InvalidItem, slugify, sort_key, to_record


def test_poc_item_comes_out_with_the_same_fields_and_values() -> None:
    item = {"model_name": "GPT-4", "provider": "OpenAI", "context_window": Decimal("128000"),
            "score": Decimal("95.5")}
    record = to_record(item)
    assert record == {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5}
    assert isinstance(record["context_window"], int)
    assert json.loads(dumps(record)) == {"model_name": "GPT-4", "provider": "OpenAI",
                                         "context_window": 128000, "score": 95.5}


def test_optional_fields_are_kept_in_a_fixed_order_and_unknown_ones_dropped() -> None:
    record = to_record({
        "updated_at": "2026-01-02T03:04:05Z", "benchmarks": {"mmlu": Decimal("88.7"), "gsm8k": 95},
        "release_date": "2024-05-13", "version": "2024-08-06", "score": 95, "provider": "OpenAI",
        "model_name": "GPT-4o", "internal_note": "drop me",
    })
    assert list(record) == ["model_name", "provider", "score", "version", "release_date", "benchmarks",
                            "updated_at"]
    assert record["benchmarks"] == {"gsm8k": 95.0, "mmlu": 88.7}
    assert list(record["benchmarks"]) == ["gsm8k", "mmlu"]


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        ({"model_name": "A", "score": 50}, "provider is missing"),
        ({"model_name": "A", "provider": "  ", "score": 50}, "provider is empty"),
        ({"model_name": "A", "provider": 7, "score": 50}, "provider must be a string"),
        ({"model_name": "A", "provider": "P"}, "score is missing"),
        ({"model_name": "A", "provider": "P", "score": "high"}, "score must be a number"),
        ({"model_name": "A", "provider": "P", "score": True}, "score must be a number"),
        ({"model_name": "A", "provider": "P", "score": Decimal("100.01")}, "score must be between 0 and 100"),
        ({"model_name": "A", "provider": "P", "score": -1}, "score must be between 0 and 100"),
        ({"model_name": "A", "provider": "P", "score": float("nan")}, "score must be finite"),
        ({"model_name": "A", "provider": "P", "score": 1, "context_window": Decimal("1.5")}, "whole number"),
        ({"model_name": "A", "provider": "P", "score": 1, "context_window": 0}, "context_window must be between"),
        ({"model_name": "A", "provider": "P", "score": 1, "context_window": "8k"}, "context_window must be a number"),
        ({"model_name": "A", "provider": "P" * 129, "score": 1}, "provider is longer than 128"),
        ({"model_name": "A" * 257, "provider": "P", "score": 1}, "model_name is longer than 256"),
        ({"model_name": "A\x00", "provider": "P", "score": 1}, "control characters"),
        ({"model_name": "A", "provider": "P", "score": 1, "release_date": "May 2024"}, "release_date must be an ISO"),
        ({"model_name": "A", "provider": "P", "score": 1, "benchmarks": [1]}, "benchmarks must be a map"),
        ({"model_name": "A", "provider": "P", "score": 1, "benchmarks": {"x": "y"}}, "benchmarks.x must be a number"),
        ({"model_name": "A", "provider": "P", "score": 1, "updated_at": "yesterday"}, "updated_at must be an ISO"),
        ({"provider": "P", "score": 1}, "model_name is missing"),
    ],
)
def test_invalid_item_is_refused_with_its_key_and_reason(item: dict, reason: str) -> None:
    with pytest.raises(InvalidItem) as caught:
        to_record(item)
    assert reason in caught.value.reason
    assert caught.value.key == (item.get("model_name") if isinstance(item.get("model_name"), str) else None)


def test_published_order_is_score_descending_then_name() -> None:
    records = [to_record({"model_name": n, "provider": "P", "score": s})
               for n, s in [("b", 90), ("a", 90), ("c", 99), ("d", 10)]]
    assert [r["model_name"] for r in sorted(records, key=sort_key)] == ["c", "a", "b", "d"]


@pytest.mark.parametrize(("name", "slug"), [("Claude 3 Opus", "claude-3-opus"), ("Mistral AI", "mistral-ai"),
                                            ("xAI", "xai"), ("../../etc", "etc"), ("???", "unnamed")])
def test_slugify_is_url_safe(name: str, slug: str) -> None:
    assert slugify(name) == slug


# Each class the shared rule (publisher/core/text.py) names: C1, the bidi embeddings, overrides,
# isolates and marks, the zero-width characters and the byte-order mark.
UNSAFE = ["\x85", "\x9b", "\u202a", "\u202e", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c",
          "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u2028"]


@pytest.mark.parametrize("char", UNSAFE, ids=[f"U+{ord(c):04X}" for c in UNSAFE])
@pytest.mark.parametrize("field", ["model_name", "provider", "version"])
def test_names_with_bidi_zero_width_or_c1_characters_are_refused_naming_the_code_point(char: str,
                                                                                       field: str) -> None:
    item = {"model_name": "GPT-4", "provider": "OpenAI", "score": 95, field: f"GPT{char}-4"}
    with pytest.raises(InvalidItem) as caught:
        to_record(item)
    assert field in caught.value.reason and f"U+{ord(char):04X}" in caught.value.reason


def test_a_bidi_override_in_a_benchmark_name_is_refused() -> None:
    with pytest.raises(InvalidItem, match="U\\+202E"):
        to_record({"model_name": "A", "provider": "P", "score": 1, "benchmarks": {"mmlu\u202e": 1}})


def test_letters_and_marks_of_other_scripts_stay_valid() -> None:
    """The rule refuses invisible and reordering characters, not non-Latin names."""
    for name in ("Qwen 通义千问", "Jais عربي", "Ünïcödé", "Ελληνικά 7B", "Llama 🦙"):
        assert to_record({"model_name": name, "provider": "P", "score": 1})["model_name"] == name
