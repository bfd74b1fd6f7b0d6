"""Fault switches of the local stack, for rehearsing an incident (`make gameday`, README).

One board, kept by the emulator process and read or set over HTTP at `<emulator>/_local/faults`:
`GET` returns it, `POST {"s3": "error"}` sets targets (`null` clears one), `DELETE` clears them all.
The emulator applies `s3` and `dynamodb` itself (every caller, the stack's functions and any outside
writer, sees the same outage); the stack process reads the board at most every POLL_SECONDS and
applies `publisher` and `read` around the two handlers it invokes. Modes: `error` (a 5xx, or the
function raising), `throttle` (S3's 503 SlowDown, DynamoDB's ThrottlingException, Lambda's 429), and
`timeout` (S3 or DynamoDB hold the request without an answer until the fault is cleared, then 503).
Nothing here is imported by the Lambda code: the functions behave as deployed, the world around them
fails.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

FAULT_PATH = "/_local/faults"
TARGETS = ("s3", "dynamodb", "publisher", "read")
MODES = ("error", "throttle", "timeout")
POLL_SECONDS = 0.2
# A held request is answered at the latest after this long, fault or not (the server's thread is freed).
MAX_HOLD_SECONDS = 120.0


class FaultError(ValueError):
    """A fault request named an unknown target or mode."""


class InjectedFault(RuntimeError):
    """The failure a switched-on function fault raises (the trigger sees a function error)."""


class FaultBoard:
    """The switches and how many calls each one refused; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.active: dict[str, str] = {}
        self.refused: dict[str, int] = dict.fromkeys(TARGETS, 0)

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        for target, mode in changes.items():
            if target not in TARGETS:
                raise FaultError(f"unknown fault target {target!r} (one of {', '.join(TARGETS)})")
            if mode is not None and mode not in MODES:
                raise FaultError(f"unknown fault mode {mode!r} for {target} (one of {', '.join(MODES)} or null)")
        with self._changed:
            for target, mode in changes.items():
                if mode is None:
                    self.active.pop(target, None)
                else:
                    self.active[target] = mode
            self._changed.notify_all()
        return self.snapshot()

    def clear(self) -> dict[str, Any]:
        return self.update(dict.fromkeys(TARGETS))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"active": dict(self.active), "refused": dict(self.refused)}

    def mode(self, target: str) -> str | None:
        return self.active.get(target)

    def count(self, target: str) -> None:
        with self._lock:
            self.refused[target] += 1

    def hold(self, target: str, mode: str) -> None:
        """Block while `target` stays in `mode` (at most MAX_HOLD_SECONDS)."""
        deadline = time.monotonic() + MAX_HOLD_SECONDS
        with self._changed:
            while self.active.get(target) == mode and time.monotonic() < deadline:
                self._changed.wait(deadline - time.monotonic())


# --- the emulator's side ------------------------------------------------------------------------

BOARD = FaultBoard()


