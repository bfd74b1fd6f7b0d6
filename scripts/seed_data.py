#!/usr/bin/env python3
"""Seed the catalogue table with the sample models (or a JSON file of models), locally or in AWS.

Unlike the PoC's seed script, it exits non-zero with a message that says what failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--table", default=os.environ.get("TABLE_NAME", "llm_scores"),
                        help="table name (default: $TABLE_NAME or llm_scores)")
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"),
                        help="AWS endpoint, e.g. http://127.0.0.1:4566 for the local emulator "
                             "(default: $AWS_ENDPOINT_URL, else real AWS)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
                        or "us-east-1")
    parser.add_argument("--file", type=Path, help="JSON array of models to write instead of the sample")
    args = parser.parse_args(argv)

    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from publisher.ops.seed import SeedError, sample_models, seed

    try:
        models = (json.loads(args.file.read_text(), parse_float=Decimal) if args.file else sample_models())
    except (OSError, ValueError) as exc:
        print(f"seed: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
        print("seed: the file must hold a JSON array of objects", file=sys.stderr)
        return 2
    if args.endpoint:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("dynamodb", endpoint_url=args.endpoint or None, region_name=args.region)
    try:
        written = seed(client, args.table, models)
    except SeedError as exc:
        print(f"seed: {exc}", file=sys.stderr)
        return 1
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(f"seed: {args.table}: {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
        return 1
    except BotoCoreError as exc:
        print(f"seed: cannot reach DynamoDB ({args.endpoint or 'AWS'}): {exc}", file=sys.stderr)
        return 1
    print(f"seeded {written} models into {args.table} ({args.endpoint or 'AWS ' + args.region})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
