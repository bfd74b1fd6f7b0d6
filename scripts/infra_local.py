"""`make infra-local`: apply infra/ to the AWS emulator (moto server) and print the outputs."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
INFRA = ROOT / "infra"
LOCAL_OVERRIDES = INFRA / "local"
EDGE_CONTRACT = ROOT / "publisher" / "core" / "edge_contract.json"
PROVIDER_MIRROR = Path("/opt/tf-plugins")
DEFAULT_ENDPOINT = "http://127.0.0.1:4566"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
TABLE = "llm_scores"
TABLE_ADDRESS = "aws_dynamodb_table.this"


def terraform_env(scratch: Path) -> dict[str, str]:
    """Environment for terraform: the offline provider mirror when this machine has one."""
    env = dict(os.environ)
    if PROVIDER_MIRROR.is_dir():
        scratch.mkdir(parents=True, exist_ok=True)
        rc = scratch / "terraformrc"
        rc.write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path    = "{PROVIDER_MIRROR}"\n'
            '    include = ["registry.terraform.io/*/*"]\n  }\n'
            "}\n"
        )
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    elif env.get("TF_CLI_CONFIG_FILE") and not Path(env["TF_CLI_CONFIG_FILE"]).exists():
        # A dangling config path only produces a warning on every command; use the defaults.
        env.pop("TF_CLI_CONFIG_FILE")
    env.setdefault("TF_IN_AUTOMATION", "1")
    return env


def listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def start_emulator(host: str, port: int, log: Path) -> int:
    """Start a detached emulator; it outlives this script so the stack stays inspectable."""
    from publisher.local.emulator import start_emulator as start

    log.parent.mkdir(parents=True, exist_ok=True)
    try:
        emulator = start(host, port, reuse=False, log_path=log, detach=True)
    except RuntimeError as exc:
        raise SystemExit(f"infra-local: {exc}; see {log}") from exc
    assert emulator.process is not None
    return emulator.process.pid


def prepare_workdir(workdir: Path) -> None:
    """Production files plus the emulator overrides, in a scratch copy (infra/ stays untouched)."""
    workdir.mkdir(parents=True, exist_ok=True)
    for old in [*workdir.glob("*.tf"), *workdir.glob("*.tfvars"), *workdir.glob("*.json")]:
        old.unlink()
    # *.json: data the configuration reads with file() (slo.json, written by scripts/slo_config.py).
    for src in sorted([*INFRA.glob("*.tf"), *INFRA.glob("*.json")]):
        shutil.copy2(src, workdir / src.name)
    lock = INFRA / ".terraform.lock.hcl"
    if lock.exists():
        shutil.copy2(lock, workdir / lock.name)
    # The module every function instantiates (infra/modules/function).
    shutil.rmtree(workdir / "modules", ignore_errors=True)
    shutil.copytree(INFRA / "modules", workdir / "modules")
    for src in sorted(LOCAL_OVERRIDES.iterdir()):
        if src.suffix in (".tf", ".tfvars"):
            shutil.copy2(src, workdir / src.name)


def _emulator_client(endpoint: str, service: str) -> object | None:
    try:
        import boto3
    except ImportError:
        return None
    # The emulator takes any key; never send a real profile's.
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # noqa: S106


def emulator_table_id(endpoint: str) -> str | None:
    """The import id of `make run`'s table, if the emulator holds one."""
    client: Any = _emulator_client(endpoint, "dynamodb")
    return TABLE if client is not None and TABLE in client.list_tables().get("TableNames", []) else None


def emulator_queue_id(endpoint: str) -> str | None:
    """The import id (URL) of `make run`'s dead-letter queue, which carries infra/'s name."""
    from publisher.local.resources import LOCAL_DLQ_NAME

    client: Any = _emulator_client(endpoint, "sqs")
    if client is None:
        return None
    try:
        return str(client.get_queue_url(QueueName=LOCAL_DLQ_NAME)["QueueUrl"])
    except client.exceptions.QueueDoesNotExist:
        return None


# What `make run` creates under the names infra/ declares: Terraform address -> its import id, if present.
SHARED_WITH_MAKE_RUN: dict[str, Callable[[str], str | None]] = {
    TABLE_ADDRESS: emulator_table_id,
    "aws_sqs_queue.publisher_dlq": emulator_queue_id,
}


def adoption_marker(workdir: Path, address: str) -> Path:
    return workdir / f"adopted-{address}"


