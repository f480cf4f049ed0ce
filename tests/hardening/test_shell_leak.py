"""Raw shell text and secrets in metadata never leave the service (ARCHITECTURE.md §3).

Each case carries a marker under a dangerous key (`command`, `cmd`, `argv`, `shell`, `raw`,
`stdin`, secrets, tokens, ...; any case, compound, hidden by invisible characters, nested in
objects or lists at any depth) next to an ordinary key (`fp`). The marker must appear in no
message text, no payload of any channel type, no `explain` answer, and, through the real
service, in no posted body and no log line; the ordinary key must still be shown, so the check
is not passing merely because metadata vanished.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Final

import orjson
import pytest

from consumer import cli
from consumer.channel import ChannelType
from consumer.decode import TopicSchema
from tests.hardening.conftest import CorpusRun
from tests.hardening.corpus import SHELL_LEAKS, ShellLeak, audit_row, shell_leak_cases
from tests.hardening.reader import pipeline


def explain(schema: TopicSchema, value: bytes, tmp_path: Path) -> tuple[int, str, str]:
    """`webhook-consumer explain` in this process: exit code, stdout, stderr."""
    path = tmp_path / "event.json"
    path.write_bytes(value)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["explain", "--topic", schema, str(path)])
    out.flush()
    assert isinstance(out.buffer, io.BytesIO)
    return code, out.buffer.getvalue().decode(), err.getvalue()


@pytest.mark.parametrize("leak", SHELL_LEAKS, ids=lambda leak: f"{leak.id} in metadata")
def test_no_dangerous_value_reaches_a_message_a_payload_or_explain(
    leak: ShellLeak, tmp_path: Path
) -> None:
    value = orjson.dumps(audit_row("proj", metadata=leak.metadata))
    rendered = pipeline("audit-log", value)
    assert rendered.notification is not None
    text = rendered.notification.text()
    assert "fp=ab12cd" in text  # the metadata line is there, only the dangerous part is not
    code, out, err = explain("audit-log", value, tmp_path)
    assert code == 0, err
    shown = [text, out, err, *(orjson.dumps(b).decode() for b in rendered.bodies.values())]
    for marker in leak.markers:
        assert [s for s in shown if marker in s] == []


E2E: Final = list(shell_leak_cases())


@pytest.mark.kafka
def test_through_the_service_no_dangerous_value_is_posted_or_logged(
    corpus_run: CorpusRun,
) -> None:
    output = corpus_run.run.output
    checked = 0
    for case in E2E:
        placed = next(p for p in corpus_run.placed if p.case.id == case.id)
        for channel_type in ChannelType:
            (received,) = corpus_run.at(placed.key, channel_type)
            for marker in case.markers:
                assert marker not in received.body.decode(), (case.id, channel_type.value)
                checked += 1
        slack = corpus_run.at(placed.key, ChannelType.SLACK)[0].json["text"]
        assert "fp=ab12cd" in slack
        assert [m for m in case.markers if m in output] == []
    assert checked == len(E2E) * len(ChannelType)
