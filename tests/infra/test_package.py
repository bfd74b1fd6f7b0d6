"""`make package`: deterministic zips with the handlers, the site assets and aarch64 wheels."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

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


def test_two_builds_are_byte_identical(builds: list[dict[str, Path]]) -> None:
    first, second = builds
    assert set(first) == {"publisher", "read_api", "canary"}
    for name in first:
        assert sha256(first[name]) == sha256(second[name]), name


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
    assert "publisher/handlers/read.py" in names
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
    assert outside == {"publisher/__init__.py", "publisher/aws.py", "publisher/config.py",
                       "publisher/heartbeat.py", "publisher/slo.py"}
    assert "publisher/canary/handler.py" in names and "publisher/canary/probe.py" in names
    assert not any(n.startswith(("publisher/handlers/", "publisher/read/")) for n in names)


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


@pytest.mark.parametrize(("name", "module"), [("publisher", "publisher.handlers.publish"),
                                              ("read_api", "publisher.handlers.read"),
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
            "from publisher.render import render_site\n"
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
