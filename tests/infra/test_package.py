"""`make package`: deterministic zips with the handlers, the site assets and aarch64 wheels."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from .conftest import REPO, load_script

pytestmark = pytest.mark.infra


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Path]]:
    package = load_script("package")
    cache = REPO / ".local" / "wheels"
    return [package.build(tmp_path_factory.mktemp(f"dist{i}"), cache, powertools_layer=False)
            for i in range(2)]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sbom(zip_path: Path) -> dict[str, Any]:
    return json.loads(zip_path.with_suffix(".cdx.json").read_text())


def test_two_builds_write_byte_identical_sboms(builds: list[dict[str, Path]]) -> None:
    first, second = builds
    for name in first:
        assert sha256(first[name].with_suffix(".cdx.json")) == sha256(second[name].with_suffix(".cdx.json"))


@pytest.mark.parametrize("name", ["publisher", "read_api", "canary"])
def test_each_zip_has_a_valid_cyclonedx_sbom_naming_the_zip(builds: list[dict[str, Path]], name: str) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = builds[0][name].with_suffix(".cdx.json").read_text()
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert errors is None, errors
    root = json.loads(text)["metadata"]["component"]
    assert root["hashes"] == [{"alg": "SHA-256", "content": sha256(builds[0][name])}]
    assert root["name"].endswith(name.replace("_", "-"))


def test_publisher_sbom_lists_what_the_zip_bundles_with_versions(builds: list[dict[str, Path]]) -> None:
    package = load_script("package")
    locked = {pin.name: pin.version for pin in package.read_lock()}
    components = {c["name"]: c for c in sbom(builds[0]["publisher"])["components"]}
    assert components["jinja2"]["version"] == locked["jinja2"]
    assert components["aws-lambda-powertools"]["version"] == locked["aws-lambda-powertools"]
    assert components["jinja2"]["purl"] == f"pkg:pypi/jinja2@{locked['jinja2']}"
    with zipfile.ZipFile(builds[0]["publisher"]) as zf:
        installed = {n.split("/")[0].removesuffix(".dist-info") for n in zf.namelist() if ".dist-info/" in n}
    in_zip = {d.rsplit("-", 1)[0].replace("_", "-").lower(): d.rsplit("-", 1)[1] for d in installed}
    assert in_zip == {name: c["version"] for name, c in components.items()}
    assert sbom(builds[0]["read_api"]).get("components", []) == []


def test_the_lock_pins_every_bundled_package_with_a_hash_inside_pyproject_ranges() -> None:
    import tomllib

    from packaging.requirements import Requirement

    package = load_script("package")
    pins = {pin.name: pin for pin in package.read_lock()}
    assert all(len(h) == 64 for pin in pins.values() for h in pin.hashes)
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    for dependency in map(Requirement, project):
        assert dependency.name in pins, dependency.name
        assert pins[dependency.name].version in dependency.specifier, (dependency, pins[dependency.name])


def test_a_wheel_whose_bytes_differ_from_the_lock_is_refused(tmp_path: Path) -> None:
    import subprocess

    package = load_script("package")
    pin = next(p for p in package.read_lock() if p.name == "jinja2")
    forged = package.Pin(pin.name, pin.version, ("0" * 64,))
    with pytest.raises(subprocess.CalledProcessError):
        package.install_bundle([forged], REPO / ".local" / "wheels", tmp_path / "site")


def test_two_builds_are_byte_identical(builds: list[dict[str, Path]]) -> None:
    first, second = builds
    assert set(first) == {"publisher", "read_api", "canary"}
    for name in first:
        assert sha256(first[name]) == sha256(second[name]), name


def test_every_file_a_bundled_records_lists_is_in_the_zip(builds: list[dict[str, Path]]) -> None:
    """No RECORD names a file the zip lacks: the console scripts' hashes carried the build venv's
    path (their shebang), so the same commit zipped differently in two checkouts."""
    with zipfile.ZipFile(builds[0]["publisher"]) as zf:
        names = set(zf.namelist())
        records = [n for n in names if n.endswith(".dist-info/RECORD")]
        assert records, "the publisher zip bundles wheels: their RECORDs should be there"
        for record in records:
            listed = {line.split(",")[0] for line in zf.read(record).decode().splitlines() if line}
            missing = sorted(p for p in listed if p not in names and not p.endswith(".pyc"))
            assert not missing, f"{record} lists files the zip does not carry: {missing[:5]}"


@pytest.mark.parametrize("name", ["publisher", "read_api", "canary"])
def test_zip_entries_are_sorted_with_fixed_metadata(builds: list[dict[str, Path]], name: str) -> None:
    with zipfile.ZipFile(builds[0][name]) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


def test_read_zip_is_the_package_alone(builds: list[dict[str, Path]]) -> None:
    with zipfile.ZipFile(builds[0]["read_api"]) as zf:
        names = set(zf.namelist())
    assert "publisher/read/handler.py" in names
    assert {n.split("/")[0] for n in names} == {"publisher"}, "the read API bundles no dependency"
    assert not any(n.startswith("publisher/local/") for n in names), "the local stack stays out of Lambda"


@pytest.mark.parametrize("name", ["publisher", "read_api"])
def test_neither_function_zip_carries_the_canary_or_the_operator_commands(
    builds: list[dict[str, Path]], name: str
) -> None:
    with zipfile.ZipFile(builds[0][name]) as zf:
        names = set(zf.namelist())
    assert not any(n.startswith(("publisher/canary/", "publisher/ops/")) for n in names)


def test_canary_zip_is_its_subpackage_and_the_core_it_imports(builds: list[dict[str, Path]]) -> None:
    with zipfile.ZipFile(builds[0]["canary"]) as zf:
        names = set(zf.namelist())
    outside = {n for n in names if not n.startswith("publisher/canary/")}
    assert outside == {"publisher/__init__.py", "publisher/core/__init__.py", "publisher/core/aws.py",
                       "publisher/core/config.py", "publisher/core/heartbeat.py", "publisher/core/slo.py"}
    assert "publisher/canary/handler.py" in names and "publisher/canary/probe.py" in names


@pytest.mark.parametrize("name", ["publisher", "read_api", "canary"])
def test_each_zip_carries_its_own_subpackage_and_the_core_never_another_functions(
    builds: list[dict[str, Path]], name: str
) -> None:
    package = load_script("package")
    own = package.FUNCTIONS[name]
    with zipfile.ZipFile(builds[0][name]) as zf:
        code = {n for n in zf.namelist() if n.startswith("publisher/")}
    assert f"publisher/{own}/handler.py" in code
    rooms = {n.split("/")[1] for n in code if n.count("/") > 1}
    assert rooms == {own, "core"}, rooms
    others = set(package.FUNCTIONS.values()) - {own}
    assert len(others) == 2 and not any(n.startswith(tuple(f"publisher/{o}/" for o in others)) for n in code)


def test_the_terraform_handlers_point_into_each_zips_own_subpackage() -> None:
    from .iam_check import function_handlers

    package = load_script("package")
    handlers = function_handlers()
    assert set(handlers) == {"publisher", "read", "canary"}
    rooms = {function: handler.split(".")[1] for function, handler in handlers.items()}
    assert rooms == {"publisher": package.FUNCTIONS["publisher"], "read": package.FUNCTIONS["read_api"],
                     "canary": package.FUNCTIONS["canary"]}
    assert len(set(rooms.values())) == 3
    for handler in handlers.values():
        module, _, function = handler.rpartition(".")
        assert (REPO / (module.replace(".", "/") + ".py")).is_file() and function == "handler"


def test_an_import_of_another_functions_code_fails_the_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = load_script("package")
    root = tmp_path / "repo"
    for rel, text in {"publisher/__init__.py": "", "publisher/core/__init__.py": "",
                      "publisher/core/model.py": "", "publisher/publish/__init__.py": "",
                      "publisher/publish/state.py": "", "publisher/read/__init__.py": "",
                      "publisher/read/handler.py": ("from publisher.core import model\n"
                                                    "def handler(e, c):\n"
                                                    "    from publisher.publish import state\n")}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    monkeypatch.setattr(package, "ROOT", root)
    monkeypatch.setattr(package, "PACKAGE", root / "publisher")
    with pytest.raises(SystemExit, match="publisher/read/handler.py imports publisher.publish: the read function"):
        package.function_files("read")
    (root / "publisher/read/handler.py").write_text("from publisher.core import model\n")
    assert [p.relative_to(root).as_posix() for p in package.function_files("read")] == [
        "publisher/__init__.py", "publisher/core/__init__.py", "publisher/core/model.py",
        "publisher/read/__init__.py", "publisher/read/handler.py"]


@pytest.mark.parametrize("name", ["publisher"])
def test_zip_holds_handlers_and_runtime_dependencies(builds: list[dict[str, Path]], name: str) -> None:
    with zipfile.ZipFile(builds[0][name]) as zf:
        names = set(zf.namelist())
    assert "publisher/__init__.py" in names
    assert not any(n.startswith("publisher/local/") for n in names), "the local stack stays out of Lambda"
    assert any(n.startswith("aws_lambda_powertools/") for n in names)
    assert any(n.startswith("jinja2/") for n in names)
    assert not any(n.startswith(("boto3/", "botocore/")) for n in names), "boto3 comes from the runtime"
    # markupsafe's speedups must be the Lambda platform's build, never this machine's.
    compiled = [n for n in names if n.endswith(".so")]
    assert compiled and all("aarch64" in n for n in compiled), compiled


def test_only_the_publisher_carries_the_site(builds: list[dict[str, Path]]) -> None:
    with zipfile.ZipFile(builds[0]["publisher"]) as zf:
        publisher = set(zf.namelist())
    with zipfile.ZipFile(builds[0]["read_api"]) as zf:
        read = set(zf.namelist())
    templates = {f"site/templates/{p.name}" for p in (REPO / "site" / "templates").iterdir() if p.is_file()}
    assert templates and templates <= publisher
    assert any(n.startswith("site/static/") for n in publisher)
    assert not any(n.startswith("site/") for n in read)


# What the Lambda python runtime provides besides the standard library.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")


@pytest.mark.parametrize(("name", "module"), [("publisher", "publisher.publish.handler"),
                                              ("read_api", "publisher.read.handler"),
                                              ("canary", "publisher.canary.handler")])
def test_unpacked_zip_imports_its_handler_as_lambda_would(
    builds: list[dict[str, Path]], tmp_path: Path, name: str, module: str
) -> None:
    """Only the zip and the runtime's boto3 on the path, tracing on: what a cold start imports."""
    import os
    import subprocess
    import sys
    import sysconfig

    code = tmp_path / "task"
    with zipfile.ZipFile(builds[0][name]) as zf:
        zf.extractall(code)
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for entry in RUNTIME_PROVIDED:
        (runtime / entry).symlink_to(site_packages / entry)
    script = f"import {module} as h\n"
    if name == "publisher":  # it renders the page from the site/ it carries
        script += (
            "from publisher.publish.render import render_site\n"
            "objects = render_site(1, '2026-01-01T00:00:00Z',\n"
            "    {'a': {'model_name': 'a', 'provider': 'P', 'score': 1.0}})\n"
            "assert any(o.key == 'index.html' for o in objects)\n"
        )
    script += "print('ok', h.handler.__name__)\n"
    env = {"PYTHONPATH": f"{code}{os.pathsep}{runtime}", "AWS_LAMBDA_FUNCTION_NAME": f"llm-catalogue-{name}",
           "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "PATH": os.environ.get("PATH", "")}
    result = subprocess.run([sys.executable, "-S", "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("ok handler")
