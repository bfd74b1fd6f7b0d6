"""The tables the local stack, the tests and the benchmarks run on are built from infra/data.tf."""

from __future__ import annotations

from pathlib import Path

import pytest

from publisher.core.config import TABLE_HASH_KEY
from publisher.local.resources import DATA_TF, table_definition


def test_the_local_table_is_the_one_infra_declares(table: str) -> None:
    from publisher.core import aws

    described = aws.client("dynamodb").describe_table(TableName="llm_scores")["Table"]
    assert described["KeySchema"] == [{"AttributeName": "model_name", "KeyType": "HASH"}]
    assert described["AttributeDefinitions"] == [{"AttributeName": "model_name", "AttributeType": "S"}]
    assert described["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert described["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table == described["LatestStreamArn"]


def test_the_definition_is_read_from_data_tf() -> None:
    definition = table_definition()
    assert definition.hash_key == TABLE_HASH_KEY == "model_name"


def test_a_table_keyed_otherwise_than_the_code_reads_it_is_refused(tmp_path: Path) -> None:
    changed = tmp_path / "data.tf"
    changed.write_text(DATA_TF.read_text().replace('"model_name"', '"id"'))
    with pytest.raises(ValueError, match="must be keyed by 'model_name'"):
        table_definition.__wrapped__(changed)
