"""A second fault harness, not the simulation's: a hypothesis state machine over moto, with faults
injected through botocore's event hooks on a real S3 client (an error before a call, or a reply lost
after the call landed), its own workload (batches of stream changes, duplicated deliveries,
rebuilds from a scan) and its own fault schedule (hypothesis draws which call fails and how).

After every run the site must equal the table: once with only the pending deliveries drained, and
again after a final reconcile.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from decimal import Decimal
from typing import Any

import botocore.session
from botocore.config import Config as BotoConfig
from botocore.exceptions import ClientError, ReadTimeoutError
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from publisher.core.config import Config
from publisher.core.identity import PROVIDERS_PREFIX, provider_key
from publisher.core.model import InvalidItem, sorted_records, to_record
from publisher.publish import extensions
from publisher.publish.publisher import Publisher
from publisher.publish.state import StreamChange
from publisher.publish.store import SiteStore, StoreError

NAMES = ["Alpha", "alpha", "ALPHA ", "Beta", "Gamma 2"]
PROVIDERS = ["North", "north", "South", "Ost"]
TARGETS = ["internal/state.json", "llms.json", "changes.json", "providers/", "internal/history/",
           "internal/log/", "index.html", "snapshots/"]
BUCKETS = itertools.count()


class Injector:
    """botocore hooks: fail the first call whose key starts with `target`, before it or after it landed."""

    def __init__(self) -> None:
        self.target: str | None = None
        self.kind = "before"

    def arm(self, target: str | None, kind: str) -> None:
        self.target, self.kind = target, kind

    def _hit(self, context: dict[str, Any]) -> bool:
        key = context.get("fault_key")
        if self.target is None or key is None or not key.startswith(self.target):
            return False
        self.target = None
        return True

    def params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fault_key"] = params.get("Key")
        if self.kind == "before" and self._hit(context):
            raise ClientError({"Error": {"Code": "InternalError", "Message": "injected"}}, "S3")

    def after(self, context: dict[str, Any], **_: Any) -> None:
        if self.kind == "after" and self._hit(context):
            raise ReadTimeoutError(endpoint_url="injected: the write landed, its reply was lost")


class SiteMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.injector = Injector()
        self.s3 = botocore.session.get_session().create_client(
            "s3", config=BotoConfig(retries={"total_max_attempts": 1}))
        self.s3.meta.events.register("provide-client-params.s3.*", self.injector.params)
        self.s3.meta.events.register("after-call.s3.*", self.injector.after)
        self.bucket = f"fault-machine-{next(BUCKETS)}"
        self.s3.create_bucket(Bucket=self.bucket)
        self.table: dict[str, dict[str, Any]] = {}
        self.pending: list[StreamChange] = []
        self.delivered: list[list[StreamChange]] = []
        self.sequence = 100

    def publisher(self) -> Publisher:
        pub = Publisher(store=SiteStore(self.s3, self.bucket), sleep=lambda _: None)
        extensions.install(pub, Config(table_name="llm_scores", site_bucket=self.bucket))
        return pub

    @initialize()
    def start(self) -> None:
        self.injector.arm(None, "before")

    def _write(self, name: str, item: dict[str, Any] | None) -> None:
        self.sequence += 1
        if item is None:
            self.table.pop(name, None)
        else:
            self.table[name] = item
        self.pending.append(StreamChange(name, str(self.sequence), "REMOVE" if item is None else "MODIFY",
                                         item, f"2026-04-01T10:{self.sequence % 60:02d}:00Z"))

    @rule(name=st.sampled_from(NAMES), provider=st.sampled_from(PROVIDERS), score=st.integers(0, 100))
    def put(self, name: str, provider: str, score: int) -> None:
        self._write(name, {"model_name": name, "provider": provider, "score": Decimal(score), "context_window": 4096})

    @rule(name=st.sampled_from(NAMES))
    def delete(self, name: str) -> None:
        self._write(name, None)

    @rule(name=st.sampled_from(NAMES))
    def invalid(self, name: str) -> None:
        self._write(name, {"model_name": name, "provider": "North", "score": Decimal(500)})

    @rule(where=st.sampled_from(TARGETS) | st.none(), kind=st.sampled_from(["before", "after"]),
          take=st.integers(1, 4))
    def deliver(self, where: str | None, kind: str, take: int) -> None:
        batch, rest = self.pending[:take], self.pending[take:]
        self.injector.arm(where, kind)
        try:
            self.publisher().apply_stream(batch)
        except (StoreError, ReadTimeoutError):
            return  # the trigger delivers the same batch again later
        finally:
            self.injector.arm(None, "before")
        self.pending = rest
        self.delivered.append(batch)

    @rule(index=st.integers(0, 50))
    def duplicate(self, index: int) -> None:
        if self.delivered:
            self.publisher().apply_stream(self.delivered[index % len(self.delivered)])

    @rule(where=st.sampled_from(TARGETS) | st.none(), kind=st.sampled_from(["before", "after"]))
    def rebuild(self, where: str | None, kind: str) -> None:
        self.injector.arm(where, kind)
        try:
            self.publisher().rebuild([dict(v) for v in self.table.values()])
        except (StoreError, ReadTimeoutError):
            pass
        finally:
            self.injector.arm(None, "before")

    def site_equals_table(self, when: str) -> None:
        valid = {}
        for name, item in self.table.items():
            with contextlib.suppress(InvalidItem):
                valid[name] = to_record(item)
        catalogue = json.loads(self.s3.get_object(Bucket=self.bucket, Key="llms.json")["Body"].read())
        expected = json.loads(json.dumps(sorted_records(valid.values()), default=float))
        assert catalogue["models"] == expected, when
        assert [list(m) for m in catalogue["models"]] == [list(m) for m in expected], f"{when}: field order"
        listed = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=PROVIDERS_PREFIX).get("Contents", [])
        assert sorted(o["Key"] for o in listed) == sorted({provider_key(r["provider"]) for r in valid.values()}), when

    def teardown(self) -> None:
        self.injector.arm(None, "before")
        pub = self.publisher()
        pub.apply_stream(self.pending)
        pub.apply_stream([])  # whatever invocation comes next (the canary's heartbeat) heals
        if self.delivered or self.pending:
            self.site_equals_table("settled, no reconcile")
        pub.rebuild([dict(v) for v in self.table.values()])
        self.site_equals_table("after a final reconcile")


def test_the_site_equals_the_table_whatever_fails_with_and_without_a_final_reconcile(bucket: str) -> None:
    run_state_machine_as_test(SiteMachine, settings=settings(
        max_examples=25, stateful_step_count=12, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