def run(cmd: list[str], cwd: Path, env: dict[str, str], quiet: bool) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, text=True, capture_output=True)
    if proc.returncode != 0 or not quiet:
        sys.stderr.write(proc.stdout[-20000:])
        sys.stderr.write(proc.stderr[-20000:])
    if proc.returncode != 0:
        raise SystemExit(f"infra-local: {' '.join(cmd[:2])} failed with exit code {proc.returncode}")
    return proc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL") or DEFAULT_ENDPOINT,
                        help="emulator URL (default: $AWS_ENDPOINT_URL or %(default)s)")
    parser.add_argument("--workdir", type=Path, default=ROOT / ".local" / "infra-local",
                        help="scratch Terraform directory with the local state (default: .local/infra-local)")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="where `make package` put the zips")
    parser.add_argument("--fresh", action="store_true", help="forget the previous local state first")
    parser.add_argument("--destroy", action="store_true", help="destroy the local stack instead of applying")
    parser.add_argument("--plan", action="store_true",
                        help="plan against the existing local state instead of applying; print the plan as JSON")
    parser.add_argument("--target", action="append", default=[], metavar="ADDRESS",
                        help="with --plan: plan only these resources (and what they depend on)")
    parser.add_argument("--quiet", action="store_true", help="print Terraform's output only on failure")
    parser.add_argument("--no-start", action="store_true", help="fail instead of starting an emulator")
    args = parser.parse_args(argv)

    terraform = shutil.which("terraform")
    if terraform is None:
        raise SystemExit("infra-local: terraform is not on PATH (https://developer.hashicorp.com/terraform/install)")

    url = urlparse(args.endpoint)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    workdir = args.workdir.resolve()
    state = workdir / "terraform.tfstate"
    if not listening(host, port):
        if args.no_start or host not in LOOPBACK:
            raise SystemExit(f"infra-local: nothing listens at {args.endpoint}")
        pid = start_emulator(host, port, workdir / "moto.log")
        print(f"infra-local: started moto server pid {pid} at {args.endpoint} (stop it with: kill {pid})",
              file=sys.stderr)
        args.fresh = True  # a new emulator is empty: the old state describes nothing
    if args.fresh:
        for stale in (state, *workdir.glob("adopted-*")):
            stale.unlink(missing_ok=True)

    zips = {name: (args.dist / f"{name}.zip").resolve() for name in ("publisher", "read_api", "canary")}
    missing = [str(z) for z in zips.values() if not z.exists()]
    if missing:
        raise SystemExit(f"infra-local: missing {', '.join(missing)}: run `make package` first")

    prepare_workdir(workdir)
    env = terraform_env(workdir)
    # The emulator accepts any credentials; never let a real profile's keys reach it.
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": args.endpoint,
    })
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(var, None)

    tf_vars = [
        f"-var=local_endpoint_url={args.endpoint}",
        f"-var=publisher_zip_path={zips['publisher']}",
        f"-var=read_zip_path={zips['read_api']}",
        f"-var=canary_zip_path={zips['canary']}",
        # The scratch copy does not sit beside publisher/: name the edge contract it reads.
        f"-var=edge_contract_path={EDGE_CONTRACT}",
    ]
    started = time.monotonic()
    run([terraform, "init", "-input=false", "-no-color"], workdir, env, quiet=True)

    # A table or queue this state does not know is someone else's, typically `make run`'s (it names
    # them as infra/ does). Adopt them the way production adopts the PoC table (terraform import), and
    # leave the stream trigger off: moto hands stream records to a mapped function (and drops them)
    # instead of keeping them for the local stack's own poller. `--destroy` gives them back.
    managed: list[str] = []
    if state.exists():
        managed = run([terraform, "state", "list", "-no-color"], workdir, env, quiet=True).stdout.split()
    legacy = workdir / "adopted-table"  # the marker's name before the queue was adopted too
    if legacy.exists():
        legacy.rename(adoption_marker(workdir, TABLE_ADDRESS))
    for address, find in SHARED_WITH_MAKE_RUN.items():
        marker = adoption_marker(workdir, address)
        if args.destroy or address in managed or (import_id := find(args.endpoint)) is None:
            continue
        print(f"infra-local: adopting the emulator's existing {import_id} as {address} (terraform import)",
              file=sys.stderr)
        run([terraform, "import", "-input=false", "-no-color", *tf_vars, address, import_id],
            workdir, env, quiet=True)
        marker.touch()
    if adoption_marker(workdir, TABLE_ADDRESS).exists():
        print("infra-local: the adopted table's stream trigger stays off so the stack already reading it "
              "keeps its records", file=sys.stderr)
        tf_vars.append("-var=enable_stream_trigger=false")
    if args.destroy:
        for address in SHARED_WITH_MAKE_RUN:
            if (marker := adoption_marker(workdir, address)).exists():
                run([terraform, "state", "rm", "-no-color", address], workdir, env, quiet=True)
                marker.unlink()

    if args.plan:
        plan = workdir / "local.tfplan"
        targets = [f"-target={address}" for address in args.target]
        run([terraform, "plan", "-input=false", "-no-color", f"-out={plan}", *targets, *tf_vars], workdir, env,
            args.quiet)
        print(run([terraform, "show", "-json", "-no-color", str(plan)], workdir, env, quiet=True).stdout)
        return 0
    action = "destroy" if args.destroy else "apply"
    run([terraform, action, "-auto-approve", "-input=false", "-no-color", *tf_vars], workdir, env, args.quiet)
    elapsed = time.monotonic() - started
    if args.destroy:
        print(f"infra-local: destroyed in {elapsed:.0f} s", file=sys.stderr)
        return 0
    out = run([terraform, "output", "-json", "-no-color"], workdir, env, quiet=True)
    outputs = {name: value["value"] for name, value in json.loads(out.stdout).items()}
    print(json.dumps(outputs, indent=2, sort_keys=True))
    print(f"infra-local: applied to {args.endpoint} in {elapsed:.0f} s (state: {state})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
