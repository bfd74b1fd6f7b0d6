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
    assert set(first) == {"publisher", "read_api"}
    for name in first:
        assert sha256(first[name]) == sha256(second[name]), name


@pytest.mark.parametrize("name", ["publisher", "read_api"])
def test_zip_entries_are_sorted_with_fixed_metadata(builds: list[dict[str, Path]], name: str) -> None:
    with zipfile.ZipFile(builds[0][name]) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]


@pytest.mark.parametrize("name", ["publisher", "read_api"])
def test_zip_holds_handlers_and_runtime_dependencies(builds: list[dict[str, Path]], name: str) -> None:
    with zipfile.ZipFile(builds[0][name]) as zf:
        names = set(zf.namelist())
    assert "publisher/__init__.py" in names
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
