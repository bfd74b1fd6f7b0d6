"""Render the catalogue into the site objects: JSON documents, the page and its static assets."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from publisher.core import edge_contract, identity, schemas
from publisher.core.config import HTML_CACHE_CONTROL, IMMUTABLE_CACHE_CONTROL, JSON_CACHE_CONTROL
from publisher.core.documents import (
    JSON_TYPE,
    SiteObject,
    catalogue_document,
    dumps,
    json_object,
    provider_document,
    provider_summaries,
)
from publisher.core.model import slugify, sorted_records

# The page lists at most this many models (the best first). A realistic catalogue has a few dozen
# to a few hundred and is listed whole; at 100k models a full table would be a 40 MB page no
# browser should load, and rendering it would dominate the publish. The JSON documents and the
# API always carry every model.
PAGE_ROW_LIMIT = 2000
HTML_TYPE = "text/html; charset=utf-8"
ENV_SITE_DIR = "SITE_DIR"
_STATIC_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}


def site_dir() -> Path:
    configured = os.environ.get(ENV_SITE_DIR)
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parents[2] / "site"


def schema_objects() -> list[SiteObject]:
    """The JSON Schema of every published document, served from the site under /schemas/."""
    return [SiteObject(f"{schemas.SCHEMA_PREFIX}{name}", dumps(schemas.standalone(definition)),
                       f"{schemas.SCHEMA_TYPE}; charset=utf-8", JSON_CACHE_CONTROL)
            for name, definition in schemas.FILES.items()]


@dataclass(frozen=True)
class StaticAsset:
    name: str  # path under site/static, e.g. "app.js"
    key: str  # content-addressed key, e.g. "static/app.3f2a9c1b.js"
    body: bytes
    content_type: str


@lru_cache(maxsize=4)
def static_assets(root: str) -> tuple[StaticAsset, ...]:
    base = Path(root) / "static"
    assets = []
    if base.is_dir():
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            rel = path.relative_to(base).as_posix()
            body = path.read_bytes()
            digest = hashlib.sha256(body).hexdigest()[:10]
            stem, dot, ext = rel.rpartition(".")
            hashed = f"{stem}.{digest}.{ext}" if dot else f"{rel}.{digest}"
            content_type = _STATIC_TYPES.get(f".{ext}" if dot else "", "application/octet-stream")
            assets.append(StaticAsset(rel, f"static/{hashed}", body, content_type))
    return tuple(assets)


@lru_cache(maxsize=4)
def _environment(root: str) -> Any:
    # jinja2 is imported here, not at module import: only the publisher renders HTML.
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(root) / "templates")),
        autoescape=jinja2.select_autoescape(("html", "htm", "xml", "j2", "svg")),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    assets = {asset.name: "/" + asset.key for asset in static_assets(root)}

    def asset_url(name: str) -> str:
        try:
            return assets[name]
        except KeyError:
            raise jinja2.TemplateError(f"no static asset {name!r} under site/static") from None

    env.globals["asset"] = asset_url
    return env


def tokens(n: int) -> str:
    """Compact context-window size for the page: 128000 -> 128K, 1048576 -> 1M."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_048_576 == 0:
        return f"{n // 1_048_576}M"
    if n >= 1_000_000:
        return f"{round(n / 1_000_000, 1):g}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}K"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024}K"
    if n >= 1000:
        return f"{round(n / 1000, 0):g}K"
    return str(n)


def page_rows(models: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Display values for the table, computed in Python: per-row template logic is the page's hot path."""
    rows = []
    for m in models:
        window = m.get("context_window")
        rows.append({
            "m": m,
            "provider_key": identity.key(m["provider"]),
            "version": m.get("version"),
            "release_date": m.get("release_date"),
            "window": window,
            "window_text": tokens(window) if window is not None else None,
            "window_title": f"{window:,} tokens" if window is not None else None,
            "score_text": f"{m['score']:.1f}",
            # The model's history document, named by the identity rules: the detail view reads it.
            "history": identity.history_key(m["model_name"]),
        })
    return rows


def render_template(name: str, root: Path | None = None, **context: Any) -> bytes:
    env = _environment(str(root or site_dir()))
    return env.get_template(name).render(**context).encode()


def render_site(
    version: int,
    generated_at: str,
    models_by_name: dict[str, dict[str, Any]],
    root: Path | None = None,
    links: dict[str, str | None] | None = None,
) -> list[SiteObject]:
    """Every public object for one snapshot, in a deterministic order."""
    root = root or site_dir()
    models = sorted_records(models_by_name.values())
    providers = provider_summaries(models)
    snapshot = json_object("llms.json", catalogue_document(version, generated_at, models))
    objects = [
        snapshot,
        # The PoC's contract: a bare array of the same model objects, i.e. the same bytes as the
        # document's list (models is its last key): sliced, not encoded a second time.
        SiteObject("llms", snapshot.body[snapshot.body.index(b'"models":[') + 9:-1], JSON_TYPE, JSON_CACHE_CONTROL,
                   marks_version=True),
    ]
    by_provider: dict[str, list[dict[str, Any]]] = {}
    for record in models:
        by_provider.setdefault(record["provider"], []).append(record)
    for provider in providers:
        objects.append(json_object(identity.provider_key(provider["name"]),
                                   provider_document(version, generated_at, provider,
                                                     by_provider[provider["name"]])))
    objects.extend(schema_objects())
    page_links = {"json": "/llms.json", "openapi": "/api/openapi.json", "changes": None,
                  "schema": schemas.schema_url("Catalogue")}
    page_links.update(links or {})
    context = {
        "snapshot": {"version": version, "generated_at": generated_at, "count": len(models)},
        "models": models,
        "rows": page_rows(models[:PAGE_ROW_LIMIT]),
        "row_limit": PAGE_ROW_LIMIT,
        "providers": providers,
        "links": page_links,
        # The page's provider filter: a row matches by its provider's key; ?provider= also takes the
        # provider's slug when only one provider has it.
        "slugify": slugify,
        "csp": edge_contract.meta_content_security_policy(),
    }
    objects.append(SiteObject("index.html", render_template("index.html.j2", root, **context), HTML_TYPE,
                              HTML_CACHE_CONTROL))
    for asset in static_assets(str(root)):
        objects.append(SiteObject(asset.key, asset.body, asset.content_type, IMMUTABLE_CACHE_CONTROL))
    return objects
