"""Identity: each model or provider name owns exactly one key, stably; loose lookups resolve only when unambiguous.

Every per-model and per-provider object and URL is named through this module (`history_key`,
`provider_key`), so the layout can change here without touching the code that reads or writes it.

A name's key is a pure function of the exact name, so the publisher, the read API, a DynamoDB
fallback and a consumer all compute the same one with no shared state, and it never changes:

- a name that is already a slug (lower-case ASCII letters and digits joined by single hyphens,
  at most MAX_BASE characters) is its own key: `gpt-4` -> `gpt-4`;
- any other name is its slug, a double hyphen and the first KEY_HASH_CHARS hex digits of the
  SHA-256 of its UTF-8 bytes: `GPT-4` -> `gpt-4--a1b2c3d4`, `Twin A` -> `twin-a--...`.

A slug never contains `--`, so the two forms cannot meet. Two different names of the second form
share a key only if they share a slug and a 32-bit hash prefix; the publisher refuses the second
such name (`collision`), so no two published names ever share a key.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from publisher.model import slugify

KEY_HASH_CHARS = 8
MAX_BASE = 64
HISTORY_PREFIX = "history/"
PROVIDERS_PREFIX = "providers/"
JSON_SUFFIX = ".json"
# What key() can return: a slug, optionally followed by `--` and the hash.
KEY_PATTERN = f"^[a-z0-9]+(?:-[a-z0-9]+)*(?:--[0-9a-f]{{{KEY_HASH_CHARS}}})?$"
_KEY = re.compile(KEY_PATTERN)


def key(name: str) -> str:
    """The name's key: unique among names, stable forever, URL- and file-system-safe (lower-case ASCII)."""
    base = slugify(name)
    if base == name and len(name) <= MAX_BASE:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:KEY_HASH_CHARS]
    return f"{base[:MAX_BASE].rstrip('-') or 'unnamed'}--{digest}"


def is_key(segment: str) -> bool:
    return bool(_KEY.match(segment))


def history_key(model_name: str) -> str:
    """Bucket key of a model's change history."""
    return f"{HISTORY_PREFIX}{key(model_name)}{JSON_SUFFIX}"


def provider_key(provider: str) -> str:
    """Bucket key of a provider's document."""
    return f"{PROVIDERS_PREFIX}{key(provider)}{JSON_SUFFIX}"


def model_path(model_name: str) -> str:
    """The read API's URL path of one model (percent-encoded exact name)."""
    return f"/api/llms/{quote(model_name, safe='')}"


def fold(name: str) -> str:
    """Case-insensitive form for loose lookups (Unicode case folding: `Straße` ~ `STRASSE`)."""
    return name.casefold()


@dataclass(frozen=True)
class Resolution:
    """The outcome of a lookup: one name, several (ambiguous), or none."""

    name: str | None
    candidates: tuple[str, ...] = ()
    how: str = "none"  # exact | key | case | slug | ambiguous | none

    @property
    def ambiguous(self) -> bool:
        return self.how == "ambiguous"


class Directory:
    """Lookups over a fixed set of names, in order: exact name, key, case-insensitive, slug.

    The exact name and the key each identify at most one name. The case-insensitive and slug
    forms may match several; they resolve only when exactly one name matches, and otherwise
    report the candidates. The loose indexes are built on first use: most lookups are exact.
    """

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(names)
        self._by_key: dict[str, str] | None = None
        self._by_fold: dict[str, list[str]] = {}
        self._by_slug: dict[str, list[str]] = {}

    def _index(self) -> dict[str, str]:
        if self._by_key is None:
            by_key: dict[str, str] = {}
            by_fold: dict[str, list[str]] = {}
            by_slug: dict[str, list[str]] = {}
            for name in sorted(self.names):
                by_key.setdefault(key(name), name)
                by_fold.setdefault(fold(name), []).append(name)
                by_slug.setdefault(slugify(name), []).append(name)
            self._by_fold, self._by_slug = by_fold, by_slug
            self._by_key = by_key
        return self._by_key

    def resolve(self, query: str) -> Resolution:
        if query in self.names:
            return Resolution(query, (query,), "exact")
        by_key = self._index()
        if query in by_key:
            return Resolution(by_key[query], (by_key[query],), "key")
        for how, matches in (("case", self._by_fold.get(fold(query), [])),
                             ("slug", self._by_slug.get(slugify(query), []))):
            if len(matches) == 1:
                return Resolution(matches[0], tuple(matches), how)
            if matches:
                return Resolution(None, tuple(matches), "ambiguous")
        return Resolution(None)


def collision(name: str, taken: dict[str, str]) -> str | None:
    """The other name already holding `name`'s key in `taken` (key -> name), if any."""
    holder = taken.get(key(name))
    return holder if holder is not None and holder != name else None
