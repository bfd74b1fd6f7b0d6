"""The seed script writes every sample model and fails loudly, unlike the PoC's."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from publisher.core import aws
from publisher.core.ddb import scan_items
from publisher.ops.seed import SeedError, sample_models, seed

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "seed_data.py"


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("seed_data", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sample_has_the_poc_models_and_at_least_20_more() -> None:
    models = {m["model_name"]: m for m in sample_models()}
    assert len(models) >= 24
    assert models["GPT-4"] == {"model_name": "GPT-4", "provider": "OpenAI", "context_window": 128000,
                               "score": pytest.approx(95.5)}
    for name in ("Claude 3 Opus", "Llama 3 70B", "Gemini 1.5 Pro"):
        assert name in models


def test_seed_writes_every_model_in_batches(table: str) -> None:
    assert _script().main(["--table", "llm_scores"]) == 0
    items = list(scan_items(aws.client("dynamodb"), "llm_scores"))
    assert len(items) == len(sample_models())


def test_seed_exits_non_zero_naming_a_missing_table(mocked_aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _script().main(["--table", "no_such_table"]) == 1
    assert "no_such_table: ResourceNotFoundException" in capsys.readouterr().err


def test_seed_refuses_invalid_items_before_writing(table: str, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "models.json"
    path.write_text(json.dumps([{"model_name": "ok", "provider": "P", "score": 1},
                                {"model_name": "bad", "provider": "P", "score": 101}]))
    assert _script().main(["--file", str(path)]) == 1
    assert "item 1 ('bad'): score must be between 0 and 100" in capsys.readouterr().err
    assert list(scan_items(aws.client("dynamodb"), "llm_scores")) == []


def test_seed_retries_unprocessed_items_then_gives_up() -> None:
    class Throttled:
        calls = 0

        def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803 - boto3's name
            self.calls += 1
            return {"UnprocessedItems": RequestItems}

    client = Throttled()
    with pytest.raises(SeedError, match="unprocessed after 3 attempts"):
        seed(client, "t", sample_models()[:2], max_attempts=3, sleep=lambda s: None)
    assert client.calls == 3


def test_seed_reports_an_unreachable_endpoint(capsys: pytest.CaptureFixture[str]) -> None:
    from publisher.local.emulator import free_port

    assert _script().main(["--endpoint", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "cannot reach DynamoDB" in capsys.readouterr().err
