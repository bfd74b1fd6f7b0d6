"""AWS clients, created on first use and reused across invocations (import cost is cold-start cost), and
the error codes their callers decide by."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def _session() -> Any:
    # botocore directly, not boto3: boto3's import pulls in s3transfer and its resource layer,
    # about 100 ms of a cold start that these handlers never use (they only need clients).
    import botocore.session

    return botocore.session.get_session()


@cache
def client(service: str) -> Any:
    from botocore.config import Config as BotoConfig

    # Standard retry mode backs off on throttling and 5xx; a short connect timeout fails fast.
    config = BotoConfig(
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=2,
        read_timeout=10,
        tcp_keepalive=True,
        # The publisher writes objects 16 at a time; botocore's default pool of 10 would churn.
        max_pool_connections=32,
    )
    return _session().create_client(service, config=config)


def reset_clients() -> None:
    """Forget cached clients and the session (tests switch endpoints and credentials)."""
    client.cache_clear()
    _session.cache_clear()


# S3's error codes by meaning (a HEAD has no body, so it answers with the bare status). A reader
# without s3:ListBucket is told 403 AccessDenied for a missing key, hence S3_ABSENT for readers.
S3_NOT_MODIFIED = frozenset({"304", "NotModified"})
S3_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
S3_ABSENT = S3_MISSING | {"403", "AccessDenied"}
# 412: the object changed since it was read. 409: a concurrent conditional write is in flight.
S3_CONFLICT = frozenset({"412", "PreconditionFailed", "409", "ConditionalRequestConflict"})


def error_code(exc: BaseException) -> str:
    """The service's error code of a botocore ClientError ("" for anything else): behaviour is decided
    by code, never by message text."""
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))
