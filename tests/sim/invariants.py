"""What must hold once the pipeline settles (SOLUTION.md, "The invariants and the simulation").

Each check returns a list of violations (empty: it holds), so one run reports them all.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from publisher.core.config import PRIVATE_PREFIX, STATE_KEY
from publisher.core.documents import LOG_PREFIX, SiteObject, dumps, json_object
from publisher.core.heartbeat import HEALTH_KEY, is_heartbeat
from publisher.core.history import merge_history
from publisher.core.history_shards import find_document
from publisher.core.identity import HISTORY_SHARD_PREFIX, PROVIDERS_PREFIX, history_shard_key
from publisher.core.model import InvalidItem, sorted_records, to_record
from publisher.publish import feed
from publisher.publish.dated_snapshots import INDEX_KEY
from publisher.publish.dated_snapshots import PREFIX as SNAPSHOTS_PREFIX
from publisher.publish.render import render_site
from publisher.publish.state import Change, State
from tests.sim.fakes import FakeS3
from tests.sim.world import CONFIG, World

# Objects that are not a function of the catalogue: the canary's heartbeat, the bucket layout marker.
OUTSIDE = (HEALTH_KEY,)


def expected_objects(state: State) -> list[SiteObject]:
    """Every public document of the committed state, rendered again from it alone."""
    links = {"changes": f"/{feed.CHANGES_ATOM}"}
    objects = render_site(state.version, state.generated_at, state.models, links=links)
    recent = state.extra.get(feed.CHANGES_KEY, [])[: CONFIG.changes_limit]
    objects.append(json_object(feed.CHANGES_JSON, feed.changes_document(state.version, state.generated_at, recent)))
    objects.append(SiteObject(feed.CHANGES_ATOM, feed.atom_document(state.version, state.generated_at, recent, ""),
                              feed.ATOM_TYPE, feed.ATOM_CACHE_CONTROL))
    return objects


def load_state(s3: FakeS3) -> State | None:
    stored = s3.objects.get(STATE_KEY)
    return State.from_bytes(stored.body) if stored else None


def site_is_a_function_of_the_state(s3: FakeS3, state: State | None) -> list[str]:
    public = {k for k in s3.objects if not k.startswith((PRIVATE_PREFIX, SNAPSHOTS_PREFIX)) and k not in OUTSIDE}
    if state is None:
        return [f"public objects without a committed state: {sorted(public)}"] if public else []
    problems = []
    expected = {o.key: o.body for o in expected_objects(state)}
    for key in sorted(public - set(expected)):
        problems.append(f"extra public object {key}" + (" (an orphaned provider file)"
                                                          if key.startswith(PROVIDERS_PREFIX) else ""))
    for key in sorted(set(expected) - public):
        problems.append(f"missing public object {key}")
    for key in sorted(set(expected) & public):
        if s3.objects[key].body != expected[key]:
            problems.append(f"{key} differs from its rendering of state version {state.version}")
    return problems


def valid_records(table: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    records = {}
    for name, item in table.items():
        if is_heartbeat(name):
            continue
        try:
            records[name] = to_record(item)
        except InvalidItem:
            continue
    return records


def state_equals_the_table(state: State | None, table: dict[str, dict[str, Any]]) -> list[str]:
    models = state.models if state else {}
    valid = valid_records(table)
    problems = [f"state lacks {n!r}" for n in sorted(set(valid) - set(models))]
    problems += [f"state holds {n!r}, which the table has not (or not valid)" for n in sorted(set(models) - set(valid))]
    problems += [f"state has another value for {n!r}: {models[n]} != {valid[n]}"
                 for n in sorted(set(valid) & set(models)) if models[n] != valid[n]]
    return problems


def log_entries(s3: FakeS3) -> list[dict[str, Any]]:
    return [json.loads(s3.objects[k].body) for k in sorted(s3.objects) if k.startswith(LOG_PREFIX)]


def log_replays_every_version(s3: FakeS3, state: State | None, seen: list[bytes]) -> tuple[list[str], dict]:
    """The version log, replayed from nothing, gives every version readers saw, and each change once."""
    problems: list[str] = []
    entries = log_entries(s3)
    versions = [e["version"] for e in entries]
    top = state.version if state else 0
    if versions != list(range(1, top + 1)):
        problems.append(f"log versions {versions[:3]}..{versions[-3:]} are not 1..{top}")
    catalogue: dict[str, dict[str, Any]] = {}
    replayed: dict[int, list[dict[str, Any]]] = {0: []}
    events: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        for change in entry["changes"]:
            name = change["model_name"]
            if catalogue.get(name) != change["old"]:
                problems.append(f"version {entry['version']}: {name!r} changes from {change['old']}, "
                                f"the log holds {catalogue.get(name)} (a change applied twice or lost)")
            if change["old"] == change["new"]:
                problems.append(f"version {entry['version']}: {name!r} logged without a change")
            if change["new"] is None:
                catalogue.pop(name, None)
            else:
                catalogue[name] = change["new"]
            applied = Change(name, change["old"], change["new"], change["at"], change["sequence"], change["source"])
            events.setdefault(name, []).extend(feed.events_for(applied, entry["version"]))
        replayed[entry["version"]] = sorted_records(catalogue.values())
    if state is not None and catalogue != state.models:
        problems.append("the log replayed to the last version differs from the committed state")
    versions_seen = []
    for body in seen:
        document = json.loads(body)
        versions_seen.append(document["version"])
        if dumps(replayed.get(document["version"])) != dumps(document["models"]):
            problems.append(f"llms.json version {document['version']} as readers saw it is not the log's replay")
    if versions_seen != sorted(versions_seen):
        problems.append(f"the published version went backward: {versions_seen}")
    return problems, events


def histories_hold_each_change_once(s3: FakeS3, events: dict[str, list[dict[str, Any]]]) -> list[str]:
    problems = []
    shards = {k: s3.objects[k].body for k in s3.objects if k.startswith(HISTORY_SHARD_PREFIX)}
    for name, fresh in sorted(events.items()):
        expected = dumps(merge_history(name, None, fresh, CONFIG.history_limit)) if fresh else None
        found = find_document(shards.get(history_shard_key(name)), name)
        if found != expected:
            problems.append(f"history of {name!r} is not its logged changes, each once")
    return problems


def dated_snapshots_are_published_versions(s3: FakeS3, seen: list[bytes]) -> list[str]:
    problems = []
    dated = sorted(k for k in s3.objects if k.startswith(SNAPSHOTS_PREFIX) and k != INDEX_KEY)
    for key in dated:
        if s3.objects[key].body not in seen:
            problems.append(f"{key} is no llms.json readers saw")
    listed = json.loads(s3.objects[INDEX_KEY].body)["snapshots"] if INDEX_KEY in s3.objects else []
    if sorted(e["url"].lstrip("/") for e in listed) != dated:
        problems.append(f"{INDEX_KEY} lists {[e['url'] for e in listed]}, the bucket holds {dated}")
    return problems


def nothing_private_is_public(s3: FakeS3) -> list[str]:
    """The heartbeat is never in the catalogue, and every published model is a valid record (an
    invalid item is left out; until a reconcile the model's last valid value may stand)."""
    catalogue = s3.objects.get("llms.json")
    models = json.loads(catalogue.body)["models"] if catalogue else []
    problems = [f"{m['model_name']!r}: the canary's heartbeat is in llms.json" for m in models
                if is_heartbeat(m["model_name"])]
    for model in models:
        try:
            to_record(model)
        except InvalidItem as exc:
            problems.append(f"llms.json publishes an invalid record: {exc}")
    return problems


def check(world: World) -> list[str]:
    """Every invariant over the settled world."""
    state = load_state(world.s3)
    problems = site_is_a_function_of_the_state(world.s3, state)
    if not world.dlq:
        # Records parked in the DLQ are repaired only by a reconcile; without any, the stream alone
        # must have brought the state to the table.
        problems += state_equals_the_table(state, world.table)
    logged, events = log_replays_every_version(world.s3, state, world.seen)
    problems += logged
    problems += histories_hold_each_change_once(world.s3, events)
    problems += dated_snapshots_are_published_versions(world.s3, world.seen)
    problems += nothing_private_is_public(world.s3)
    return problems


def check_after_reconcile(world: World) -> list[str]:
    """The next scheduled reconcile (no faults) brings even DLQ'd changes in: the state equals the table.

    It runs an hour on: a key the stream changed just before a rebuild's scan is left to the stream
    (state.reconcile), so a rebuild right after it would not repair a DLQ'd later change of it.
    """
    world.clock += timedelta(hours=1)
    world.rebuild(faults=False)
    state = load_state(world.s3)
    found = state_equals_the_table(state, world.table) + site_is_a_function_of_the_state(world.s3, state)
    return [f"after a final reconcile: {p}" for p in found] + check(world)
