"""The emulator behaves as S3 does where the publisher's races depend on it.

S3 checks a conditional PUT's If-None-Match / If-Match and writes as one step: of racing writers
exactly one wins. moto checked, then wrote, with nothing between, so two racers could both win (a
dated-snapshot race test saw the index list one version while the kept file held another).
`publisher.local.emulator.fill_gaps` makes each PUT atomic; the suite's `mock_aws` applies it.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from publisher.core import aws

RACERS = 8


def test_of_racing_if_none_match_puts_exactly_one_wins(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.s3.models import S3Backend

    # Widen moto's window between its condition check and its write, so a race without the lock
    # is certain rather than likely.
    slow_write = S3Backend.put_object

    def put_object(self: Any, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.05)
        return slow_write(self, *args, **kwargs)

    monkeypatch.setattr(S3Backend, "put_object", put_object)
    s3 = aws.client("s3")
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []

    def race(racer: int) -> None:
        barrier.wait()
        try:
            s3.put_object(Bucket=bucket, Key="snapshots/2026-03-01.json", Body=str(racer).encode(),
                          IfNoneMatch="*")
            outcomes.append("won")
        except ClientError as exc:
            outcomes.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=race, args=(r,)) for r in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["PreconditionFailed"] * (RACERS - 1) + ["won"]
