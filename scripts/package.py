"""Build the Lambda zips deterministically from the hash lock, each with a CycloneDX SBOM (dist/*.cdx.json)."""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent

# What the zips bundle, pinned with sha256 hashes (requirements/lambda.txt, written by `make lock`
# for python3.13 on arm64; boto3 comes from the Lambda runtime). Every wheel is fetched for the
# Lambda platform, never the build machine's, and installed with pip's hash checking.
LOCK = ROOT / "requirements" / "lambda.txt"
# Provided by the AWS-managed Powertools layer when the zips are built for it.
LAYER_PROVIDED = frozenset({"aws-lambda-powertools", "jmespath", "aws-xray-sdk", "wrapt"})
PLATFORM = "manylinux2014_aarch64"
PYTHON_VERSION = "3.13"

# Fixed metadata: two builds of the same tree give byte-identical zips.
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = stat.S_IFREG | 0o644
SKIP_DIRS = frozenset({"__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache"})
SKIP_SUFFIXES = (".pyc", ".pyo")
PACKAGE = ROOT / "publisher"
# Each function's zip, built by inclusion: its own subpackage of publisher/, and of the shared core
# exactly the modules that subpackage imports (followed through the core), each with its data file
# (edge_contract.py reads edge_contract.json). Nothing else of publisher/ can enter a zip: not
# another function's subpackage, not the local stack, not the operator commands; an import of one
# of those fails the build.
FUNCTIONS = {"publisher": "publish", "read_api": "read", "canary": "canary"}
CORE = "core"


class Pin(NamedTuple):
    name: str
    version: str
    hashes: tuple[str, ...]

    def requirement(self) -> str:
        return " ".join([f"{self.name}=={self.version}", *(f"--hash=sha256:{h}" for h in self.hashes)])


def read_lock(path: Path = LOCK) -> list[Pin]:
    """The pins of a hash lock (`name==version` followed by `--hash=sha256:...` lines)."""
    pins: list[Pin] = []
    current: tuple[str, str, list[str]] | None = None
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip().rstrip("\\").strip()
        if not line:
            continue
        if line.startswith("--hash=sha256:"):
            if current is None:
                raise SystemExit(f"package: {path}: a hash before any requirement")
            current[2].append(line.removeprefix("--hash=sha256:"))
            continue
        name, sep, version = line.partition("==")
        if not sep or not version or " " in version:
            raise SystemExit(f"package: {path}: not an exact pin: {raw.strip()!r}")
        if current:
            pins.append(Pin(current[0], current[1], tuple(current[2])))
        current = (name.lower(), version, [])
    if current:
        pins.append(Pin(current[0], current[1], tuple(current[2])))
    unhashed = [p.name for p in pins if not p.hashes]
    if unhashed:
        raise SystemExit(f"package: {path}: no sha256 hash for {', '.join(unhashed)}")
    return pins


def _skipped(parts: Iterable[str]) -> bool:
    parts = list(parts)
    if any(part in SKIP_DIRS or part.startswith(".") for part in parts):
        return True
    return parts[-1].endswith(SKIP_SUFFIXES)


def _pip(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], check=True)


def install_bundle(pins: list[Pin], cache: Path, target: Path) -> None:
    """pip downloads the Lambda-platform wheels into `cache` and installs them into `target`, both
    times with --require-hashes: a wheel whose bytes differ from the lock is refused, cached or not."""
    cache.mkdir(parents=True, exist_ok=True)
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    if not pins:
        return
    requirements = target.parent / f"{target.name}.requirements.txt"
    requirements.write_text("".join(f"{pin.requirement()}\n" for pin in pins))
    platform = ["--only-binary=:all:", "--platform", PLATFORM, "--python-version", PYTHON_VERSION,
                "--implementation", "cp"]
    _pip("download", "--quiet", "--require-hashes", "--no-deps", *platform, "--dest", str(cache),
         "-r", str(requirements))
    _pip("install", "--quiet", "--require-hashes", "--no-deps", "--no-index", "--find-links", str(cache),
         "--no-compile", *platform, "--target", str(target), "-r", str(requirements))