def service_of(environ: dict[str, Any]) -> str | None:
    """Which faultable service a request to the emulator is for: DynamoDB (and its stream) by the
    X-Amz-Target header, S3 by the signing scope of its Authorization header or presigned URL."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith(("DynamoDB_", "DynamoDBStreams_")):
        return "dynamodb"
    scope = environ.get("HTTP_AUTHORIZATION", "") or environ.get("QUERY_STRING", "")
    if "/s3/aws4_request" in scope or "%2Fs3%2Faws4_request" in scope:
        return "s3"
    return None


def _refusal(service: str, mode: str) -> tuple[str, str, bytes]:
    """(status line, content type, body) of the answer a refused call gets, as the service words it."""
    if service == "dynamodb":
        if mode == "throttle":
            body = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                    "message": "Rate of requests exceeds the allowed throughput (local fault)"}
            return "400 Bad Request", "application/x-amz-json-1.0", json.dumps(body).encode()
        body = {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError",
                "message": "Internal server error (local fault)"}
        return "500 Internal Server Error", "application/x-amz-json-1.0", json.dumps(body).encode()
    code, status = ("SlowDown", "503 Slow Down") if mode != "error" else ("InternalError", "500 Internal Server Error")
    body_text = (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
                 "<Message>local fault</Message></Error>")
    return status, "application/xml", body_text.encode()


def _control(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    method = environ.get("REQUEST_METHOD", "GET")
    status = "200 OK"
    try:
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            changes = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if not isinstance(changes, dict):
                raise FaultError("the body must be a JSON object of target: mode")
            document = BOARD.update(changes)
        elif method == "DELETE":
            document = BOARD.clear()
        else:
            document = BOARD.snapshot()
    except (FaultError, ValueError) as exc:
        status, document = "400 Bad Request", {"error": str(exc)}
    body = json.dumps(document).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def faulty(app: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a WSGI app (moto's dispatcher) with the control path and the S3 and DynamoDB faults."""

    def call(environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == FAULT_PATH:
            return _control(environ, start_response)
        if BOARD.active:
            service = service_of(environ)
            mode = BOARD.mode(service) if service else None
            if service and mode:
                BOARD.count(service)
                if mode == "timeout":
                    BOARD.hold(service, mode)
                status, content_type, body = _refusal(service, "throttle" if mode == "timeout" else mode)
                start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
                return [body]
        return app(environ, start_response)

    return call


# --- anyone's side: set and read the board over HTTP -------------------------------------------

def _request(endpoint: str, method: str, changes: dict[str, Any] | None = None,
             timeout: float = 5.0) -> dict[str, Any]:
    data = json.dumps(changes).encode() if changes is not None else None
    request = urllib.request.Request(endpoint.rstrip("/") + FAULT_PATH, data=data, method=method,  # noqa: S310
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the local emulator
        return dict(json.loads(response.read()))


def set_faults(endpoint: str, **changes: str | None) -> dict[str, Any]:
    """Switch faults on (`s3="error"`) or off (`s3=None`) in the emulator at `endpoint`."""
    return _request(endpoint, "POST", changes)


def clear_faults(endpoint: str) -> dict[str, Any]:
    return _request(endpoint, "DELETE")


def read_faults(endpoint: str, timeout: float = 5.0) -> dict[str, Any]:
    return _request(endpoint, "GET", timeout=timeout)


# --- the stack process's side: the two functions it invokes --------------------------------------

class FaultSwitch:
    """The board as the stack process sees it: fetched at most every POLL_SECONDS, off if unreadable."""

    def __init__(self, endpoint: str, poll_seconds: float = POLL_SECONDS) -> None:
        self.endpoint = endpoint
        self.poll_seconds = poll_seconds
        self._active: dict[str, str] = {}
        self._at = float("-inf")
        self._lock = threading.Lock()

    def mode(self, target: str) -> str | None:
        # One caller refreshes; the others use what was last read instead of queueing behind it.
        if time.monotonic() - self._at >= self.poll_seconds and self._lock.acquire(blocking=False):
            try:
                self._at = time.monotonic()
                try:
                    self._active = dict(read_faults(self.endpoint, timeout=1.0)["active"])
                except (OSError, ValueError, KeyError):
                    self._active = {}
            finally:
                self._lock.release()
        return self._active.get(target)


Handler = Callable[[dict[str, Any], Any], Any]


def wrap_publisher(handler: Handler, switch: FaultSwitch) -> Handler:
    """The publisher as the trigger invokes it; with `publisher` on, every invocation fails."""

    def publisher(event: dict[str, Any], context: Any) -> Any:
        if switch.mode("publisher"):
            raise InjectedFault("local fault: the publisher fails every invocation")
        return handler(event, context)

    return publisher


# What the Lambda service answers a function URL when the function is throttled.
THROTTLED = {"statusCode": 429, "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
             "body": json.dumps({"Message": "Rate Exceeded. (local fault)"})}


def wrap_read(handler: Handler | None, switch: FaultSwitch) -> Handler | None:
    """The read function as the edge invokes it; `error` makes it raise, `throttle` answers 429."""
    if handler is None:
        return None

    def read(event: dict[str, Any], context: Any) -> Any:
        mode = switch.mode("read")
        if mode == "throttle":
            return dict(THROTTLED)
        if mode:
            raise InjectedFault("local fault: the read function fails")
        return handler(event, context)

    return read
