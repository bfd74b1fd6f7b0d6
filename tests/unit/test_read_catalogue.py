"""The indexed catalogue: every filter, every sort, cursors, and lookups, on plain records."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from publisher.core.documents import catalogue_document, dumps
from publisher.core.identity import Directory, key
from publisher.core.model import sorted_records
from publisher.read.catalogue import SOURCE_S3, Catalogue
from publisher.read.cursor import StaleCursor
from publisher.read.errors import BadRequest
from publisher.read.query import SORT_VALUES, parse_list_query

MODELS: list[dict[str, Any]] = [
    {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000, "score": 95.5},
    {
        "model_name": "Claude 3 Opus",
        "provider": "Anthropic",
        "context_window": 200000,
        "score": 96.0,
        "release_date": "2024-03-04",
    },
    {"model_name": "Llama 3 70B", "provider": "Meta", "context_window": 8192, "score": 89.5},
    {
        "model_name": "Gemini 1.5 Pro",
        "provider": "Google",
        "context_window": 1000000,
        "score": 94.8,
        "release_date": "2024-02-15",
    },
    {
        "model_name": "GPT-4o",
        "provider": "OpenAI",
        "version": "2024-08-06",
        "context_window": 128000,
        "score": 95.9,
        "release_date": "2024-05-13",
    },
    {"model_name": "Mistral Large", "provider": "Mistral", "score": 89.5, "version": "opus-like"},
    {"model_name": "gpt-4-mini", "provider": "openai", "context_window": 16000, "score": 80.0},
]


def catalogue(models: list[dict[str, Any]] | None = None, version: int = 3) -> Catalogue:
    return Catalogue.from_records(
        version, "2026-01-01T00:00:00Z", list(MODELS if models is None else models), SOURCE_S3
    )


def names(cat: Catalogue, raw: str) -> list[str]:
    page = cat.search(parse_list_query(raw))
    return [cat.models[i]["model_name"] for i in page.positions]


def test_default_order_is_the_published_order() -> None:
    cat = catalogue()
    assert names(cat, "") == [m["model_name"] for m in sorted_records(MODELS)]
    assert names(cat, "") == names(cat, "sort=-score")


def test_provider_filter_takes_the_exact_name_and_keeps_distinct_names_apart() -> None:
    # `OpenAI` and `openai` are two providers: neither filter shows the other's models.
    assert names(catalogue(), "provider=OpenAI") == ["GPT-4o", "GPT-4"]
    assert names(catalogue(), "provider=openai") == ["gpt-4-mini"]


def test_provider_filter_is_case_insensitive_only_when_one_provider_matches() -> None:
    assert names(catalogue(), "provider=META") == ["Llama 3 70B"]
    assert names(catalogue(), f"provider={key('Meta')}") == ["Llama 3 70B"]
    with pytest.raises(BadRequest) as caught:
        catalogue().search(parse_list_query("provider=OPENAI"))
    assert (caught.value.parameter, caught.value.code) == ("provider", "ambiguous_provider")
    assert "'OpenAI'" in caught.value.message and "'openai'" in caught.value.message


def test_repeated_providers_are_a_union_in_published_order() -> None:
    assert names(catalogue(), "provider=meta&provider=Anthropic") == ["Claude 3 Opus", "Llama 3 70B"]


def test_unknown_provider_matches_nothing() -> None:
    page = catalogue().search(parse_list_query("provider=Nobody"))
    assert (page.positions, page.total, page.next_cursor) == ([], 0, None)


def test_q_matches_a_substring_of_name_or_version_case_insensitively() -> None:
    cat = catalogue()
    assert names(cat, "q=gpt-4") == ["GPT-4o", "GPT-4", "gpt-4-mini"]
    assert names(cat, "q=2024-08") == ["GPT-4o"]
    assert names(cat, "q=OPUS") == ["Claude 3 Opus", "Mistral Large"]


def test_q_does_not_match_across_name_and_version() -> None:
    assert names(catalogue(), "q=4o2024") == []


def test_score_bounds_are_inclusive() -> None:
    cat = catalogue()
    assert names(cat, "min_score=95.9") == ["Claude 3 Opus", "GPT-4o"]
    assert names(cat, "max_score=89.5") == ["Llama 3 70B", "Mistral Large", "gpt-4-mini"]
    assert names(cat, "min_score=89.5&max_score=94.8") == ["Gemini 1.5 Pro", "Llama 3 70B", "Mistral Large"]
    assert names(cat, "min_score=95&max_score=90") == []


def test_min_context_excludes_models_without_a_context_window() -> None:
    cat = catalogue()
    assert names(cat, "min_context=200000") == ["Claude 3 Opus", "Gemini 1.5 Pro"]
    assert "Mistral Large" in names(cat, "min_context=0")
    assert "Mistral Large" not in names(cat, "min_context=1")


def test_filters_combine() -> None:
    assert names(catalogue(), "provider=OpenAI&min_score=90&min_context=128000&q=gpt") == ["GPT-4o", "GPT-4"]


def test_sort_by_name_both_directions() -> None:
    cat = catalogue()
    ascending = names(cat, "sort=model_name")
    assert ascending == sorted(m["model_name"] for m in MODELS)
    assert names(cat, "sort=-model_name") == ascending[::-1]


def test_sort_by_score_ascending_breaks_ties_by_name() -> None:
    assert names(catalogue(), "sort=score")[:3] == ["gpt-4-mini", "Llama 3 70B", "Mistral Large"]


def test_sort_by_context_window_puts_missing_values_last_both_ways() -> None:
    cat = catalogue()
    assert names(cat, "sort=context_window") == [
        "Llama 3 70B",
        "gpt-4-mini",
        "GPT-4",
        "GPT-4o",
        "Claude 3 Opus",
        "Gemini 1.5 Pro",
        "Mistral Large",
    ]
    assert names(cat, "sort=-context_window") == [
        "Gemini 1.5 Pro",
        "Claude 3 Opus",
        "GPT-4",
        "GPT-4o",
        "gpt-4-mini",
        "Llama 3 70B",
        "Mistral Large",
    ]


def test_sort_by_release_date_puts_undated_models_last_by_name() -> None:
    cat = catalogue()
    assert names(cat, "sort=release_date")[:3] == ["Gemini 1.5 Pro", "Claude 3 Opus", "GPT-4o"]
    assert names(cat, "sort=-release_date")[:3] == ["GPT-4o", "Claude 3 Opus", "Gemini 1.5 Pro"]
    assert names(cat, "sort=-release_date")[3:] == ["GPT-4", "Llama 3 70B", "Mistral Large", "gpt-4-mini"]


def test_sort_applies_after_a_provider_filter() -> None:
    assert names(catalogue(), "provider=OpenAI&provider=openai&sort=model_name") == ["GPT-4", "GPT-4o", "gpt-4-mini"]


def test_pages_follow_the_cursor_to_the_end() -> None:
    cat = catalogue()
    seen: list[str] = []
    raw = "limit=3&sort=model_name"
    while True:
        page = cat.search(parse_list_query(raw))
        assert page.total == len(MODELS)
        seen += [cat.models[i]["model_name"] for i in page.positions]
        if page.next_cursor is None:
            break
        raw = f"limit=3&sort=model_name&cursor={page.next_cursor}"
    assert seen == sorted(m["model_name"] for m in MODELS)


def test_page_size_may_change_between_pages() -> None:
    cat = catalogue()
    first = cat.search(parse_list_query("limit=2"))
    second = cat.search(parse_list_query(f"limit=10&cursor={first.next_cursor}"))
    assert len(second.positions) == len(MODELS) - 2 and second.next_cursor is None


def _cursor(payload: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!",
        "abc",
        _cursor([1, 2]),
        _cursor({"o": 1}),
        _cursor({"o": -1, "v": 3, "f": "x"}),
        _cursor({"o": "1", "v": 3, "f": "x"}),
        _cursor({"o": True, "v": 3, "f": "x"}),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_malformed_cursor_is_a_400_naming_cursor(cursor: str) -> None:
    with pytest.raises(BadRequest) as caught:
        catalogue().search(parse_list_query(f"cursor={cursor}"))
    assert (caught.value.parameter, caught.value.code) == ("cursor", "invalid_cursor")


def test_cursor_for_other_filters_is_rejected() -> None:
    cat = catalogue()
    page = cat.search(parse_list_query("provider=OpenAI&limit=1"))
    with pytest.raises(BadRequest) as caught:
        cat.search(parse_list_query(f"provider=meta&limit=1&cursor={page.next_cursor}"))
    assert (caught.value.parameter, caught.value.code) == ("cursor", "cursor_mismatch")


def test_cursor_from_an_older_snapshot_is_expired() -> None:
    page = catalogue(version=3).search(parse_list_query("limit=1"))
    with pytest.raises(BadRequest) as caught:
        catalogue(version=4).search(parse_list_query(f"limit=1&cursor={page.next_cursor}"))
    assert (caught.value.parameter, caught.value.code) == ("cursor", "cursor_expired")


def test_cursor_from_a_newer_snapshot_asks_for_a_revalidation() -> None:
    page = catalogue(version=5).search(parse_list_query("limit=1"))
    with pytest.raises(StaleCursor) as caught:
        catalogue(version=4).search(parse_list_query(f"limit=1&cursor={page.next_cursor}"))
    assert caught.value.version == 5


def test_cursor_is_rejected_when_the_data_changed_under_the_same_version() -> None:
    page = catalogue().search(parse_list_query("limit=1"))
    changed = catalogue([*MODELS, {"model_name": "New", "provider": "X", "score": 50.0}])
    with pytest.raises(BadRequest):
        changed.search(parse_list_query(f"limit=1&cursor={page.next_cursor}"))


def test_lookup_exact_then_key_then_unique_case_insensitive_or_slug() -> None:
    cat = catalogue()
    assert (cat.lookup("GPT-4").name, cat.lookup("GPT-4").how) == ("GPT-4", "exact")
    assert (cat.lookup(key("GPT-4")).name, cat.lookup(key("GPT-4")).how) == ("GPT-4", "key")
    assert (cat.lookup("claude 3 opus").name, cat.lookup("claude 3 opus").how) == ("Claude 3 Opus", "case")
    assert (cat.lookup("claude-3-opus").name, cat.lookup("claude-3-opus").how) == ("Claude 3 Opus", "slug")
    assert cat.lookup("nope").name is None and not cat.lookup("nope").ambiguous


def test_loose_lookups_refuse_ambiguity_and_name_the_candidates() -> None:
    cat = catalogue([{"model_name": n, "provider": "x", "score": 1.0} for n in ("abc", "ABC", "a.b.c", "Ä b c")])
    assert cat.lookup("abc").name == "abc" and cat.lookup("ABC").name == "ABC"
    assert cat.lookup("Abc").ambiguous and cat.lookup("Abc").candidates == ("ABC", "abc")
    # Slug "a-b-c": `a.b.c` alone (`Ä b c` slugs to "b-c").
    assert cat.lookup("a-b-c").name == "a.b.c"
    assert cat.lookup("ä B C").name == "Ä b c"


@pytest.mark.parametrize("names_", [
    ("Twin A", "twin-a", "TWIN_A"),
    ("Straße", "STRASSE", "strasse"),
    ("Modèle", "Mode\u0300le", "modele"),
    ("GPT 4", "gpt-4", "GPT_4", "gpt.4", "Gpt-4"),
])
def test_every_exact_name_and_key_finds_its_own_model(names_: tuple[str, ...]) -> None:
    cat = catalogue([{"model_name": n, "provider": "x", "score": float(i)} for i, n in enumerate(names_)])
    assert len({key(n) for n in names_}) == len(names_)
    for name in names_:
        assert cat.lookup(name).name == name
        assert cat.lookup(key(name)).name == name


def test_documents_are_the_bytes_the_publisher_writes() -> None:
    cat = catalogue()
    models = sorted_records(MODELS)
    assert cat.document_bytes() == dumps(catalogue_document(3, "2026-01-01T00:00:00Z", models))
    assert cat.array_bytes() == dumps(models)


def test_from_document_keeps_the_s3_bytes_and_refuses_non_snapshots() -> None:
    body = dumps(catalogue_document(9, "2026-01-01T00:00:00Z", sorted_records(MODELS)))
    cat = Catalogue.from_document(body, SOURCE_S3, '"etag"')
    assert (cat.version, cat.count, cat.document_bytes()) == (9, len(MODELS), body)
    for bad in (
        b"[]",
        b'{"models": {}}',
        b'{"version": "1", "models": []}',
        b'{"version": 1, "models": [{"model_name": "x"}]}',
    ):
        with pytest.raises(ValueError):
            Catalogue.from_document(bad, SOURCE_S3)


def test_providers_summary_counts_and_best_scores_per_exact_name() -> None:
    summary = {p["name"]: p for p in catalogue().providers()}
    assert (summary["OpenAI"]["count"], summary["OpenAI"]["best_score"]) == (2, 95.9)
    assert (summary["openai"]["count"], summary["openai"]["best_score"]) == (1, 80.0)
    assert (summary["OpenAI"]["slug"], summary["openai"]["slug"]) == (key("OpenAI"), "openai")


record_strategy = st.fixed_dictionaries(
    {
        "model_name": st.text(alphabet="abcXYZ 12-", min_size=1, max_size=8),
        "provider": st.sampled_from(["OpenAI", "openai", "Meta", "Google"]),
        "score": st.sampled_from([0.0, 50.0, 89.5, 90.0, 95.5, 100.0]),
    },
    optional={
        "context_window": st.sampled_from([1, 8192, 128000, 1000000]),
        "release_date": st.sampled_from(["2023-01-01", "2024-06-30", "2025-12-31"]),
        "version": st.sampled_from(["v1", "2024-08-06", "preview"]),
    },
)


@settings(max_examples=150, deadline=None)
@given(
    records=st.lists(record_strategy, max_size=40, unique_by=lambda r: r["model_name"]),
    sort=st.sampled_from([None, *SORT_VALUES]),
    limit=st.integers(1, 7),
    provider=st.sampled_from([None, "openai", "META"]),
    min_score=st.sampled_from([None, 0, 90, 95.5]),
    min_context=st.sampled_from([None, 1, 128000]),
)
def test_pages_concatenate_to_the_full_filtered_sorted_list(
    records: list[dict[str, Any]],
    sort: str | None,
    limit: int,
    provider: str | None,
    min_score: float | None,
    min_context: int | None,
) -> None:
    cat = catalogue(records)
    params = [f"limit={limit}"]
    if sort:
        params.append(f"sort={sort}")
    if provider:
        params.append(f"provider={provider}")
    if min_score is not None:
        params.append(f"min_score={min_score}")
    if min_context is not None:
        params.append(f"min_context={min_context}")
    base = "&".join(params)

    resolution = Directory({r["provider"] for r in records}).resolve(provider) if provider else None
    if resolution is not None and resolution.ambiguous:
        with pytest.raises(BadRequest):
            cat.search(parse_list_query(base))
        return
    expected = [
        r
        for r in records
        if (resolution is None or r["provider"] == resolution.name)
        and (min_score is None or r["score"] >= min_score)
        and (min_context is None or r.get("context_window", 0) >= min_context)
    ]
    if sort is None:
        expected = sorted_records(expected)
    else:
        field, descending = sort.lstrip("-"), sort.startswith("-")
        present = sorted((r for r in expected if r.get(field) is not None), key=lambda r: r["model_name"])
        present.sort(key=lambda r: r[field], reverse=descending)
        absent = sorted((r for r in expected if r.get(field) is None), key=lambda r: r["model_name"])
        expected = present + absent

    seen: list[str] = []
    raw = base
    for _ in range(len(records) + 2):
        page = cat.search(parse_list_query(raw))
        assert page.total == len(expected)
        assert len(page.positions) <= limit
        seen += [cat.models[i]["model_name"] for i in page.positions]
        if page.next_cursor is None:
            break
        raw = f"{base}&cursor={page.next_cursor}"
    assert seen == [r["model_name"] for r in expected]


def test_response_cache_is_bounded_by_bytes_not_entries() -> None:
    from publisher.read import catalogue as module

    cat = catalogue()
    body = b"x" * (1024 * 1024)
    for i in range(40):  # 40 MiB offered to a 16 MiB cache
        cat.cached(("list", str(i)), lambda: body)
    assert cat.cached_bytes <= module.RESPONSE_CACHE_BYTES
    assert cat.cached_bytes >= module.RESPONSE_CACHE_BYTES - len(body) - module.ENTRY_OVERHEAD_BYTES
    # The most recent entries stayed, the oldest went.
    calls: list[int] = []
    cat.cached(("list", "39"), lambda: calls.append(1) or body)
    cat.cached(("list", "0"), lambda: calls.append(1) or body)
    assert calls == [1]


def test_a_value_larger_than_the_budget_is_answered_but_not_kept() -> None:
    from publisher.read import catalogue as module

    cat = catalogue()
    small = cat.cached(("model", "1"), lambda: b"{}")
    huge = b"y" * (module.RESPONSE_CACHE_BYTES + 1)
    assert cat.cached(("list", "huge"), lambda: huge) is huge
    assert cat.cached_bytes == len(small) + module.ENTRY_OVERHEAD_BYTES
    assert cat.cached(("model", "1"), lambda: b"rebuilt") == b"{}"


def test_many_small_entries_are_bounded_by_their_overhead() -> None:
    from publisher.read import catalogue as module

    cat = catalogue()
    for i in range(module.RESPONSE_CACHE_BYTES // module.ENTRY_OVERHEAD_BYTES + 100):
        cat.cached(("model", str(i)), lambda: b"")
    assert cat.cached_bytes <= module.RESPONSE_CACHE_BYTES
