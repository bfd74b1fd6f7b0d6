"""The PoC's read Lambda, re-implemented faithfully to be measured against; never packaged or deployed."""

import json
import os
from decimal import Decimal

import boto3

# As in the PoC: the resource is built at import (cold-start cost), the event is logged whole, and a
# single Scan call (no pagination, so anything past 1 MB is silently dropped) runs on every request.
dynamodb = boto3.resource("dynamodb")
table = dynamodb.Table(os.environ.get("TABLE_NAME", "llm_scores"))


class DecimalEncoder(json.JSONEncoder):
    def default(self, o):
        if isinstance(o, Decimal):
            return float(o)
        return super().default(o)


def handler(event, context):
    print(json.dumps(event))
    response = table.scan()
    items = response["Items"]
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(items, cls=DecimalEncoder),
    }
