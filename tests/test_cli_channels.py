"""The two channel commands through the real CLI (`python -m consumer`, a subprocess):
`channels validate FILE` (exit 0 with a summary, 2 with every problem) and `send-test` against
the scripted sink through the real delivery engine (0 all delivered, 1 any failed, 2 usage)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
import yaml

from tests.support.sink import Sink, hang, ok, status

EXAMPLE = Path(__file__).parent / "data" / "channels" / "example.yaml"
SECRET = "SECRETPART0123456789"


@dataclass
class Done:
    code: int
    out: str
    err: str
    seconds: float


async def cli(*args: str, env: dict[str, str] | None = None) -> Done:
    """Run `python -m consumer ARGS` without blocking the loop (the sink serves on it)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "LOG_"))}
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "consumer",
        *args,
        env={**base, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Done(proc.returncode, out.decode(), err.decode(), time.monotonic() - started)


def write_channels(path: Path, channels: list[dict[str, object]]) -> Path:
    path.write_text(yaml.safe_dump({"channels": channels}, sort_keys=False))
    return path


# -- channels validate -------------------------------------------------------------------------


async def test_validate_a_good_file_prints_a_summary_per_project_and_type() -> None:
    done = await cli("channels", "validate", str(EXAMPLE))
    assert done.code == 0, done.err
    assert done.out.splitlines() == [
        f"{EXAMPLE}: valid: 6 channels (5 active) in 2 projects",
        "  proj_123: slack 1 active, discord 1 active, teams 1 active",
        "  proj_456: slack 1 inactive, kakaowork 1 active, telegram 1 active",
    ]


async def test_validate_a_bad_file_lists_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = write_channels(
        tmp_path / "channels.yaml",
        [
            {"id": "a", "project_id": "p", "type": "matrix", "url": "https://x.example/"},
            {"id": "tg", "project_id": "p", "type": "telegram", "url": f"http://t/{SECRET}"},
            {"project_id": "p", "type": "slack", "url": f"https://evil.example/{SECRET}"},
            {"id": "a", "project_id": "p", "type": "slack", "url": "https://hooks.slack.com/x"},
        ],
    )
    done = await cli("channels", "validate", str(path))
    assert done.code == 2
    assert done.out == ""
    assert done.err.splitlines() == [
        f"{path}: channels[0] id='a': type: Input should be 'slack', 'discord', 'teams', "
        "'kakaowork' or 'telegram'",
        f"{path}: channels[1] id='tg': chat_id: required for telegram channels",
        f"{path}: channels[1] id='tg': url: only https URLs are allowed: http://t/***",
        f"{path}: channels[2]: id: Field required",
        f"{path}: channels[2]: url: host is not an official slack webhook host: "
        "https://evil.example/***",
        f"{path}: channels[3] id='a': id: duplicate id, first used by channels[0]",
        f"{path}: invalid: 6 problems",
    ]
    assert SECRET not in done.err


async def test_validate_uses_the_url_policy_of_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "channels.json"
    channel = {"id": "a", "project_id": "p", "type": "slack", "url": "https://hooks.example.com/x"}
    path.write_bytes(orjson.dumps({"channels": [channel]}))
    refused = await cli("channels", "validate", str(path))
    allowed = await cli(
        "channels", "validate", str(path), env={"WEBHOOK_EXTRA_HOSTS": "hooks.example.com"}
    )
    assert refused.code == 2
    assert "host is not an official slack webhook host" in refused.err
    assert allowed.code == 0, allowed.err
    assert "p: slack 1 active" in allowed.out


async def test_validate_a_missing_file_exits_2_naming_it(tmp_path: Path) -> None:
    done = await cli("channels", "validate", str(tmp_path / "nope.yaml"))
    assert done.code == 2
    assert "nope.yaml: No such file or directory" in done.err
    assert "Traceback" not in done.err


# -- send-test ---------------------------------------------------------------------------------

TYPES = ("slack", "discord", "teams", "kakaowork", "telegram")


def sink_channels(sink: Sink) -> list[dict[str, object]]:
    """One active channel of every type (two projects) and an inactive one, all on the sink."""
    channels: list[dict[str, object]] = []
    for kind in TYPES:
        channel: dict[str, object] = {
            "id": f"{kind}-1",
            "project_id": "p2" if kind == "telegram" else "p1",
            "type": kind,
            "url": sink.url(f"/{kind}/{SECRET}"),
            "active": True,
        }
        if kind == "telegram":
            channel["chat_id"] = "-1001234567890"
        channels.append(channel)
    channels.append(
        {
            "id": "off",
            "project_id": "p1",
            "type": "slack",
            "url": sink.url(f"/off/{SECRET}"),
            "active": False,
        }
    )
    return channels


def env_for(path: Path, **extra: str) -> dict[str, str]:
    return {
        "WEBHOOK_CHANNELS_FILE": str(path),
        "WEBHOOK_ALLOW_INSECURE_TARGETS": "true",
        **extra,
    }


def lines_by_id(out: str) -> dict[str, list[str]]:
    return {line.split()[0]: line.split() for line in out.splitlines()}


async def test_send_test_posts_to_every_active_channel_and_exits_0(tmp_path: Path) -> None:
    async with Sink() as sink:
        path = write_channels(tmp_path / "channels.yaml", sink_channels(sink))
        done = await cli("send-test", env=env_for(path))
        assert done.code == 0, done.err
        rows = lines_by_id(done.out)
        assert list(rows) == [f"{kind}-1" for kind in TYPES]
        for kind in TYPES:
            row = rows[f"{kind}-1"]
            assert row[1:4] == [kind, "delivered", "200"]
            assert row[5] == "ms"
            assert sink.count(f"/{kind}/{SECRET}") == 1
        assert sink.count(f"/off/{SECRET}") == 0
        # The test message is the audit format, tag webhook:test, severity high.
        [slack] = sink.bodies(f"/slack/{SECRET}")
        assert "webhook:test" in slack["text"]
        assert "high" in slack["text"]
        [telegram] = sink.bodies(f"/telegram/{SECRET}")
        assert telegram["chat_id"] == "-1001234567890"
    assert SECRET not in done.out + done.err
    assert "5 of 5 delivered" in done.err


async def test_send_test_reports_a_500_and_exits_1(tmp_path: Path) -> None:
    async with Sink() as sink:
        path = write_channels(tmp_path / "channels.yaml", sink_channels(sink))
        sink.script(f"/discord/{SECRET}", status(500))
        done = await cli("send-test", "--project", "p1", env=env_for(path))
    assert done.code == 1
    rows = lines_by_id(done.out)
    assert list(rows) == ["slack-1", "discord-1", "teams-1", "kakaowork-1"]
    assert rows["discord-1"][1:4] == ["discord", "failed", "500"]
    assert all(rows[i][2] == "delivered" for i in ("slack-1", "teams-1", "kakaowork-1"))
    assert SECRET not in done.out + done.err


async def test_send_test_reports_a_hanging_channel_as_timeout_within_the_budget(
    tmp_path: Path,
) -> None:
    async with Sink() as sink:
        path = write_channels(tmp_path / "channels.yaml", sink_channels(sink))
        sink.script(f"/teams/{SECRET}", hang())
        sink.script(f"/slack/{SECRET}", ok())
        done = await cli("send-test", env=env_for(path, WEBHOOK_TIMEOUT_S="1"))
    assert done.code == 1
    rows = lines_by_id(done.out)
    assert rows["teams-1"][1:4] == ["teams", "timeout", "-"]
    assert [r[2] for i, r in rows.items() if i != "teams-1"] == ["delivered"] * 4
    assert int(rows["teams-1"][4]) < 3000  # the 1 s budget, not a hang
    assert done.seconds < 30  # interpreter start-up included; generous


async def test_send_test_to_one_channel_posts_only_there(tmp_path: Path) -> None:
    async with Sink() as sink:
        path = write_channels(tmp_path / "channels.yaml", sink_channels(sink))
        done = await cli("send-test", "--channel", "telegram-1", env=env_for(path))
        assert done.code == 0, done.err
        assert list(lines_by_id(done.out)) == ["telegram-1"]
        assert [r.path for r in sink.received] == [f"/telegram/{SECRET}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--channel", "nope"], "unknown channel 'nope' (known: slack-1, discord-1"),
        (["--channel", "off"], "channel 'off' is not active"),
        (["--channel", "slack-1", "--project", "p2"], "belongs to project 'p1', not 'p2'"),
        (["--project", "p9"], "no active channel in project 'p9'"),
    ],
    ids=[
        "an unknown channel id is a usage error",
        "an inactive channel is refused: only active channels receive",
        "a channel of another project is refused",
        "a project without active channels is a usage error",
    ],
)
async def test_send_test_selection_errors_exit_2_and_send_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    async with Sink() as sink:
        path = write_channels(tmp_path / "channels.yaml", sink_channels(sink))
        done = await cli("send-test", *args, env=env_for(path))
        assert sink.received == []
    assert done.code == 2
    assert message in done.err
    assert done.out == ""


async def test_send_test_needs_a_valid_channels_file(tmp_path: Path) -> None:
    unset = await cli("send-test")
    assert unset.code == 2
    assert "WEBHOOK_CHANNELS_FILE is not set" in unset.err
    # Without WEBHOOK_ALLOW_INSECURE_TARGETS the sink's http://127.0.0.1 URLs are refused.
    path = write_channels(
        tmp_path / "channels.yaml",
        [{"id": "a", "project_id": "p", "type": "slack", "url": f"http://127.0.0.1/{SECRET}"}],
    )
    refused = await cli("send-test", env={"WEBHOOK_CHANNELS_FILE": str(path)})
    assert refused.code == 2
    assert "channels[0] id='a': url: only https URLs are allowed: http://127.0.0.1/***" in (
        refused.err
    )
    assert SECRET not in refused.err
