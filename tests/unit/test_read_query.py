"""Query-string validation of the read API: every parameter, every rule, and the 400 that names it."""

from __future__ import annotations

import pytest

from publisher.read.errors import BadRequest
from publisher.read.query import (
    DEFAULT_LIMIT,
    MAX_CURSOR_LEN,
    MAX_PROVIDERS,
    MAX_QUERY_STRING,
    ListQuery,
    min_version,
    parse_list_query,
    parse_pairs,
    reject_parameters,
)


def rejected(raw: str) -> BadRequest:
    with pytest.raises(BadRequest) as caught:
        parse_list_query(raw)
    return caught.value


def test_empty_query_is_the_default_page_in_published_order() -> None:
    assert parse_list_query("") == ListQuery(limit=DEFAULT_LIMIT)


def test_provider_is_repeatable_exact_and_deduplicated() -> None:
    # Resolving names (exact, or one case-insensitive match) is the catalogue's job, not the parser's.
    query = parse_list_query("provider=OpenAI&provider=anthropic&provider=openai&provider=OpenAI")
    assert query.providers == ("OpenAI", "anthropic", "openai")


def test_provider_keeps_commas_inside_a_value() -> None:
    # API Gateway's joined dict would read this as two providers; the raw query string does not.
    assert parse_list_query("provider=Acme%2C%20Inc").providers == ("Acme, Inc",)


def test_plus_and_percent_encoding_decode_like_a_form() -> None:
    assert parse_list_query("q=Claude+3%20Opus").q == "claude 3 opus"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("min_score=90", 90.0),
        ("min_score=0", 0.0),
        ("min_score=100", 100.0),
        ("min_score=89.5", 89.5),
        ("min_score=.5", 0.5),
        ("min_score=9e1", 90.0),
    ],
)
def test_min_score_accepts_decimal_numbers(raw: str, expected: float) -> None:
    assert parse_list_query(raw).min_score == expected


@pytest.mark.parametrize(
    "value",
    ["abc", "", "nan", "NaN", "inf", "-inf", "Infinity", "1_0", " 5", "5 ", "0x10", "1e999", "9" * 40],
)
def test_min_score_rejects_what_is_not_a_plain_finite_number(value: str) -> None:
    error = rejected(f"min_score={value}")
    assert error.parameter == "min_score"
    assert error.code in {"invalid_number", "out_of_range"}


@pytest.mark.parametrize("parameter", ["min_score", "max_score"])
@pytest.mark.parametrize("value", ["-0.1", "100.01", "1e3"])
def test_scores_outside_0_to_100_are_out_of_range(parameter: str, value: str) -> None:
    error = rejected(f"{parameter}={value}")
    assert (error.parameter, error.code) == (parameter, "out_of_range")
    assert "between 0 and 100" in error.message


def test_max_score_below_min_score_is_valid_and_simply_matches_nothing() -> None:
    query = parse_list_query("min_score=90&max_score=80")
    assert (query.min_score, query.max_score) == (90.0, 80.0)


@pytest.mark.parametrize("value", ["abc", "1.5", "-1", "1e3", "", "99999999999999"])
def test_min_context_must_be_a_whole_number_in_range(value: str) -> None:
    assert rejected(f"min_context={value}").parameter == "min_context"


@pytest.mark.parametrize("value, expected", [("1", 1), ("500", 500), ("050", 50)])
def test_limit_accepts_1_to_500(value: str, expected: int) -> None:
    assert parse_list_query(f"limit={value}").limit == expected


@pytest.mark.parametrize("value", ["0", "501", "-1", "abc", "", "10.0"])
def test_limit_outside_1_to_500_is_rejected(value: str) -> None:
    error = rejected(f"limit={value}")
    assert error.parameter == "limit"


@pytest.mark.parametrize(
    "value",
    [
        "score",
        "-score",
        "model_name",
        "-model_name",
        "context_window",
        "-context_window",
        "release_date",
        "-release_date",
    ],
)
def test_every_sort_field_in_both_directions(value: str) -> None:
    assert parse_list_query(f"sort={value}").sort == value


