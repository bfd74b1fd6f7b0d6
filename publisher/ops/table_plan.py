"""`restore --table-plan FILE`: what the table must hold so that resuming publishes version N's catalogue.

The table is the source of truth: a restore lasts only while publishing is paused, and the resume's
rebuild publishes whatever the table holds. This compares version N's catalogue (replayed from the
version log, as the restore does) with the table's valid items and writes the records to put back as
a JSON array `scripts/seed_data.py --file` takes, and lists the keys to delete. It reads with your
credentials (S3 GetObject on the bucket, DynamoDB Scan) and writes nothing to the table itself.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TablePlan:
    put: list[dict[str, Any]]  # version N's records the table lacks or holds otherwise
    delete: list[str]  # names the table holds (valid) that version N did not have


def plan(s3: Any, dynamodb: Any, bucket: str, table: str, target: int) -> TablePlan:
    from publisher.core.ddb import scan_items
    from publisher.core.heartbeat import is_heartbeat
    from publisher.core.model import InvalidItem, to_record
    from publisher.publish.restore import catalogue_at
    from publisher.publish.store import SiteStore

    store = SiteStore(s3, bucket)
    state, _ = store.load_state()
    wanted = catalogue_at(store, state, target)
    held: dict[str, dict[str, Any] | None] = {}
    for item in scan_items(dynamodb, table):
        name = item.get("model_name")
        if not isinstance(name, str) or is_heartbeat(name):
            continue
        try:
            held[name] = to_record(item)
        except InvalidItem:
            held[name] = None  # never published: left alone unless version N had the name
    return TablePlan(put=[wanted[name] for name in sorted(wanted) if held.get(name) != wanted[name]],
                     delete=sorted(name for name, record in held.items() if record is not None and name not in wanted))


def write(found: TablePlan, path: Path, table: str, target: int) -> str:
    """Write the records to `path`; the instructions in words."""
    path.write_text(json.dumps(found.put, ensure_ascii=False, indent=1) + "\n")
    seed = f"scripts/seed_data.py --table {shlex.quote(table)} --file {shlex.quote(str(path))}"
    lines = [f"table plan for version {target}: {len(found.put)} item(s) to put back, in {path} (`{seed}`), "
             f"{len(found.delete)} to delete"]
    lines += [f"  aws dynamodb delete-item --table-name {shlex.quote(table)} --key "
              + shlex.quote(json.dumps({"model_name": {"S": name}}, ensure_ascii=False)) for name in found.delete]
    if not found.put and not found.delete:
        lines.append("  the table already holds exactly version "
                     f"{target}'s catalogue: resuming publishes it unchanged")
    return "\n".join(lines)
