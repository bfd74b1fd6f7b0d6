"""The local stack's fault switches (publisher/local/faults.py): the board, the emulator's refusals,
and the two function wrappers."""

from __future__ import annotations

import io
import json
import threading
from typing import Any

import pytest

from publisher.local import faults
from publisher.local.faults import (
    FAULT_PATH,
    FaultBoard,
    FaultError,
    InjectedFault,
    faulty,
    service_of,
    wrap_publisher,
    wrap_read,
)


def test_the_board_rejects_an_unknown_target_or_mode_by_name() -> None:
    board = FaultBoard()
    with pytest.raises(FaultError, match="'lambda'"):
        board.update({"lambda": "error"})
    with pytest.raises(FaultError, match="'broken'"):
        board.update({"s3": "broken"})
    assert board.update({"s3": "error", "read": "throttle"})["active"] == {"s3": "error", "read": "throttle"}
    assert board.update({"s3": None})["active"] == {"read": "throttle"}
    assert board.clear()["active"] == {}


@pytest.mark.parametrize(("environ", "service"), [
    ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, "dynamodb"),
    ({"HTTP_X_AMZ_TARGET": "DynamoDBStreams_20120810.GetRecords"}, "dynamodb"),
    ({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=x/20261207/us-east-1/s3/aws4_request, ..."}, "s3"),
    ({"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=x/20261207/us-east-1/ssm/aws4_request, ..."}, None),
    ({"HTTP_X_AMZ_TARGET": "AmazonSSM.GetParameter"}, None),
])
def test_requests_are_told_apart_by_service(environ: dict[str, str], service: str | None) -> None:
    assert service_of(environ) == service


def call(app: Any, environ: dict[str, Any]) -> tuple[str, bytes]:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    body = b"".join(app(environ, start_response))
    return seen["status"], body


def test_a_switched_on_service_is_refused_and_counted_while_others_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    board = FaultBoard()
    monkeypatch.setattr(faults, "BOARD", board)
    app = faulty(lambda environ, start: (start("200 OK", []), [b"moto"])[1])
    put = {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}
    ssm = {"HTTP_X_AMZ_TARGET": "AmazonSSM.GetParameter"}
    control = {"PATH_INFO": FAULT_PATH, "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "26",
               "wsgi.input": io.BytesIO(b'{"dynamodb": "throttle"} ')}
    status, body = call(app, control)
    assert status == "200 OK" and json.loads(body)["active"] == {"dynamodb": "throttle"}
    status, body = call(app, put)
    assert status.startswith("400") and b"ThrottlingException" in body
    assert call(app, ssm) == ("200 OK", b"moto")
    board.update({"dynamodb": "error"})
    status, body = call(app, put)
    assert status.startswith("500") and b"InternalServerError" in body
    assert board.snapshot()["refused"]["dynamodb"] == 2
    board.clear()
    assert call(app, put) == ("200 OK", b"moto")


def test_a_timeout_holds_the_request_until_the_fault_is_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    board = FaultBoard()
    monkeypatch.setattr(faults, "BOARD", board)
    app = faulty(lambda environ, start: (start("200 OK", []), [b"moto"])[1])
    board.update({"s3": "timeout"})
    answered: list[str] = []
    s3 = {"HTTP_AUTHORIZATION": "Credential=x/20261207/us-east-1/s3/aws4_request"}
    worker = threading.Thread(target=lambda: answered.append(call(app, s3)[0]))
    worker.start()
    worker.join(0.3)
    assert worker.is_alive() and not answered  # held: no answer while the fault is on
    board.update({"s3": None})
    worker.join(5)
    assert answered and answered[0].startswith("503")


def test_a_bad_control_request_is_a_400_naming_the_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(faults, "BOARD", FaultBoard())
    app = faulty(lambda environ, start: [b""])
    status, body = call(app, {"PATH_INFO": FAULT_PATH, "REQUEST_METHOD": "POST", "CONTENT_LENGTH": "13",
                              "wsgi.input": io.BytesIO(b'{"s3": "off"}')})
    assert status.startswith("400") and "'off'" in json.loads(body)["error"]


class Switch:
    def __init__(self, modes: dict[str, str]) -> None:
        self.modes = modes

    def mode(self, target: str) -> str | None:
        return self.modes.get(target)


def test_the_function_wrappers_fail_only_while_switched_on() -> None:
    switch = Switch({})
    publisher = wrap_publisher(lambda event, context: {"batchItemFailures": []}, switch)  # type: ignore[arg-type]
    read = wrap_read(lambda event, context: {"statusCode": 200}, switch)  # type: ignore[arg-type]
    assert read is not None
    assert publisher({}, None) == {"batchItemFailures": []} and read({}, None) == {"statusCode": 200}
    switch.modes.update(publisher="error", read="error")
    with pytest.raises(InjectedFault):
        publisher({}, None)
    with pytest.raises(InjectedFault):
        read({}, None)
    switch.modes["read"] = "throttle"
    assert read({}, None)["statusCode"] == 429


def test_the_stack_reads_the_board_at_most_once_a_poll_and_takes_an_unreadable_board_as_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[float] = []
    answers: list[Any] = [{"active": {"read": "error"}}, OSError("emulator gone")]

    def read(endpoint: str, timeout: float = 5.0) -> dict[str, Any]:
        calls.append(timeout)
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    monkeypatch.setattr(faults, "read_faults", read)
    switch = faults.FaultSwitch("http://emulator", poll_seconds=3600)
    assert [switch.mode("read") for _ in range(5)] == ["error"] * 5
    assert len(calls) == 1
    switch.poll_seconds = 0
    assert switch.mode("read") is None and len(calls) == 2
