"""The AWS emulator: moto's server with the one gap this stack hits filled (`python -m publisher.local.moto_server`).

moto keeps composite alarms (an alarm with an AlarmRule) and describes them as CompositeAlarms, but
routes no PutCompositeAlarm action, so Terraform's composite alarms would retry forever. Its own
PutMetricAlarm handler already reads every PutCompositeAlarm parameter (AlarmName, AlarmRule,
AlarmDescription, ActionsEnabled, AlarmActions, OKActions, Tags): route the action to it.
"""

from __future__ import annotations

import sys


def fill_gaps() -> None:
    from moto.cloudwatch.responses import CloudWatchResponse

    if not hasattr(CloudWatchResponse, "put_composite_alarm"):
        CloudWatchResponse.put_composite_alarm = CloudWatchResponse.put_metric_alarm  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    from moto.server import main as moto_main

    fill_gaps()
    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
