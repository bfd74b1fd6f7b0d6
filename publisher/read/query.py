"""Query strings of the read API parsed and validated into plain values, or a 400 naming the parameter."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from urllib.parse import unquote, unquote_plus

from publisher.core import text
from publisher.core.model import MAX_CONTEXT_WINDOW, MAX_NAME_LEN, MAX_PROVIDER_LEN
from publisher.read.errors import BadRequest

MAX_QUERY_STRING = 4096
MAX_PROVIDERS = 20
MAX_Q_LEN = 128
MAX_NUMBER_LEN = 32
MAX_CURSOR_LEN = 512
MIN_LIMIT = 1
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
SORT_FIELDS = ("score", "model_name", "context_window", "release_date")
SORT_VALUES = tuple(v for field in SORT_FIELDS for v in (field, f"-{field}"))
# Every snapshot-backed route takes min_version: "answer from this snapshot version or a newer one".
MIN_VERSION = "min_version"
MAX_VERSION = 999_999_999_999  # the integer parser takes at most 12 digits
LIST_PARAMETERS = ("provider", "q", "min_score", "max_score", "min_context", "sort", "limit", "cursor", MIN_VERSION,
                   "as_of")
REPEATABLE = frozenset({"provider"})

# Plain decimal notation only: float() would also take "nan", "inf", "1_0" and surrounding spaces.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?")
_INTEGER = re.compile(r"\d{1,12}")


@dataclass(frozen=True)
class ListQuery:
    providers: tuple[str, ...] = ()  # as given (resolved by the identity rules), de-duplicated, sorted
    q: str = ""  # lower-cased; empty means no text filter
    min_score: float | None = None
    max_score: float | None = None
    min_context: int | None = None
    sort: str | None = None  # None: the published order (score descending, then model_name)
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    def fingerprint_source(self) -> str:
        """What a cursor is bound to: every filter and the sort, but not the page size."""
        return "|".join([
            ",".join(self.providers), self.q, repr(self.min_score), repr(self.max_score),
            repr(self.min_context), self.sort or "",
        ])


def check_text(value: str, parameter: str) -> None:
    """Ingest's rule (publisher/core/text.py): a name ingest refuses is a 400 here, never a silent miss."""
    refused = text.reason(parameter, value)
    if refused:
        raise BadRequest("control_characters", refused, parameter)


def parse_pairs(raw_query: str) -> list[tuple[str, str]]:
    """Decode a raw query string keeping repeated keys (the event's joined dict loses commas' meaning)."""
    if len(raw_query) > MAX_QUERY_STRING:
        raise BadRequest("query_too_long", f"the query string must be at most {MAX_QUERY_STRING} characters",
                         "query")
    pairs: list[tuple[str, str]] = []
    for piece in raw_query.split("&"):
        if not piece:
            continue
        raw_key, _, raw_value = piece.partition("=")
        try:
            key = unquote_plus(raw_key, errors="strict")
        except UnicodeDecodeError:
            raise BadRequest("invalid_encoding", "a parameter name is not valid UTF-8", "query") from None
        if text.forbidden_character(key) or len(key) > 64:
            raise BadRequest("invalid_parameter_name",
                             f"parameter names must be at most 64 characters without {text.RULE}",
                             "query")
        try:
            value = unquote_plus(raw_value, errors="strict")
        except UnicodeDecodeError:
            raise BadRequest("invalid_encoding", f"{key} is not valid UTF-8 after percent-decoding",
                             key) from None
        pairs.append((key, value))
    return pairs


def _number(value: str, parameter: str, lo: float, hi: float) -> float:
    if len(value) > MAX_NUMBER_LEN or not _NUMBER.fullmatch(value):
        raise BadRequest("invalid_number", f"{parameter} must be a decimal number between {lo:g} and {hi:g}",
                         parameter)
    number = float(value)
    if not math.isfinite(number) or not lo <= number <= hi:
        raise BadRequest("out_of_range", f"{parameter} must be between {lo:g} and {hi:g}", parameter)
    return number


def _integer(value: str, parameter: str, lo: int, hi: int) -> int:
    if not _INTEGER.fullmatch(value):
        raise BadRequest("invalid_integer", f"{parameter} must be a whole number between {lo} and {hi}",
                         parameter)
    number = int(value)
    if not lo <= number <= hi:
        raise BadRequest("out_of_range", f"{parameter} must be between {lo} and {hi}", parameter)
    return number


