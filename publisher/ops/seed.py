"""Write the sample catalogue (or any JSON list of models) into a table, in batches, failing loudly."""

from __future__ import annotations

import json
from decimal import Decimal
from importlib import resources
from typing import Any

from publisher.core.ddb import serialize
from publisher.core.model import InvalidItem, to_record

BATCH = 25  # BatchWriteItem's limit


class SeedError(RuntimeError):
    """Seeding could not write every item."""


def sample_models() -> list[dict[str, Any]]:
    text = resources.files("publisher.ops.data").joinpath("sample_models.json").read_text()
    return json.loads(text, parse_float=Decimal)


def validate(models: list[dict[str, Any]]) -> None:
    """Refuse to seed anything the publisher would leave out: fail before writing, naming the item."""
    problems = []
    for index, model in enumerate(models):
        try:
            to_record(model)
        except InvalidItem as exc:
            problems.append(f"item {index} ({exc.key!r}): {exc.reason}")
    if problems:
        raise SeedError("invalid items, nothing written:\n  " + "\n  ".join(problems))


def seed(dynamodb: Any, table: str, models: list[dict[str, Any]], max_attempts: int = 8,
         sleep: Any = None) -> int:
    """Write `models` with BatchWriteItem, retrying unprocessed items with backoff. Returns the count."""
    import time

    sleep = sleep or time.sleep
    validate(models)
    written = 0
    for start in range(0, len(models), BATCH):
        requests = [{"PutRequest": {"Item": {k: serialize(v) for k, v in m.items()}}}
                    for m in models[start:start + BATCH]]
        pending: dict[str, Any] = {table: requests}
        for attempt in range(max_attempts):
            response = dynamodb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                break
            sleep(min(2.0, 0.05 * 2**attempt))
        else:
            left = len(pending.get(table, []))
            raise SeedError(f"{left} items still unprocessed after {max_attempts} attempts (throttled?)")
        written += len(requests)
    return written
