"""Identity: each model or provider name owns exactly one key, stably; loose lookups resolve only when unambiguous.

Every per-model and per-provider object and URL is named through this module (`history_key`,
`history_shard_key`, `provider_key`), so the layout can change here without touching the code that
reads or writes it.

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
from array import array
from bisect import bisect_left
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from urllib.parse import quote

from publisher.core.model import slugify

KEY_HASH_CHARS = 8
MAX_BASE = 64
HISTORY_PREFIX = "history/"
PROVIDERS_PREFIX = "providers/"
# Histories are stored in this many shard objects (history_shards.py), a name's shard chosen by the
# hash of its exact bytes: a publish touching 5,000 models reads and writes at most this many.
# Changing it needs a migration (every line moves).
HISTORY_SHARDS = 64
HISTORY_SHARD_PREFIX = "internal/history/"
JSON_SUFFIX = ".json"
# What key() can return: a slug, optionally followed by `--` and the hash.
KEY_PATTERN = f"^[a-z0-9]+(?:-[a-z0-9]+)*(?:--[0-9a-f]{{{KEY_HASH_CHARS}}})?$"


def key(name: str) -> str:
    """The name's key: unique among names, stable forever, URL- and file-system-safe (lower-case ASCII)."""
    base = slugify(name)
    if base == name and len(name) <= MAX_BASE:
        return name
    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:KEY_HASH_CHARS]
    return f"{base[:MAX_BASE].rstrip('-') or 'unnamed'}--{digest}"


def history_key(model_name: str) -> str:
    """Bucket key of a model's change history."""
    return f"{HISTORY_PREFIX}{key(model_name)}{JSON_SUFFIX}"


def history_shard_key(model_name: str) -> str:
    """Bucket key of the shard object that holds a model's history (private: served by the read API)."""
    digest = hashlib.sha256(model_name.encode("utf-8")).digest()
    return f"{HISTORY_SHARD_PREFIX}{int.from_bytes(digest[:4], 'big') % HISTORY_SHARDS:02d}.jsonl"


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

    @property
    def loose(self) -> bool:
        """Found by another case or the slug: true only until a name that is exactly the query appears."""
        return self.how in ("case", "slug")


class Directory:
    """Lookups over a fixed set of names, in order: exact name, key, case-insensitive, slug.

    The exact name and the key each identify at most one name. The case-insensitive and slug
    forms may match several; they resolve only when exactly one name matches, and otherwise
    report the candidates. Each loose form's index is built on its first use (most lookups are
    exact) and held compactly: the sorted in-process hashes of every name's form with the name's
    position (12 bytes a name), a hit confirmed by comparing the forms themselves. At 100,000
    names that is about 4 MB for all three, where dicts of strings took about 50 MB.
    """

    def __init__(self, names: Iterable[str], exact: Collection[str] | None = None) -> None:
        self._names: list[str] = names if isinstance(names, list) else sorted(names)
        # Membership of exact names: a mapping or set the caller already holds is used as it is.
        self.names: Collection[str] = exact if exact is not None else frozenset(self._names)
        self._indexes: dict[str, tuple[array, array]] = {}

    def _index(self, form: Callable[[str], str]) -> tuple[array, array]:
        index = self._indexes.get(form.__name__)
        if index is None:
            names = self._names
            hashes = array("q", (hash(form(name)) for name in names))
            order = sorted(range(len(names)), key=hashes.__getitem__)
            index = (array("q", (hashes[i] for i in order)), array("I", order))
            self._indexes[form.__name__] = index  # a racing build makes the same index
        return index

    def _matches(self, form: Callable[[str], str], value: str) -> tuple[str, ...]:
        hashes, positions = self._index(form)
        wanted = hash(value)
        found = []
        for i in range(bisect_left(hashes, wanted), len(hashes)):
            if hashes[i] != wanted:
                break
            name = self._names[positions[i]]
            if form(name) == value:
                found.append(name)
        return tuple(sorted(found))

    def resolve(self, query: str, key_first: bool = False) -> Resolution:
        """`key_first` for URLs named by key (`/history/<key>.json`): there a name spelled like another
        name's key (`twin-a--c662e6a1`, whose own key differs) never takes that name's file."""
        exact = Resolution(query, (query,), "exact") if query in self.names else None
        if exact is not None and not key_first:
            return exact
        by_key = self._matches(key, query)
        if by_key:
            return Resolution(by_key[0], by_key[:1], "key")
        if exact is not None:
            return exact
        for how, form in (("case", fold), ("slug", slugify)):
            matches = self._matches(form, form(query))
            if len(matches) == 1:
                return Resolution(matches[0], matches, how)
            if matches:
                return Resolution(None, matches, "ambiguous")
        return Resolution(None)


def collision(name: str, taken: dict[str, str]) -> str | None:
    """The other name already holding `name`'s key in `taken` (key -> name), if any."""
    holder = taken.get(key(name))
    return holder if holder is not None and holder != name else None
