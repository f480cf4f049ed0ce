"""Secrets never show: a scan of everything the suite's runs and commands printed.

The service runs (`corpus_run`, `fault_run`) and the commands (`send-test` against failing and
echoing endpoints, `channels validate` of refused, broken and unparsable files, `run` with a file
the policy refuses, `explain` of every corpus record, `--help`) all used the secret-bearing
channels of `tests.hardening.credentials`: webhook URLs with `S3CR3T` path tokens and a Teams
`sig`, one Telegram bot token and chat id, and a SASL password in the environment. No log line,
metrics label, error, or command output may show any of them (a chat id only as `***` and its
last two characters); the endpoints received them only where they belong.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

import orjson
import pytest

from consumer.channel import ChannelType
from tests.hardening.conftest import CORPUS, Command, CorpusRun, FaultRun
from tests.hardening.credentials import BOT_TOKEN, CHAT_ID, MARK, SASL_PASSWORD, leaks
from tests.hardening.test_shell_leak import explain

pytestmark = pytest.mark.kafka

Source = Callable[[pytest.FixtureRequest], str]


def _corpus(request: pytest.FixtureRequest) -> CorpusRun:
    run: CorpusRun = request.getfixturevalue("corpus_run")
    return run


def _faults(request: pytest.FixtureRequest) -> FaultRun:
    run: FaultRun = request.getfixturevalue("fault_run")
    return run


def _command(name: str) -> Source:
    def text(request: pytest.FixtureRequest) -> str:
        commands: dict[str, Command] = request.getfixturevalue("commands")
        return commands[name].text

    return text


SOURCES: Final[dict[str, Source]] = {
    "the corpus run's logs": lambda r: _corpus(r).run.output,
    "the corpus run's metrics": lambda r: _corpus(r).metrics,
    "the fault run's logs": lambda r: _faults(r).run.output,
    "the fault run's metrics": lambda r: _faults(r).metrics,
    "the dead letters' error headers": lambda r: "\n".join(
        d.headers["x-error"].decode() for d in _corpus(r).dead
    ),
    **{
        name: _command(name)
        for name in (
            "send-test against failing channels",
            "send-test under the secure policy",
            "channels validate of a file the policy refuses",
            "channels validate of a broken file",
            "channels validate of a file with a syntax error",
            "run with a channels file the policy refuses",
            "--help",
        )
    },
}


@pytest.mark.parametrize("source", list(SOURCES))
def test_no_secret_shows_in(source: str, request: pytest.FixtureRequest) -> None:
    text = SOURCES[source](request)
    assert text.strip(), "nothing was captured: the scan would prove nothing"
    assert leaks(text) == []
    assert SASL_PASSWORD not in text


def test_no_secret_shows_in_explain_of_any_corpus_record(tmp_path: Path) -> None:
    shown = []
    for case in CORPUS:
        value = case.build("proj")
        if value is not None:
            _, out, err = explain(case.schema, value, tmp_path)
            shown.append(out + err)
    text = "\n".join(shown)
    assert len(shown) == len(CORPUS) - 1  # all but the tombstone
    assert leaks(text) == []


def test_the_scan_finds_the_secrets_where_they_belong(
    corpus_run: CorpusRun, commands: dict[str, Command]
) -> None:
    """The secrets were really used: the endpoints got them, and `leaks` sees them there."""
    paths = "\n".join(r.path + "?" + r.headers.get("Host", "") for r in corpus_run.received)
    assert leaks(paths) != []
    assert BOT_TOKEN in paths
    telegram = [r for r in corpus_run.received if f"/{ChannelType.TELEGRAM.value}/" in r.path]
    assert telegram
    assert all(r.json["chat_id"] == CHAT_ID for r in telegram)
    assert leaks(CHAT_ID) != []
    assert commands["send-test against failing channels"].code == 1


def test_bodies_carry_no_url_secret_and_the_chat_id_only_as_chat_id(
    corpus_run: CorpusRun,
) -> None:
    for received in corpus_run.received:
        body = orjson.loads(received.body)
        body.pop("chat_id", None)
        assert leaks(orjson.dumps(body).decode()) == [], received.path
        assert MARK not in str(received.headers)


def test_send_test_names_each_channel_and_its_outcome_only(commands: dict[str, Command]) -> None:
    done = commands["send-test against failing channels"]
    rows = {line.split()[0]: line.split()[2] for line in done.out.splitlines()}
    assert rows == {
        "st-slack": "failed",
        "st-discord": "failed",
        "st-teams": "blocked",
        "st-kakaowork": "delivered",
        "st-telegram": "rejected",
        "st-hang": "timeout",
        "st-dns": "failed",
    }
    # The Telegram error echoed the chat id and the token: only the safe words are shown.
    assert "telegram 400 Bad Request: chat not found for bot" in done.out


def test_a_refused_file_names_every_channel_with_the_url_redacted(
    commands: dict[str, Command],
) -> None:
    for name in (
        "send-test under the secure policy",
        "run with a channels file the policy refuses",
    ):
        done = commands[name]
        assert done.code == 2, name
        for channel in ("st-slack", "st-discord", "st-teams", "st-kakaowork", "st-telegram"):
            assert (
                f"id='{channel}': url: only https URLs are allowed: http://127.0.0.1:" in done.err
            )
    broken = commands["channels validate of a broken file"]
    assert broken.code == 2
    for redacted in ("http://hooks.slack.com/***", "https://x.slack.com/***"):
        assert redacted in broken.err
    assert "id='b-userinfo': url: user info in the URL is not allowed" in broken.err
    syntax = commands["channels validate of a file with a syntax error"]
    assert syntax.code == 2
    assert "not valid YAML at line 3" in syntax.err