def parse_list_query(raw_query: str) -> ListQuery:
    """Validate the query string of `GET /api/llms`. Unknown and repeated single-valued names are 400s."""
    values: dict[str, list[str]] = {}
    for key, value in parse_pairs(raw_query):
        if key not in LIST_PARAMETERS:
            raise BadRequest("unknown_parameter",
                             f"unknown parameter {key!r}; accepted: {', '.join(LIST_PARAMETERS)}", key)
        if key in values and key not in REPEATABLE:
            raise BadRequest("repeated_parameter", f"{key} may be given at most once", key)
        check_text(value, key)
        values.setdefault(key, []).append(value)

    # Counted as given, before duplicates go: the OpenAPI document's maxItems, and what the message says.
    if len(values.get("provider", [])) > MAX_PROVIDERS:
        raise BadRequest("too_many_values", f"provider may be given at most {MAX_PROVIDERS} times",
                         "provider")
    providers: set[str] = set()
    for value in values.get("provider", []):
        if not 1 <= len(value) <= MAX_PROVIDER_LEN:
            raise BadRequest("invalid_length", f"provider must be 1..{MAX_PROVIDER_LEN} characters",
                             "provider")
        providers.add(value)

    q = values.get("q", [""])[0]
    if len(q) > MAX_Q_LEN:
        raise BadRequest("invalid_length", f"q must be at most {MAX_Q_LEN} characters", "q")

    min_score = _number(values["min_score"][0], "min_score", 0, 100) if "min_score" in values else None
    max_score = _number(values["max_score"][0], "max_score", 0, 100) if "max_score" in values else None
    min_context = (_integer(values["min_context"][0], "min_context", 0, MAX_CONTEXT_WINDOW)
                   if "min_context" in values else None)

    sort = values["sort"][0] if "sort" in values else None
    if sort is not None and sort not in SORT_VALUES:
        raise BadRequest("invalid_sort",
                         f"sort must be one of {', '.join(SORT_VALUES)} ('-' means descending)", "sort")

    limit = DEFAULT_LIMIT
    if "limit" in values:
        limit = _integer(values["limit"][0], "limit", MIN_LIMIT, MAX_LIMIT)

    cursor = values["cursor"][0] if "cursor" in values else None
    if cursor is not None and not 1 <= len(cursor) <= MAX_CURSOR_LEN:
        raise BadRequest("invalid_cursor",
                         f"cursor must be 1..{MAX_CURSOR_LEN} characters, as returned in next", "cursor")

    return ListQuery(
        providers=tuple(sorted(providers)),
        q=q.lower(),
        min_score=min_score,
        max_score=max_score,
        min_context=min_context,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def min_version(raw_query: str) -> int | None:
    """The min_version parameter of any route (validated again here: the list parser ignores it)."""
    found = [value for key, value in parse_pairs(raw_query) if key == MIN_VERSION]
    if len(found) > 1:
        raise BadRequest("repeated_parameter", f"{MIN_VERSION} may be given at most once", MIN_VERSION)
    return _integer(found[0], MIN_VERSION, 0, MAX_VERSION) if found else None


def reject_parameters(raw_query: str) -> int | None:
    """Routes that take only min_version refuse anything else, so typos are not silently ignored."""
    for key, _value in parse_pairs(raw_query):
        if key != MIN_VERSION:
            raise BadRequest("unknown_parameter",
                             f"unknown parameter {key!r}; this route takes only {MIN_VERSION}", key)
    return min_version(raw_query)


def decode_name(raw: str, parameter: str = "model_name") -> str:
    """A decoded path segment naming a model or provider, or a 400 for anything that could escape it."""
    try:
        name = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("invalid_model_name", f"{parameter} is not valid UTF-8 after percent-decoding",
                         parameter) from None
    if not 1 <= len(name) <= MAX_NAME_LEN:
        raise BadRequest("invalid_model_name", f"{parameter} must be 1..{MAX_NAME_LEN} characters", parameter)
    check_text(name, parameter)
    if "/" in name or "\\" in name or ".." in name or name == ".":
        raise BadRequest("invalid_model_name", f"{parameter} must not contain '/', '\\' or '..'", parameter)
    return name
