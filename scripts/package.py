"""Build the Lambda deployment zips deterministically: dist/publisher.zip, dist/read_api.zip, dist/canary.zip."""

from __future__ import annotations

import argparse
import hashlib
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Exact pins for what the zips bundle (boto3 comes from the Lambda runtime). Keep them inside the
# ranges of pyproject.toml's [project] dependencies; markupsafe is the only compiled one, so every
# wheel is fetched for the Lambda platform (python3.13, arm64), never the build machine's.
REQUIREMENTS: tuple[str, ...] = (
    "aws-lambda-powertools==3.37.0",
    "jmespath==1.1.0",
    "typing-extensions==4.16.0",
    "jinja2==3.1.6",
    "markupsafe==3.0.4",
    # Powertools' Tracer needs the X-Ray SDK once tracing is on (it is, in Lambda); wrapt is its
    # only dependency outside the runtime. The AWS-managed layer ships both.
    "aws-xray-sdk==2.15.0",
    "wrapt==2.5.2",
)
# Provided by the AWS-managed Powertools layer when the zips are built for it.
LAYER_PROVIDED = frozenset({"aws-lambda-powertools", "jmespath", "aws-xray-sdk", "wrapt"})

PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.13"

# Fixed metadata: two builds of the same tree give byte-identical zips.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = stat.S_IFREG | 0o644
SKIP_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
SKIP_SUFFIXES = (".pyc", ".pyo")
# The canary's zip: its own subpackage and the few shared modules it imports, neither Lambda's code.
CANARY_CORE = ("__init__.py", "aws.py", "config.py", "heartbeat.py", "slo.py")


def _dist_name(requirement: str) -> str:
    return requirement.split("==", 1)[0].lower()


def _wheel_prefix(requirement: str) -> str:
    name, version = requirement.split("==", 1)
    return f"{name.replace('-', '_').lower()}-{version}-"


def _skipped(parts: Iterable[str]) -> bool:
    parts = list(parts)
    if any(part in SKIP_DIRS or part.startswith(".") for part in parts):
        return True
    return parts[-1].endswith(SKIP_SUFFIXES)


def fetch_wheels(requirements: Iterable[str], cache: Path) -> list[Path]:
    """Wheels for the Lambda platform, from the cache or PyPI (`pip download`, pinned, no deps)."""
    requirements = list(requirements)
    cache.mkdir(parents=True, exist_ok=True)

    def cached() -> dict[str, Path]:
        found: dict[str, Path] = {}
        for req in requirements:
            matches = sorted(p for p in cache.glob("*.whl") if p.name.lower().startswith(_wheel_prefix(req)))
            if matches:
                found[req] = matches[0]
        return found

    have = cached()
    missing = [req for req in requirements if req not in have]
    if missing:
        cmd = [
            sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
            "--no-deps", "--only-binary=:all:", "--platform", PLATFORM,
            "--python-version", PYTHON_VERSION, "--implementation", "cp",
            "--dest", str(cache), *missing,
        ]
        subprocess.run(cmd, check=True)
        have = cached()
        still = [req for req in requirements if req not in have]
        if still:
            raise SystemExit(f"package: no {PLATFORM} cp313 wheel for {', '.join(still)}")
    return [have[req] for req in requirements]


def wheel_entries(wheel: Path) -> Iterator[tuple[str, bytes]]:
    """(path in the zip, bytes) of what installing the wheel would put in site-packages."""
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename
            parts = name.split("/")
            if ".data" in parts[0] and parts[0].endswith(".data"):
                # name-ver.data/{purelib,platlib}/... installs at the root; scripts/headers don't ship.
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue
                parts = parts[2:]
            if _skipped(parts):
                continue
            yield "/".join(parts), zf.read(info)


def file_entries(source: Path, prefix: str, names: Iterable[str]) -> Iterator[tuple[str, bytes]]:
    for name in names:
        path = source / name
        if not path.is_file():
            raise SystemExit(f"package: {path} does not exist")
        yield f"{prefix}/{name}", path.read_bytes()


def tree_entries(source: Path, prefix: str, exclude: tuple[str, ...] = ()) -> Iterator[tuple[str, bytes]]:
    if not source.is_dir():
        raise SystemExit(f"package: {source} does not exist")
    for path in source.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(source).parts
        if _skipped(rel) or rel[0] in exclude:
            continue
        yield "/".join((prefix, *rel)), path.read_bytes()


def write_zip(target: Path, entries: Iterable[tuple[str, bytes]]) -> None:
    files: dict[str, bytes] = {}
    for name, data in entries:
        if name in files and files[name] != data:
            raise SystemExit(f"package: two different files for {name} in {target.name}")
        files[name] = data
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = FILE_MODE << 16
            zf.writestr(info, files[name], compresslevel=9)
    tmp.replace(target)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build(out: Path, wheel_cache: Path, powertools_layer: bool) -> dict[str, Path]:
    requirements = [r for r in REQUIREMENTS if not (powertools_layer and _dist_name(r) in LAYER_PROVIDED)]
    wheels = fetch_wheels(requirements, wheel_cache)

    def deps() -> Iterator[tuple[str, bytes]]:
        for wheel in wheels:
            yield from wheel_entries(wheel)

    package = ROOT / "publisher"
    # The local stack (emulator, poller, edge) and the operator commands never run in Lambda, and the
    # canary ships alone.
    lambda_only = ("local", "ops", "canary")
    targets = {
        # The publisher renders the site: templates and static assets travel at site/ in the root.
        "publisher": [
            tree_entries(package, "publisher", lambda_only),
            tree_entries(ROOT / "site" / "templates", "site/templates"),
            tree_entries(ROOT / "site" / "static", "site/static"),
            deps(),
        ],
        # The read API needs only the standard library and the runtime's botocore: a smaller zip
        # is less to fetch and unpack on a cold start.
        "read_api": [tree_entries(package, "publisher", lambda_only)],
        # The canary: standard library and the runtime's botocore only.
        "canary": [file_entries(package, "publisher", CANARY_CORE),
                   tree_entries(package / "canary", "publisher/canary")],
    }
    built: dict[str, Path] = {}
    for name, sources in targets.items():
        path = out / f"{name}.zip"
        write_zip(path, (entry for source in sources for entry in source))
        built[name] = path
    return built


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "dist", help="output directory (default: dist/)")
    parser.add_argument(
        "--wheel-cache", type=Path, default=ROOT / ".local" / "wheels",
        help="where downloaded Lambda-platform wheels are kept (default: .local/wheels)",
    )
    parser.add_argument(
        "--powertools-layer", action="store_true",
        help="leave Powertools out (the function uses the AWS-managed layer: var.powertools_layer_arn)",
    )
    args = parser.parse_args(argv)
    for name, path in build(args.out, args.wheel_cache, args.powertools_layer).items():
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  "
              f"{path.stat().st_size} bytes  sha256={sha256(path)}  ({name})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
