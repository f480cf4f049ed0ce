"""The entry points answer: `webhook-consumer --help` and `python -m consumer --help`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


@pytest.mark.parametrize(
    "argv",
    [[str(BIN / "webhook-consumer"), "--help"], [sys.executable, "-m", "consumer", "--help"]],
    ids=["console script", "python -m consumer"],
)
def test_help_lists_the_commands_and_the_environment(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    for word in ("run", "explain", "send-test", "channels", "schemas", "KAFKA_BOOTSTRAP_SERVERS"):
        assert word in done.stdout


def test_a_bad_environment_value_is_one_line_without_traceback() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "consumer", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"WEBHOOK_TIMEOUT_S": "-1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "WEBHOOK_TIMEOUT_S" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_with_an_invalid_channels_file_lists_the_problems_and_exits_2(tmp_path: Path) -> None:
    channels = tmp_path / "channels.yaml"
    channels.write_text(
        "channels:\n"
        "  - id: tg\n"
        "    project_id: p\n"
        "    type: telegram\n"
        "    url: https://api.telegram.org/bot123456:SECRET-TOKEN/sendMessage\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "consumer", "run"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "WEBHOOK_CHANNELS_FILE": str(channels),
            "WEBHOOK_CHANNELS_TOPIC": "",
            "HTTP_PORT": "0",
        },
    )
    assert done.returncode == 2
    assert "chat_id" in done.stderr
    assert "tg" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "SECRET-TOKEN" not in done.stderr + done.stdout
