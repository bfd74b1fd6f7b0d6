"""The change feed: events derived from each publish, as changes.json, changes.xml (Atom) and history."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote
from xml.sax.saxutils import escape, quoteattr

from publisher.core import history_shards, identity, schemas
from publisher.core.config import JSON_CACHE_CONTROL
from publisher.core.documents import SCHEMA_VERSION, SiteObject, json_object
from publisher.core.events import event_id, events_for  # noqa: F401 - the feed's API, derived in core
from publisher.core.history import TRACKED, canonical  # noqa: F401
from publisher.core.identity import history_key
from publisher.publish import changelog
from publisher.publish.state import Change, State
from publisher.publish.store import SiteStore, StoreError

if TYPE_CHECKING:
    from publisher.publish.publisher import Publisher

log = logging.getLogger(__name__)

LABELS = {"context_window": "context window", "release_date": "release date"}

CHANGES_KEY = "changes"  # state.extra: the most recent events, newest first (bounded by changes_limit)
PENDING_KEY = "changes_pending"  # state.extra: events whose history shards are not known to have landed
LOG_PENDING_KEY = "log_pending"  # state.extra: version log entries not known to have landed
# A ceiling on PENDING_KEY for the case where llms.json never lands (every write failing); in normal
# operation it holds one version's events. A full rebuild of a 10k-model catalogue fits.
PENDING_LIMIT = 20_000
CHANGES_JSON = "changes.json"
CHANGES_ATOM = "changes.xml"
HISTORY_PREFIX = identity.HISTORY_PREFIX
ATOM_TYPE = "application/atom+xml; charset=utf-8"
ATOM_CACHE_CONTROL = JSON_CACHE_CONTROL
FEED_TITLE = "LLM catalogue: changes"
# Characters XML 1.0 cannot carry at all, even escaped.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def changes_document(version: int, generated_at: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "$schema": schemas.schema_url("Changes"),
        "schema_version": SCHEMA_VERSION,
        "version": version,
        "generated_at": generated_at,
        "count": len(events),
        "events": [canonical(event) for event in events],
    }


def _text(value: Any) -> str:
    return _XML_INVALID.sub("\ufffd", str(value))


def _value(value: Any) -> str:
    return "none" if value is None else _text(value)


def _whole(values: dict[str, Any] | None) -> str:
    return ", ".join(f"{LABELS.get(f, f)} {_value(v)}" for f, v in (values or {}).items())


def event_title(event: dict[str, Any]) -> str:
    """`GPT-4 score 95.5 -> 96.1`, `GPT-4 added (provider OpenAI, ...)`, `GPT-4 removed`."""
    name, field, kind = _text(event["model_name"]), event["field"], event["kind"]
    suffix = " (reconciled)" if kind == "reconciled" else ""
    if field is not None:
        return f"{name} {LABELS.get(field, field)} {_value(event['old'])} -> {_value(event['new'])}{suffix}"
    if event["new"] is not None:
        return f"{name} added ({_whole(event['new'])}){suffix}"
    return f"{name} removed{suffix}"


def _summary(event: dict[str, Any]) -> str:
    if event["kind"] == "reconciled":
        how = "repaired by a full rebuild (the stream record was missed; time is the rebuild's)"
    else:
        how = f"stream sequence {event['sequence']}"
    return f"{event_title(event)}. Effective {event['at']}, snapshot version {event['version']}, {how}."


def model_api_url(base_url: str, model_name: str) -> str:
    return f"{base_url}/api/llms/{quote(model_name, safe='')}"


def _uuid_urn(name: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, name)}"


def atom_document(version: int, generated_at: str, events: list[dict[str, Any]], base_url: str) -> bytes:
    """The events as an Atom 1.0 feed (RFC 4287); ids are name-based UUIDs, stable across publishes."""
    feed_url = f"{base_url}/{CHANGES_ATOM}"
    # The feed id names the deployment (its public URL), so two deployments never share ids.
    feed_id = _uuid_urn(feed_url if base_url else f"urn:llm-catalogue:{CHANGES_ATOM}")
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <id>{feed_id}</id>",
        f"  <title>{escape(FEED_TITLE)}</title>",
        f"  <subtitle>{escape(f'Snapshot version {version}: the latest {len(events)} changes')}</subtitle>",
        f"  <updated>{escape(generated_at)}</updated>",
        f'  <link rel="self" type="application/atom+xml" href={quoteattr(feed_url)}/>',
        f'  <link rel="alternate" type="text/html" href={quoteattr(f"{base_url}/")}/>',
        f'  <link rel="alternate" type="application/json" href={quoteattr(f"{base_url}/{CHANGES_JSON}")}/>',
        "  <author><name>LLM catalogue</name></author>",
    ]
    for event in map(canonical, events):
        name = event["model_name"]
        entry_id = _uuid_urn(f"{feed_id}#{event['id']}")
        api_url = quoteattr(model_api_url(base_url, name))
        history_url = quoteattr(f"{base_url}/{history_key(name)}")
        lines += [
            "  <entry>",
            f"    <id>{entry_id}</id>",
            f"    <title>{escape(event_title(event))}</title>",
            f"    <updated>{escape(_text(event['at']))}</updated>",
            # No type attribute: feed readers (feedparser among them) only treat an untyped or
            # HTML alternate as the entry's link; the API answers JSON either way.
            f"    <link rel='alternate' href={api_url}/>",
            f'    <link rel="related" type="application/json" href={history_url}/>',
            f"    <category term={quoteattr(event['kind'])}/>",
            f"    <summary>{escape(_summary(event))}</summary>",
            "  </entry>",
        ]
    lines.append("</feed>")
    return ("\n".join(lines) + "\n").encode()


@dataclass
class ChangeFeed:
    """Records events into the state before the commit and renders the feed objects after it.

    Everything the objects need lives in `state.extra`, never only in the publish's `changes`: a
    batch retried after a failed write finds no changes and must still write the same objects.
    """

    store: SiteStore
    changes_limit: int = 200
    history_limit: int = 500
    base_url: str = ""

    def record(self, state: State, changes: list[Change]) -> None:
        """State hook: runs on the mutated state before the conditional commit."""
        if not changes:
            return
        # commit() moves the version by exactly one for a non-empty change set.
        version = state.version + 1
        published = self._published_version()
        logged = [e for e in state.extra.get(LOG_PENDING_KEY, []) if e["version"] > published]
        if len(logged) >= changelog.PENDING_VERSIONS_LIMIT:
            log.warning("version log backlog over %d versions; the oldest are dropped", len(logged))
            logged = logged[-changelog.PENDING_VERSIONS_LIMIT + 1:]
        state.extra[LOG_PENDING_KEY] = [*logged, changelog.entry(version, changes, changelog.committed_now())]
        fresh = [event for change in changes for event in events_for(change, version)]
        if not fresh:
            return
        fresh.reverse()
        state.extra[CHANGES_KEY] = (fresh + state.extra.get(CHANGES_KEY, []))[: self.changes_limit]
        pending = fresh + [e for e in state.extra.get(PENDING_KEY, []) if e["version"] > published]
        if len(pending) > PENDING_LIMIT:
            log.warning("change history backlog over %d events; the oldest %d will miss their history",
                        PENDING_LIMIT, len(pending) - PENDING_LIMIT)
            pending = pending[:PENDING_LIMIT]
        state.extra[PENDING_KEY] = pending

    def _published_version(self) -> int:
        # llms.json is written last, after every other object of its version (shards and log
        # included), so its version says which pending entries have certainly landed.
        try:
            current = self.store.head("llms.json")
        except StoreError:
            return -1
        return current.version if current else -1

    def render(self, state: State, changes: list[Change], store: SiteStore) -> list[SiteObject]:
        """Extension: the feed objects of the committed state (`changes` is deliberately unused)."""
        recent = state.extra.get(CHANGES_KEY, [])[: self.changes_limit]
        objects = [
            json_object(CHANGES_JSON, changes_document(state.version, state.generated_at, recent)),
            SiteObject(CHANGES_ATOM, atom_document(state.version, state.generated_at, recent, self.base_url),
                       ATOM_TYPE, ATOM_CACHE_CONTROL),
        ]
        logged, pending = state.extra.get(LOG_PENDING_KEY, []), state.extra.get(PENDING_KEY, [])
        # Entries stay in the state until a publish with changes prunes them; one that has landed
        # (a rebuild without drift finds the last publish's) is not read or written again.
        published = self._published_version() if logged or pending else -1
        objects.extend(changelog.log_objects([e for e in logged if e["version"] > published]))
        objects.extend(self.history_objects([e for e in pending if e["version"] > published], store))
        return objects

    def migrate(self) -> None:
        """Rebuild hook: move history objects of the layouts before shards into them (once per bucket)."""
        from publisher.publish.migrate import migrate_history

        migrate_history(self.store, self.history_limit)

    def history_objects(self, events: list[dict[str, Any]], store: SiteStore) -> list[SiteObject]:
        return history_shards.shard_objects(events, store.get_with_prior, self.history_limit)


def install(publisher: Publisher, changes_limit: int, history_limit: int, base_url: str) -> ChangeFeed:
    """Attach the feed to a Publisher: the state hook, the extension and the page link."""
    feed = ChangeFeed(publisher.store, changes_limit, history_limit, base_url.rstrip("/"))
    publisher.state_hooks.append(feed.record)
    publisher.extensions.append(feed.render)
    publisher.rebuild_hooks.append(feed.migrate)
    publisher.links["changes"] = f"/{CHANGES_ATOM}"
    return feed