def _module_file(dotted: str) -> Path | None:
    """publisher.a.b -> publisher/a/b.py or publisher/a/b/__init__.py (None: not a module of ours)."""
    path = ROOT.joinpath(*dotted.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path) -> Iterator[str]:
    """The publisher.* modules a file imports, lazily or not (`from publisher.core import aws` names
    the module publisher.core.aws)."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.split(".")[0] == "publisher")
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "publisher":
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names if _module_file(f"{node.module}.{a.name}"))


def function_files(subpackage: str) -> list[Path]:
    """What a function's zip carries of publisher/: its subpackage whole, and the core modules it
    imports, followed through the core, with their data files. An import outside the two is a
    build error."""
    own = PACKAGE / subpackage
    if not (own / "__init__.py").is_file():
        raise SystemExit(f"package: {own} is not a subpackage of publisher/")
    files = {p for p in own.rglob("*") if p.is_file() and not _skipped(p.relative_to(PACKAGE).parts)}
    files |= {PACKAGE / "__init__.py", PACKAGE / CORE / "__init__.py"}
    pending = [p for p in files if p.suffix == ".py"]
    while pending:
        source = pending.pop()
        for dotted in _imports(source):
            parts = dotted.split(".")
            if parts[:2] not in (["publisher", subpackage], ["publisher", CORE]) and len(parts) > 1:
                raise SystemExit(f"package: {source.relative_to(ROOT)} imports {dotted}: the {subpackage} "
                                 f"function's zip carries only publisher/{subpackage}/ and publisher/{CORE}/")
            module = _module_file(dotted)
            if module is not None and module not in files:
                files.add(module)
                pending.append(module)
    data = {p.with_suffix(".json") for p in files if p.parent == PACKAGE / CORE}
    return sorted(files | {p for p in data if p.is_file()})


def file_entries(paths: Iterable[Path]) -> Iterator[tuple[str, bytes]]:
    for path in paths:
        yield path.relative_to(ROOT).as_posix(), path.read_bytes()


def tree_entries(source: Path, prefix: str, exclude: tuple[str, ...] = ()) -> Iterator[tuple[str, bytes]]:
    if not source.is_dir():
        raise SystemExit(f"package: {source} does not exist")
    for path in source.rglob("*"):
        if not path.is_file():
            continue
        rel = path.relative_to(source).parts
        if _skipped(rel) or rel[0] in exclude:
            continue
        yield "/".join((prefix, *rel) if prefix else rel), path.read_bytes()


def without_left_out(record: bytes) -> bytes:
    """A wheel's RECORD without the console scripts the zip leaves out: pip writes the build
    interpreter's path into their shebang, so their hashes (and the zip's bytes) would depend on
    where the repository was checked out."""
    lines = record.decode().splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith(("bin/", "../"))).encode()


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
    pins = [p for p in read_lock() if not (powertools_layer and p.name in LAYER_PROVIDED)]
    site = out / ".bundle" / "site-packages"
    install_bundle(pins, wheel_cache, site)

    def deps() -> Iterator[tuple[str, bytes]]:
        # What pip installed, console scripts aside (the functions import, they never exec).
        for name, data in tree_entries(site, "", ("bin",)):
            yield name, (without_left_out(data) if name.endswith(".dist-info/RECORD") else data)

    code = {name: file_entries(function_files(subpackage)) for name, subpackage in FUNCTIONS.items()}
    targets = {
        # The publisher renders the site: templates and static assets travel at site/ in the root.
        "publisher": ([
            code["publisher"],
            tree_entries(ROOT / "site" / "templates", "site/templates"),
            tree_entries(ROOT / "site" / "static", "site/static"),
            deps(),
        ], pins),
        # The read API needs only the standard library and the runtime's botocore: a smaller zip
        # is less to fetch and unpack on a cold start.
        "read_api": ([code["read_api"]], []),
        # The canary: standard library and the runtime's botocore only.
        "canary": ([code["canary"]], []),
    }
    built: dict[str, Path] = {}
    for name, (sources, bundled) in targets.items():
        path = out / f"{name}.zip"
        write_zip(path, (entry for source in sources for entry in source))
        write_sbom(name, path, bundled, out / f"{name}.cdx.json", out / ".bundle")
        built[name] = path
    shutil.rmtree(out / ".bundle", ignore_errors=True)
    return built


def write_sbom(name: str, zip_path: Path, pins: list[Pin], target: Path, scratch: Path) -> None:
    """A CycloneDX 1.6 SBOM of one zip, by cyclonedx-py from the pins the zip bundles; the root
    component is the zip itself (name and sha256). Reproducible: no serial number or timestamp."""
    scratch.mkdir(parents=True, exist_ok=True)
    requirements = scratch / f"{name}.sbom-requirements.txt"
    requirements.write_text("".join(f"{pin.requirement()}\n" for pin in pins))
    subprocess.run([sys.executable, "-m", "cyclonedx_py", "requirements", "--pyproject", str(ROOT / "pyproject.toml"),
                    "--mc-type", "application", "--sv", "1.6", "--of", "JSON", "--output-reproducible",
                    "-o", str(target), str(requirements)], check=True, capture_output=True)
    bom = json.loads(target.read_text())
    component = bom["metadata"]["component"]
    component["name"] = f"{component['name']}-{name.replace('_', '-')}"
    component["description"] = f"AWS Lambda deployment package {zip_path.name} (python3.13, arm64)"
    component["hashes"] = [{"alg": "SHA-256", "content": sha256(zip_path)}]
    target.write_text(json.dumps(bom, indent=2, sort_keys=True) + "\n")


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
