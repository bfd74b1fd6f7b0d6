"""The local stack's view of the functions' metrics: their EMF lines, kept and counted, off the console.

In AWS a function's stdout line in CloudWatch Embedded Metric Format becomes metrics; here the same
line goes to `metrics.log` in the state directory, and its values are counted so the console line of
a publish can say what the metrics say (invalid records, failures, conflicts).
"""

from __future__ import annotations

import io
import json
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, TextIO

EMF_PREFIX = '{"_aws"'


def emf_values(line: str) -> tuple[str, dict[str, float]] | None:
    """(service, {metric: value}) of one EMF line; None for any other line."""
    if not line.startswith(EMF_PREFIX):
        return None
    try:
        document = json.loads(line)
        names = [m["Name"] for d in document["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
    except (ValueError, KeyError, TypeError):
        return None
    values: dict[str, float] = {}
    for name in names:
        # A value, or (as Powertools writes them) a list of values: CloudWatch takes each as a sample.
        raw = document.get(name)
        samples = raw if isinstance(raw, list) else [raw]
        numbers = [v for v in samples if isinstance(v, int | float) and not isinstance(v, bool)]
        if numbers:
            values[name] = float(sum(numbers))
    return str(document.get("service", "?")), values


class MetricsTap(io.TextIOBase):
    """A stdout that passes every line through but an EMF line, which it logs and counts."""

    def __init__(self, console: TextIO, log_path: Path) -> None:
        super().__init__()
        self.console, self.log_path = console, log_path
        self._pending = ""
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], float] = defaultdict(float)

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with self._lock:
            self._pending += text
            *lines, self._pending = self._pending.split("\n")
            for line in lines:
                self._line(line)
        return len(text)

    def flush(self) -> None:
        self.console.flush()

    def _line(self, line: str) -> None:
        parsed = emf_values(line)
        if parsed is None:
            self.console.write(line + "\n")
            return
        service, values = parsed
        for name, value in values.items():
            self._counts[(service, name)] += value
        with self.log_path.open("a") as log:
            log.write(line + "\n")

    def take(self, service: str) -> dict[str, float]:
        """The service's metric sums since the last take (and resets them)."""
        with self._lock:
            taken = {name: value for (svc, name), value in self._counts.items() if svc == service}
            for name in taken:
                del self._counts[(service, name)]
        return taken

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)
