"""The stream trigger's settings as infra/variables.tf deploys them: the local poller's defaults.

One source: the event source mapping in AWS and the local stand-in batch the same way because both
read the defaults of the same Terraform variables.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

VARIABLES_TF = Path(__file__).resolve().parents[2] / "infra" / "variables.tf"
# Lambda's limit on a synchronous invocation's request payload: a stream batch ends before it.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024


class SettingsError(RuntimeError):
    """infra/variables.tf is missing or lacks a trigger variable."""


@dataclass(frozen=True)
class TriggerSettings:
    batch_size: int
    window_seconds: float
    max_retries: int
    max_record_age_seconds: int


def _defaults(path: Path) -> dict[str, Any]:
    import hcl2
    from hcl2 import SerializationOptions

    try:
        text = path.read_text()
    except OSError as exc:
        raise SettingsError(f"cannot read the trigger's settings from {path}: {exc}") from exc
    options = SerializationOptions(strip_string_quotes=True, explicit_blocks=False)
    return {name: body.get("default") for block in hcl2.loads(text, serialization_options=options)["variable"]
            for name, body in block.items()}


def infra_default(name: str, path: Path = VARIABLES_TF) -> Any:
    """The default of one variable of infra/variables.tf (benchmarks compare figures with them)."""
    defaults = _defaults(path)
    if name not in defaults:
        raise SettingsError(f"{path}: no variable {name!r}")
    return defaults[name]


def trigger_settings(path: Path = VARIABLES_TF) -> TriggerSettings:
    """The defaults of the stream_* variables, or SettingsError naming the one that is missing."""
    defaults = _defaults(path)

    def number(name: str) -> Any:
        value = defaults.get(name)
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise SettingsError(f"{path}: variable {name!r} has no numeric default")
        return value

    return TriggerSettings(
        batch_size=int(number("stream_batch_size")),
        window_seconds=float(number("stream_batching_window_seconds")),
        max_retries=int(number("stream_max_retries")),
        max_record_age_seconds=int(number("stream_max_record_age_seconds")),
    )
