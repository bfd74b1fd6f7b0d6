"""AWS clients, created on first use and reused across invocations (import cost is cold-start cost)."""

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
