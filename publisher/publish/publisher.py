"""The publisher core: apply changes to the state, commit it conditionally, render and write the site."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from publisher.core.clock import iso
from publisher.core.documents import SiteObject, json_object
from publisher.core.heartbeat import HEALTH_KEY, InvalidHeartbeat, health_document, is_heartbeat, parse_heartbeat
from publisher.core.identity import PROVIDERS_PREFIX, key
from publisher.core.model import Rejected
from publisher.core.schemas import schema_url
from publisher.publish.render import render_site
from publisher.publish.state import Change, State, StreamChange, apply_changes, commit, reconcile
from publisher.publish.store import SiteStore, SnapshotConflict

log = logging.getLogger(__name__)
MAX_STATE_ATTEMPTS = 8
PROVIDER_SLUGS = "provider_slugs"
# state.extra: provider key -> the version that dropped it. Every publish (a retry or heal included)
# deletes these while they are pending, so a failed or paused publish cannot leave one public; an
# entry is kept for ORPHAN_VERSIONS versions, then the scheduled rebuild's listing is the backstop.
PROVIDER_ORPHANS = "provider_orphans"
ORPHAN_VERSIONS = 100
Scan = Callable[[], Iterable[dict[str, Any]]]

# Extra renderers (e.g. the change feed) get the committed state and the changes of this publish
# and return more objects to write. They may keep bounded data in `state.extra` before the commit.
Extension = Callable[[State, list[Change], SiteStore], list[SiteObject]]
StateHook = Callable[[State, list[Change]], None]
# Run after a rebuild has written the site: maintenance of the bucket's layout (e.g. migrate.py).
RebuildHook = Callable[[], None]
# Run after the site's objects (llms.json last) are written: the objects, their version and the
# publish's clock (e.g. dated_snapshots.py keeps the day's first llms.json).
PublishedHook = Callable[[list[SiteObject], int, datetime], None]


def _lap(phases: dict[str, float], name: str, mark: float) -> float:
    now = time.perf_counter()
    phases[name] = (now - mark) * 1000
    return now


@dataclass
class PublishResult:
    version: int
    changed: int
    rejected: list[Rejected]
    written: int = 0
    skipped: int = 0
    bytes: int = 0
    conflicts: int = 0
    duration_ms: float = 0.0
    published: bool = False
    changes: list[Change] = field(default_factory=list)
    # Milliseconds per phase of the last attempt: load (state GET), apply, commit (state PUT),
    # render (snapshot objects and extensions), write (object PUTs).
    phases: dict[str, float] = field(default_factory=dict)
    # Stream sequence of the canary heartbeat this publish wrote to health.json (None: none).
    heartbeat: str | None = None


@dataclass
class Publisher:
    store: SiteStore
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    state_hooks: list[StateHook] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)
    links: dict[str, str | None] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    rebuild_hooks: list[RebuildHook] = field(default_factory=list)
    published_hooks: list[PublishedHook] = field(default_factory=list)

    def apply_stream(self, changes: list[StreamChange]) -> PublishResult:
        """Apply a batch of stream changes; a replayed batch changes nothing and writes no state.

        The canary's heartbeat never enters the state: once the catalogue part of the batch is
        published (llms.json written last), the newest heartbeat is written to health.json. A batch
        that fails to publish therefore never moves health.json, so the canary sees the stall.
        """
        beats = [c for c in changes if is_heartbeat(c.key)]
        catalogue = [c for c in changes if not is_heartbeat(c.key)]
        if catalogue or not beats:
            result = self._transact(lambda state: apply_changes(state, catalogue), force_render=False)
        else:
            result = self._heal()
        if beats:
            self._publish_heartbeat(beats, result)
        return result

    def rebuild(self, items: Iterable[dict[str, Any]] | Scan) -> PublishResult:
        """Make the snapshot equal the scanned table and (re)write every public object.

        `items` is best a scan function: a conflict retry then scans again, after the publish it lost
        to, instead of re-applying what it read before. Keys the stream changed while the scan ran
        keep the stream's value (state.reconcile), and provider files no model names are deleted.
        """
        scan: Scan = items if callable(items) else (lambda fixed=list(items): fixed)
        taken: list[tuple[str, list[dict[str, Any]]]] = []

        def take_scan() -> None:
            # Before the state is read, not between the read and the commit: a scan of a big table
            # is slow, and inside that window it lost every race to a busy stream (game day, issue 24).
            started = iso(self.now())
            taken[:] = [(started, list(scan()))]

        def mutate(state: State) -> tuple[list[Change], list[Rejected]]:
            started, scanned = taken[0]
            return reconcile(state, scanned, iso(self.now()), started)

        result = self._transact(mutate, force_render=True, sweep=True, before_load=take_scan)
        for hook in self.rebuild_hooks:
            hook()
        return result

    def restore(self, mutate: Callable[[State], tuple[list[Change], list[Rejected]]]) -> PublishResult:
        """Publish a catalogue an operator put back (publish/restore.py): a new version, the site rewritten."""
        return self._transact(mutate, force_render=True)

    def _transact(
        self, mutate: Callable[[State], tuple[list[Change], list[Rejected]]], force_render: bool,
        sweep: bool = False, before_load: Callable[[], None] | None = None,
    ) -> PublishResult:
        started = time.perf_counter()
        conflicts = 0
        for attempt in range(MAX_STATE_ATTEMPTS):
            if before_load is not None:
                before_load()
            phases: dict[str, float] = {}
            mark = time.perf_counter()
            state, etag = self.store.load_state()
            mark = _lap(phases, "load", mark)
            changes, rejected = mutate(state)
            for hook in self.state_hooks:
                hook(state, changes)
            mark = _lap(phases, "apply", mark)
            if not changes and etag is not None and not force_render:
                if self._site_is_current(state.version):
                    self._delete_pending_orphans(state)
                    return PublishResult(state.version, 0, rejected, conflicts=conflicts,
                                         duration_ms=(time.perf_counter() - started) * 1000, phases=phases)
                # The state was committed but its objects never all landed (a write failed after
                # the commit): write them now, under the same version.
                return self._write(state, [], rejected, conflicts, started, phases)
            commit(state, changes, self.now())
            _track_orphans(state)
            try:
                self.store.save_state(state, etag)
            except SnapshotConflict:
                conflicts += 1
                # Full jitter: racing publishers spread out instead of colliding again.
                self.sleep(random.uniform(0, min(1.0, 0.05 * 2**attempt)))
                continue
            _lap(phases, "commit", mark)
            return self._write(state, changes, rejected, conflicts, started, phases, sweep)
        raise SnapshotConflict(f"state write lost {MAX_STATE_ATTEMPTS} races in a row")

    def _heal(self) -> PublishResult:
        """A heartbeat-only batch: read the state and rewrite the site only if a failed write left it behind."""
        started = time.perf_counter()
        state, etag = self.store.load_state()
        if etag is None or self._site_is_current(state.version):
            # No state yet: publishing an empty catalogue for a heartbeat would hide the read API's
            # DynamoDB failover during a migration's backfill.
            self._delete_pending_orphans(state)
            return PublishResult(state.version, 0, [], duration_ms=(time.perf_counter() - started) * 1000)
        return self._write(state, [], [], 0, started, {})

    def _publish_heartbeat(self, beats: list[StreamChange], result: PublishResult) -> None:
        """Write the newest heartbeat of the batch to health.json, ordered by its stream sequence."""
        newest = max((b for b in beats if b.new_item is not None), key=lambda b: int(b.sequence), default=None)
        if newest is None:
            return  # only deletes of the reserved item: nothing to publish
        assert newest.new_item is not None
        try:
            beat = parse_heartbeat(newest.new_item)
        except InvalidHeartbeat as exc:
            result.rejected.append(Rejected(newest.key, str(exc)))
            return
        obj = json_object(HEALTH_KEY, health_document(beat, newest.sequence, newest.at, schema_url("Heartbeat")))
        # The sequence number is health.json's version: a replayed or slower publisher holding an
        # older heartbeat can never overwrite a newer one.
        written, conflicts = self.store.put_if_newer(obj, int(newest.sequence))
        result.conflicts += conflicts
        if written:
            result.written += 1
            result.bytes += len(obj.body)
        result.heartbeat = newest.sequence

    def _site_is_current(self, version: int) -> bool:
        current = self.store.head("llms.json")
        return current is not None and current[1] >= version

    def _write(self, state: State, changes: list[Change], rejected: list[Rejected], conflicts: int,
               started: float, phases: dict[str, float], sweep: bool = False) -> PublishResult:
        mark = time.perf_counter()
        # Extensions wait on S3 reads (the feed's history objects) while the site renders on the
        # CPU: run them side by side. Both only read the committed state.
        with ThreadPoolExecutor(max_workers=1) as pool:
            extra = pool.submit(
                lambda: [obj for extension in self.extensions for obj in extension(state, changes, self.store)])
            objects = render_site(state.version, state.generated_at, state.models, links=self.links)
            objects.extend(extra.result())
        mark = _lap(phases, "render", mark)
        orphans = {_provider_object(slug) for slug in state.extra.get(PROVIDER_ORPHANS, {})}
        if sweep:
            # The rebuild lists the prefix: whatever a crash or an older layout left is removed too.
            names = {o.key for o in objects}
            orphans |= {k for k in self.store.keys(PROVIDERS_PREFIX) if k not in names}
        report = self.store.publish(objects, state.version, deletes=orphans)
        self._undo_stale_creations(report.created)
        for hook in self.published_hooks:
            hook(objects, state.version, self.now())
        _lap(phases, "write", mark)
        return PublishResult(
            version=state.version,
            changed=len(changes),
            rejected=rejected,
            written=report.written,
            skipped=report.skipped,
            bytes=report.bytes,
            conflicts=conflicts + report.conflicts,
            duration_ms=(time.perf_counter() - started) * 1000,
            published=True,
            changes=changes,
            phases=phases,
        )

    def _delete_pending_orphans(self, state: State) -> None:
        for slug in sorted(state.extra.get(PROVIDER_ORPHANS, {})):
            self.store.delete_if_not_newer(_provider_object(slug), state.version)

    def _undo_stale_creations(self, created: Iterable[tuple[str, str]]) -> None:
        """Delete provider files this publish created that the committed state no longer names.

        A publish paused after its commit can find a provider file missing because a newer publish
        deleted it, and create it again (If-None-Match succeeds on a missing key). Whoever committed
        the newer state has done its deletes by then, so the state read now says whether the file
        belongs; only our own object (its ETag) is deleted, never a newer publish's.
        """
        providers = [(k, etag) for k, etag in created if k.startswith(PROVIDERS_PREFIX)]
        if not providers:
            return
        state, _ = self.store.load_state()
        named = {_provider_object(slug) for slug in _provider_slugs(state)}
        for object_key, etag in providers:
            if object_key not in named:
                self.store.delete_matching(object_key, etag)


def _provider_object(slug: str) -> str:
    return f"{PROVIDERS_PREFIX}{slug}.json"


def _provider_slugs(state: State) -> list[str]:
    return sorted({key(m["provider"]) for m in state.models.values()})


def _track_orphans(state: State) -> None:
    """Before the commit: remember provider keys this version drops, forget those it names again."""
    previous = set(state.extra.get(PROVIDER_SLUGS, []))
    current = _provider_slugs(state)
    state.extra[PROVIDER_SLUGS] = current
    orphans = {slug: v for slug, v in state.extra.get(PROVIDER_ORPHANS, {}).items()
               if v > state.version - ORPHAN_VERSIONS}
    orphans.update({slug: state.version for slug in previous - set(current)})
    for slug in current:
        orphans.pop(slug, None)
    if orphans:
        state.extra[PROVIDER_ORPHANS] = orphans
    else:
        state.extra.pop(PROVIDER_ORPHANS, None)
