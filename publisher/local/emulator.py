"""The AWS emulator, started in one place: moto in server mode, every service on one port.

`start_emulator` starts (or finds) it for the local stack, the infra tests, `make infra-local` and
the benchmarks; `python -m publisher.local.emulator` is the server process itself, moto's with the
one gap this stack hits filled: moto keeps composite alarms (an alarm with an AlarmRule) and
describes them as CompositeAlarms, but routes no PutCompositeAlarm action, so Terraform's composite
alarms would retry forever. Its own PutMetricAlarm handler already reads every PutCompositeAlarm
parameter (AlarmName, AlarmRule, AlarmDescription, ActionsEnabled, AlarmActions, OKActions, Tags):
the action is routed to it. And moto checks an S3 PUT's If-Match / If-None-Match, then writes, with
no lock between: two racing conditional PUTs can both succeed, which S3 never allows and which the
publisher's races rely on. Each PUT of an object is made atomic (`fill_gaps`; the in-process
`mock_aws` of the tests calls it too). The server also carries the local stack's fault switches
(`install_faults`, local/faults.py): S3 and DynamoDB answer as they always do until a game day sets one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from typing import Any

LOCAL_REGION = "us-east-1"
DEFAULT_EMULATOR_PORT = 4566


def port_open(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes] | None, timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def local_aws_env(endpoint: str) -> dict[str, str]:
    """Environment for any AWS SDK to talk to the emulator. The keys are the emulator's dummies."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_REGION": LOCAL_REGION,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "testing"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "testing"),
        # botocore >= 1.44.4 resolves account-scoped endpoints that moto's streams do not serve.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }


@dataclass
class Emulator:
    host: str
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        stop_process(self.process, timeout=10)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_emulator(host: str = "127.0.0.1", port: int = DEFAULT_EMULATOR_PORT, timeout: float = 30.0,
                   reuse: bool = True, log_path: str | os.PathLike[str] | None = None,
                   detach: bool = False) -> Emulator:
    """Start moto's server on host:port, or reuse one already listening there. `detach`: in a session
    of its own, so it outlives the caller (`make infra-local` leaves the stack inspectable)."""
    if port_open(host, port):
        if reuse:
            return Emulator(host, port, None)
        raise RuntimeError(f"port {port} on {host} is already in use")
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, "-m", "publisher.local.emulator", "-H", host, "-p", str(port)],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=detach,
    )
    if log_path:
        out.close()  # type: ignore[union-attr]
    deadline = time.monotonic() + timeout
    url = f"http://{host}:{port}/moto-api/"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the emulator exited with code {process.returncode} (port {port})")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - a loopback URL we built
                return Emulator(host, port, process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"the emulator did not answer on {url} within {timeout:.0f} s")


_S3_PUT_LOCK = threading.Lock()


def fill_gaps() -> None:
    """moto's two gaps this stack hits (see the module's docstring); idempotent."""
    from moto.cloudwatch.responses import CloudWatchResponse
    from moto.s3.responses import S3Response

    if not hasattr(CloudWatchResponse, "put_composite_alarm"):
        CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm  # type: ignore[attr-defined]
    put_object = S3Response.put_object
    if not getattr(put_object, "atomic", False):

        def atomic_put_object(self: Any) -> Any:
            with _S3_PUT_LOCK:  # the condition check and the write, as one step
                return put_object(self)

        atomic_put_object.atomic = True  # type: ignore[attr-defined]
        S3Response.put_object = atomic_put_object  # type: ignore[method-assign]


def install_faults() -> None:
    """Route every request of the server through the fault switches (local/faults.py, all off until
    set at /_local/faults); idempotent."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    from publisher.local.faults import faulty

    if getattr(DomainDispatcherApplication.__call__, "faulty", False):
        return
    original = DomainDispatcherApplication.__call__

    def dispatch(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        return faulty(lambda e, s: original(self, e, s))(environ, start_response)

    dispatch.faulty = True  # type: ignore[attr-defined]
    DomainDispatcherApplication.__call__ = dispatch  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_main

    fill_gaps()
    install_faults()
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
