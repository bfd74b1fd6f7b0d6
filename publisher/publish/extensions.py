"""Optional publish extensions (extra objects derived from each publish), wired in one place."""

from __future__ import annotations

from publisher.core.config import Config
from publisher.publish.publisher import Publisher


def install(publisher: Publisher, cfg: Config) -> None:
    """Attach the extensions a deployed publisher runs with."""
    from publisher.publish import checkpoints, dated_snapshots, feed

    feed.install(publisher, cfg.changes_limit, cfg.history_limit, cfg.public_base_url)
    checkpoints.install(publisher)
    dated_snapshots.install(publisher)
