"""Checkpoints of the committed catalogue every CHECKPOINT_EVERY versions, so a read of any past version
replays at most that many logs (publisher/core/replay.py has the format and the replay).

An extension of the publisher: the checkpoint of version C is rendered from the committed state of
the publish that made C (or, when that publish's writes failed and a later one took over, from the
later state moved back over the log entries still pending in it), and written with the site's
objects, before `llms.json`. So once `llms.json` of C has landed, checkpoint C has too; a publish
whose writes fail is retried and renders the same bytes (the commit time comes from the state's log
entry, the models are sorted). Writes are conditional (If-None-Match on a new key, equal bytes
skipped by their content hash); the index is merged into what the bucket holds on a conflict, so
racing publishers never drop each other's entry.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from publisher.core.documents import SiteObject, log_key
from publisher.core.replay import (
    CHECKPOINT_EVERY,
    CHECKPOINT_INDEX_KEY,
    Indexed,
    checkpoint_bytes,
    checkpoint_header,
    checkpoint_key,
    index_document,
    parse_index,
    parse_log,
    undo,
)
from publisher.publish.changelog import LOG_TYPE
from publisher.publish.feed import LOG_PENDING_KEY
from publisher.publish.state import Change, State
from publisher.publish.store import SiteStore

if TYPE_CHECKING:
    from publisher.publish.publisher import Publisher

log = logging.getLogger(__name__)
CACHE_CONTROL = "no-store"  # private (CloudFront is denied internal/*); never served


def due(version: int) -> int:
    """The newest checkpoint version at or before `version` (0: none due yet)."""
    return version - version % CHECKPOINT_EVERY


def checkpoint_object(state: State) -> SiteObject | None:
    """The checkpoint the committed state owes, if its version's log entry is still pending (not known
    to have landed with its llms.json); None otherwise."""
    target = due(state.version)
    pending = {e["version"]: e for e in state.extra.get(LOG_PENDING_KEY, [])}
    if target == 0 or target not in pending:
        return None
    missing = [v for v in range(target + 1, state.version + 1) if v not in pending]
    if missing:  # cannot happen while the pending log holds every unlanded version; never guess
        log.warning("checkpoint %d skipped: log entries %s are not in the state", target, missing)
        return None
    models = dict(state.models)
    for version in range(state.version, target, -1):
        undo(models, pending[version]["changes"])
    body = checkpoint_bytes(target, pending[target]["committed_at"], models)
    return SiteObject(checkpoint_key(target), body, LOG_TYPE, CACHE_CONTROL)


def _merge_into(entry: Indexed, store: SiteStore, pending: dict[int, Any]) -> Any:
    def merge(body: bytes | None) -> bytes:
        entries, first = parse_index(body)
        if first is None:
            first = pending[1]["committed_at"] if 1 in pending else _first_commit(store)
        if body is not None and any(e.version == entry.version for e in entries):
            return body
        return index_document([*entries, entry], first)

    return merge


def _first_commit(store: SiteStore) -> str | None:
    """Version 1's commit time, read once when the index is created (None when its log is gone)."""
    body = store.get_bytes(log_key(1))
    return None if body is None else parse_log(1, body).committed_text


def index_object(checkpoint: SiteObject, store: SiteStore, pending: dict[int, Any]) -> SiteObject | None:
    """The index with `checkpoint` listed, merged into the bucket's copy; None when already listed.
    `pending` holds the state's log entries not known to have landed (version 1's among them, maybe)."""
    entry = checkpoint_header(checkpoint.body)
    body, prior = store.get_with_prior(CHECKPOINT_INDEX_KEY)
    merge = _merge_into(entry, store, pending)
    merged = merge(body)
    if merged == body:
        return None
    return SiteObject(CHECKPOINT_INDEX_KEY, merged, LOG_TYPE, CACHE_CONTROL, prior=prior, merge=merge)


def render(state: State, changes: list[Change], store: SiteStore) -> list[SiteObject]:
    """Extension: the checkpoint owed by the committed state, and the index listing it."""
    checkpoint = checkpoint_object(state)
    if checkpoint is None:
        return []
    index = index_object(checkpoint, store, {e["version"]: e for e in state.extra.get(LOG_PENDING_KEY, [])})
    return [checkpoint] if index is None else [checkpoint, index]


def install(publisher: Publisher) -> None:
    publisher.extensions.append(render)

