"""A refused name is reported as it was sent, with each forbidden character written out: logged raw, a
U+202E would reverse the rest of the operator's line and a U+200B would hide itself."""

from __future__ import annotations

import pytest

from publisher.core import text
from publisher.core.model import Rejected


@pytest.mark.parametrize(("raw", "shown"), [
    ("Evil\u202emodel", "Evil<U+202E>model"),
    ("GPT\u200b-4o", "GPT<U+200B>-4o"),
    ("a\x85b\u2066c\ufeff", "a<U+0085>b<U+2066>c<U+FEFF>"),
    ("Qwen 2.5 \u00e9\u4e2d", "Qwen 2.5 \u00e9\u4e2d"),  # letters of any script stay as they are
    (None, None),  # an item without a name
])
def test_visible_writes_out_every_forbidden_character(raw: str | None, shown: str | None) -> None:
    assert text.visible(raw) == shown
    assert shown is None or text.forbidden_character(shown) is None


def test_the_publishers_report_of_a_refused_name_is_visible(monkeypatch: pytest.MonkeyPatch) -> None:
    from publisher.publish import handler
    from publisher.publish.publisher import PublishResult

    # What the function hands its logger, recorded: another test of the session may have disabled or
    # redirected the logging machinery under it, which is no part of this behaviour.
    warnings: list[tuple[str, dict[str, str]]] = []

    class Recorder:
        def warning(self, message: str, extra: dict[str, str]) -> None:
            warnings.append((message, extra))

    monkeypatch.setattr(handler, "logger", Recorder())
    reason = text.reason("model_name", "Evil\u202emodel")
    assert reason is not None
    handler._record_metrics(PublishResult(1, 0, [Rejected("Evil\u202emodel", reason)]), malformed=0)
    (extra,) = [extra for message, extra in warnings if message == "invalid item left out of the snapshot"]
    assert extra["model_name"] == "Evil<U+202E>model"
    assert "U+202E" in extra["reason"]
