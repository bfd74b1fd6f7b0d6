"""AWS clients, created on first use and reused across invocations (import cost is cold-start cost)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config as BotoConfig

    # Standard retry mode backs off on throttling and 5xx; a short connect timeout fails fast.
    config = BotoConfig(
        retries={"mode": "standard", "max_attempts": 4},
        connect_timeout=2,
        read_timeout=10,
        tcp_keepalive=True,
    )
    return boto3.session.Session().client(service, config=config)


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints and credentials)."""
    client.cache_clear()