@pytest.mark.parametrize("value", ["name", "--score", "+score", "SCORE", "", "provider"])
def test_unknown_sort_field_is_rejected_naming_sort(value: str) -> None:
    error = rejected(f"sort={value}")
    assert (error.parameter, error.code) == ("sort", "invalid_sort")
    assert "score" in error.message


def test_unknown_parameter_is_rejected_by_name() -> None:
    error = rejected("min_scor=90")
    assert (error.parameter, error.code) == ("min_scor", "unknown_parameter")


@pytest.mark.parametrize(
    "parameter", ["q", "min_score", "max_score", "min_context", "sort", "limit", "cursor"]
)
def test_single_valued_parameters_may_not_repeat(parameter: str) -> None:
    value = {"sort": "score", "cursor": "abc"}.get(parameter, "1")
    error = rejected(f"{parameter}={value}&{parameter}={value}")
    assert (error.parameter, error.code) == (parameter, "repeated_parameter")


@pytest.mark.parametrize(
    "raw, parameter",
    [("q=a%00b", "q"), ("provider=Open%0AAI", "provider"), ("q=%7F", "q"), ("q=%C2%85", "q")],
)
def test_control_characters_are_rejected(raw: str, parameter: str) -> None:
    error = rejected(raw)
    assert (error.parameter, error.code) == (parameter, "control_characters")


def test_invalid_utf8_is_rejected_naming_the_parameter() -> None:
    error = rejected("q=%FF%FE")
    assert (error.parameter, error.code) == ("q", "invalid_encoding")


def test_oversize_values_are_rejected() -> None:
    assert rejected("q=" + "a" * 129).parameter == "q"
    assert rejected("provider=" + "a" * 129).parameter == "provider"
    assert rejected("cursor=" + "a" * (MAX_CURSOR_LEN + 1)).parameter == "cursor"
    assert rejected("q=" + "a" * MAX_QUERY_STRING).parameter == "query"


def test_empty_provider_is_rejected_but_empty_q_means_no_filter() -> None:
    assert rejected("provider=").parameter == "provider"
    assert parse_list_query("q=").q == ""


def test_too_many_providers_are_rejected() -> None:
    raw = "&".join(f"provider=p{i}" for i in range(MAX_PROVIDERS + 1))
    assert rejected(raw).code == "too_many_values"


def test_the_provider_limit_counts_values_as_given_like_the_openapi_max_items() -> None:
    # Found by schemathesis: 21 values, most of them repeats, were accepted against maxItems 20.
    assert rejected("&".join(["provider=0"] * (MAX_PROVIDERS + 1))).code == "too_many_values"
    assert parse_list_query("&".join(["provider=0"] * MAX_PROVIDERS)).providers == ("0",)


def test_parameter_names_with_control_characters_are_rejected() -> None:
    assert rejected("q%00=1").parameter == "query"


def test_empty_pieces_are_ignored() -> None:
    assert parse_pairs("&&q=a&") == [("q", "a")]


def test_routes_without_parameters_refuse_any_but_min_version() -> None:
    assert reject_parameters("") is None
    assert reject_parameters("min_version=42") == 42
    with pytest.raises(BadRequest) as caught:
        reject_parameters("verbose=1")
    assert caught.value.parameter == "verbose"


@pytest.mark.parametrize("raw", ["min_version=-1", "min_version=x", "min_version=1&min_version=2",
                                 "min_version=1234567890123", "min_version="])
def test_min_version_is_one_whole_number(raw: str) -> None:
    with pytest.raises(BadRequest) as caught:
        min_version(raw)
    assert caught.value.parameter == "min_version"


def test_min_version_is_a_list_parameter_outside_the_cursor_fingerprint() -> None:
    assert min_version("provider=Meta&min_version=7") == 7
    assert parse_list_query("provider=Meta&min_version=7") == parse_list_query("provider=Meta")


def test_fingerprint_ignores_page_size_and_cursor_but_not_filters() -> None:
    a = parse_list_query("provider=OpenAI&limit=5")
    b = parse_list_query("provider=OpenAI&limit=50&cursor=xyz")
    c = parse_list_query("provider=Meta&limit=5")
    assert a.fingerprint_source() == b.fingerprint_source() != c.fingerprint_source()
