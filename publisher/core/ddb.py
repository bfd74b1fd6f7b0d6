"""DynamoDB wire format (stream images, scan pages) to plain Python values, and the paginated table scan."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Context, Decimal, Inexact, Rounded
from typing import Any

# Same context as boto3's TypeDeserializer: 38 digits, the DynamoDB number precision.
_DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Inexact, Rounded])

# None lets DynamoDB fill each page up to its 1 MB limit; tests set a small size to force paging.
SCAN_PAGE_SIZE: int | None = None


class MalformedImage(ValueError):
    """A stream image that is not valid DynamoDB JSON."""


def deserialize(value: dict[str, Any]) -> Any:
    """One attribute value, e.g. {"N": "95.5"} -> Decimal("95.5")."""
    if not isinstance(value, dict) or len(value) != 1:
        raise MalformedImage(f"attribute value must be a one-key object, got {type(value).__name__}")
    ((tag, raw),) = value.items()
    try:
        if tag == "S":
            return str(raw)
        if tag == "N":
            return _DYNAMODB_CONTEXT.create_decimal(raw)
        if tag == "BOOL":
            return bool(raw)
        if tag == "NULL":
            return None
        if tag == "M":
            return {k: deserialize(v) for k, v in raw.items()}
        if tag == "L":
            return [deserialize(v) for v in raw]
        if tag == "SS":
            return set(raw)
        if tag == "NS":
            return {_DYNAMODB_CONTEXT.create_decimal(n) for n in raw}
        if tag in ("B", "BS"):
            return raw
    except (ArithmeticError, AttributeError, TypeError) as exc:
        raise MalformedImage(f"bad {tag} value") from exc
    raise MalformedImage(f"unknown attribute type {tag!r}")


def deserialize_image(image: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(image, dict):
        raise MalformedImage("image must be an object")
    return {name: deserialize(value) for name, value in image.items()}


def serialize(value: Any) -> dict[str, Any]:
    """Plain value -> DynamoDB JSON (used by the local poller and tests to build stream images)."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (int, Decimal)):
        return {"N": str(value)}
    if isinstance(value, float):
        return {"N": repr(value)}
    if isinstance(value, dict):
        return {"M": {k: serialize(v) for k, v in value.items()}}
    if isinstance(value, list):
        return {"L": [serialize(v) for v in value]}
    raise TypeError(f"cannot serialize {type(value).__name__}")


def scan_items(dynamodb: Any, table: str, consistent: bool = True) -> Iterator[dict[str, Any]]:
    """Every item of the table, page by page (a single Scan call stops at 1 MB)."""
    paginator = dynamodb.get_paginator("scan")
    config = {"PageSize": SCAN_PAGE_SIZE} if SCAN_PAGE_SIZE else {}
    for page in paginator.paginate(TableName=table, ConsistentRead=consistent, PaginationConfig=config):
        for item in page.get("Items", []):
            yield deserialize_image(item)
