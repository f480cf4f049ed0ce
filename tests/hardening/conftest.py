"""Fixtures of the hardening suite: the hypothesis budgets and the service runs.

Hypothesis: the fuzz tests use the profile `HYPOTHESIS_PROFILE` names, `hardening` (bounded, the
default: what `make test` runs) or `fuzz` (`make fuzz`). The profiles are applied by the fuzz
tests' own decorator, never loaded globally, so no other test's budget changes.

Service runs are session-scoped and run once each, in a worker thread with its own event loop
(the sink and the child process live there); tests then read what was recorded:

- `corpus_run`: every poison, hostile, injection and shell-leak record in two topics, each
  between valid neighbours, through one `webhook-consumer run` with a dead-letter topic and one
  channel of each type per valid record (on the sink, with secret-bearing URLs);
- `fault_run` (tests/hardening/test_faults.py): resets, DNS failure, a failing dead-letter topic;
- `cli_outputs` (tests/hardening/test_secrets.py): `send-test`, `channels validate`, `explain`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar
from urllib.parse import urlsplit

import orjson
import pytest
from hypothesis import HealthCheck, settings

from consumer.channel import ChannelConfig, ChannelType
from tests.hardening.corpus import (
    HOSTILE,
    POISON,
    Case,
    audit_row,
    injection_cases,
    session_event,
    shell_leak_cases,
)
from tests.hardening.credentials import (
    BOT_TOKEN,
    CHAT_ID,
    SASL_PASSWORD,
    case_channels,
    secret_url,
)
from tests.hardening.runs import BIG_TOPIC, Dead, ServiceRun
from tests.support.broker import Broker
from tests.support.kafka import unique
from tests.support.service import write_channels_file
from tests.support.sink import Received, Sink, hang, ok, redirect, reset, status

settings.register_profile(
    "hardening",
    max_examples=200,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("fuzz", settings.get_profile("hardening"), max_examples=20_000)
PROFILE: Final = "fuzz" if os.environ.get("HYPOTHESIS_PROFILE") == "fuzz" else "hardening"
#: The decorator of every fuzz test: `@FUZZ` then `@given(...)`.
FUZZ: Final = settings(settings.get_profile(PROFILE))

T = TypeVar("T")


def run_in_thread(make: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine on a fresh loop in a worker thread (never on pytest-asyncio's loop)."""

    async def main() -> T:
        return await make()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result()


# --- the corpus run ----------------------------------------------------------------------------

NEIGHBOURS: Final = "neighbours"
DECOY: Final = "decoy"


@dataclass(frozen=True)
class Placed:
    """Where a case's record went: its key (also its project id), topic and offset."""

    key: str
    case: Case
    topic: str
    offset: int
    value: bytes | None


@dataclass
class CorpusRun:
    run: ServiceRun
    placed: list[Placed]
    neighbours: dict[str, int]  # topic -> how many neighbour records it got
    received: list[Received]
    metrics: str
    dead: list[Dead]
    committed: dict[str, int]
    alive_at_end: bool
    seconds: float

    def at(self, key: str, channel_type: ChannelType) -> list[Received]:
        """What the sink received for case `key` on its channel of `channel_type`."""
        prefix = f"/{key}/{channel_type.value}/"
        return [r for r in self.received if r.path.startswith(prefix)]

    def placed_case(self, case: Case) -> Placed:
        return next(p for p in self.placed if p.case is case)


CORPUS: Final[list[Case]] = [
    *POISON,
    *HOSTILE,
    *injection_cases(),
    *shell_leak_cases(),
]


def neighbour(topic_schema: str, n: int) -> bytes:
    if topic_schema == "audit-log":
        return orjson.dumps(audit_row(NEIGHBOURS, id=f"nb-{n}", tag=f"neighbour:{n}"))
    return orjson.dumps(session_event(NEIGHBOURS, session_id=f"tc_stepup_nb{n}"))


async def _corpus(bootstrap: str, tmp: Path) -> CorpusRun:
    keys = {id(case): f"c{n:03d}" for n, case in enumerate(CORPUS)}
    async with Sink() as sink:
        channels: list[ChannelConfig] = [
            *case_channels(sink.base_url, NEIGHBOURS, (ChannelType.SLACK,)),
            *case_channels(sink.base_url, DECOY, (ChannelType.SLACK,)),
        ]
        for case in CORPUS:
            if case.expect != "poison":
                channels += case_channels(sink.base_url, keys[id(case)])
        started = time.monotonic()
        async with ServiceRun.start(bootstrap, tmp, channels, dlq_config=BIG_TOPIC) as run:
            placed: list[Placed] = []
            neighbours: dict[str, int] = {}
            for schema, topic in (("audit-log", run.audit), ("hosted-auth-sessions", run.session)):
                cases = [c for c in CORPUS if c.schema == schema]
                values: list[bytes | None] = [neighbour(schema, 0)]
                for n, case in enumerate(cases, start=1):
                    values += [case.build(keys[id(case)]), neighbour(schema, n)]
                offsets = await run.produce(topic, values)
                neighbours[topic] = len(cases) + 1
                placed += [
                    Placed(keys[id(case)], case, topic, offsets[2 * n + 1], values[2 * n + 1])
                    for n, case in enumerate(cases)
                ]
            committed = await run.wait_committed()
            metrics = await run.metrics()
            alive = await run.alive()
        seconds = time.monotonic() - started
        dead = await run.dead_letters()
        return CorpusRun(
            run, placed, neighbours, list(sink.received), metrics, dead, committed, alive, seconds
        )


@pytest.fixture(scope="session")
def corpus_run(kafka_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    tmp = tmp_path_factory.mktemp("corpus")
    return run_in_thread(lambda: _corpus(kafka_broker.bootstrap, tmp))


# --- the fault run -----------------------------------------------------------------------------

FAULTS: Final = "faults"
#: The dead-letter topic of the fault run refuses records over this many bytes.
DLQ_MAX_BYTES: Final = 1024
RESETS: Final = 8


@dataclass
class FaultRun:
    run: ServiceRun
    received: list[Received]
    metrics: str
    valid: int
    small_poison: list[int]  # offsets of poison records that fit the dead-letter topic
    big_poison: list[int]  # offsets of poison records the dead-letter topic refuses
    dns_host: str
    dead: list[Dead]
    alive_at_end: bool

    def at(self, channel_type: ChannelType) -> list[Received]:
        prefix = f"/{FAULTS}/{channel_type.value}/"
        return [r for r in self.received if r.path.startswith(prefix)]


def fault_records(start: int, count: int) -> tuple[list[bytes], list[str]]:
    """`count` valid rows with a small and a big poison record after every fourth; kinds."""
    values: list[bytes] = []
    kinds: list[str] = []
    for n in range(start, start + count):
        values.append(orjson.dumps(audit_row(FAULTS, id=f"f-{n}", tag=f"fault:{n}")))
        kinds.append("valid")
        if n % 4 == 3:
            values += [b"{not json", b"{" + b"x" * (4 * DLQ_MAX_BYTES)]
            kinds += ["small", "big"]
    return values, kinds


async def _faults(bootstrap: str, tmp: Path) -> FaultRun:
    async with Sink() as sink:
        slack, discord = case_channels(
            sink.base_url, FAULTS, (ChannelType.SLACK, ChannelType.DISCORD)
        )
        resets = [ok()] * 4 + [reset()] * RESETS + [ok()]
        sink.script(urlsplit(discord.url).path, *resets)
        dns_host = f"hooks.{unique('nxdomain')}.invalid"
        dns = ChannelConfig(
            id=f"{FAULTS}-dns",
            project_id=FAULTS,
            type=ChannelType.SLACK,
            url=secret_url(f"http://{dns_host}", ChannelType.SLACK, FAULTS),
        )
        dlq_config = {"max.message.bytes": str(DLQ_MAX_BYTES)}
        async with ServiceRun.start(
            bootstrap, tmp, [slack, discord, dns], dlq_config=dlq_config
        ) as run:
            small: list[int] = []
            big: list[int] = []
            valid = 0
            for start in (0, 10):  # the second half arrives after the first is committed
                values, kinds = fault_records(start, 10)
                offsets = await run.produce(run.audit, values)
                small += [o for o, k in zip(offsets, kinds, strict=True) if k == "small"]
                big += [o for o, k in zip(offsets, kinds, strict=True) if k == "big"]
                valid += kinds.count("valid")
                await run.wait_committed()
            metrics = await run.metrics()
            alive = await run.alive()
        dead = await run.dead_letters()
        return FaultRun(run, list(sink.received), metrics, valid, small, big, dns_host, dead, alive)


@pytest.fixture(scope="session")
def fault_run(kafka_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> FaultRun:
    tmp = tmp_path_factory.mktemp("faults")
    return run_in_thread(lambda: _faults(kafka_broker.bootstrap, tmp))


# --- the commands ------------------------------------------------------------------------------


@dataclass
class Command:
    args: list[str]
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


SEND_TEST: Final = "send-test"


async def command(*args: str, env: dict[str, str] | None = None) -> Command:
    """`python -m consumer ARGS` in a child process, without blocking this loop."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("WEBHOOK_", "LOG_", "KAFKA_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "consumer",
        *args,
        env={**base, "KAFKA_SASL_PASSWORD": SASL_PASSWORD, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return Command(list(args), proc.returncode, out.decode(), err.decode())


def telegram_error() -> bytes:
    description = f"Bad Request: chat {CHAT_ID} not found for bot {BOT_TOKEN}"
    return orjson.dumps({"ok": False, "error_code": 400, "description": description})


async def _commands(bootstrap: str, tmp: Path) -> dict[str, Command]:
    async with Sink() as sink:
        base = sink.base_url
        urls = {t: secret_url(base, t, "st") for t in ChannelType}
        echo = f"{urls[ChannelType.SLACK]} {BOT_TOKEN} {CHAT_ID}".encode()
        answers = {
            ChannelType.SLACK: status(500, echo),
            ChannelType.DISCORD: reset(),
            ChannelType.TEAMS: redirect(urls[ChannelType.KAKAOWORK]),
            ChannelType.KAKAOWORK: ok(),
            ChannelType.TELEGRAM: status(400, telegram_error()),
        }
        for t, answer in answers.items():
            sink.script(urlsplit(urls[t]).path, answer)
        hang_url = secret_url(base, ChannelType.SLACK, "hang")
        sink.script(urlsplit(hang_url).path, hang())
        channels = [
            *case_channels(base, "st"),
            ChannelConfig(id="st-hang", project_id="st", type=ChannelType.SLACK, url=hang_url),
            ChannelConfig(
                id="st-dns",
                project_id="st",
                type=ChannelType.SLACK,
                url=secret_url(f"http://hooks.{unique('nx')}.invalid", ChannelType.SLACK, "st"),
            ),
        ]
        good = write_channels_file(tmp / "channels.yaml", channels)
        insecure = {"WEBHOOK_ALLOW_INSECURE_TARGETS": "true", "WEBHOOK_TIMEOUT_S": "1"}
        return {
            "send-test against failing channels": await command(
                SEND_TEST, env={"WEBHOOK_CHANNELS_FILE": str(good), **insecure}
            ),
            "send-test under the secure policy": await command(
                SEND_TEST, env={"WEBHOOK_CHANNELS_FILE": str(good)}
            ),
            "channels validate of a file the policy refuses": await command(
                "channels", "validate", str(good)
            ),
            "channels validate of a broken file": await command(
                "channels", "validate", str(broken_channels_file(tmp))
            ),
            "channels validate of a file with a syntax error": await command(
                "channels", "validate", str(syntax_error_file(tmp))
            ),
            "run with a channels file the policy refuses": await command(
                "run",
                env={
                    "WEBHOOK_CHANNELS_FILE": str(good),
                    "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                    "WEBHOOK_CHANNELS_TOPIC": "",
                    "HTTP_PORT": "0",
                },
            ),
            "--help": await command("--help"),
        }


def broken_channels_file(tmp: Path) -> Path:
    """Every kind of problem, each on a channel whose URL or chat id is a secret."""
    slack = secret_url("https://hooks.slack.com", ChannelType.SLACK, "b")
    raw: list[dict[str, object]] = [
        {"id": "b-http", "project_id": "p", "type": "slack", "url": slack.replace("https", "http")},
        {"id": "b-host", "project_id": "p", "type": "slack", "url": slack.replace("hooks.", "x.")},
        {
            "id": "b-userinfo",
            "project_id": "p",
            "type": "slack",
            "url": f"https://bot:{BOT_TOKEN}@hooks.slack.com/services/x",
        },
        {
            "id": "b-port",
            "project_id": "p",
            "type": "slack",
            "url": slack.replace(".com", ".com:8443"),
        },
        {
            "id": "b-no-chat",
            "project_id": "p",
            "type": "telegram",
            "url": f"https://api.telegram.org/bot{BOT_TOKEN}/sendMessage",
        },
        {
            "id": "b-type",
            "project_id": "p",
            "type": "matrix",
            "url": slack,
            "chat_id": CHAT_ID,
        },
        {"id": "b-http", "project_id": "p", "type": "slack", "url": slack, "chat_id": CHAT_ID},
        {"id": "b-extra", "project_id": "p", "type": "slack", "url": slack, "token": BOT_TOKEN},
        {"id": "b-rate", "project_id": "p", "type": "slack", "url": slack, "rate_per_s": CHAT_ID},
    ]
    path = tmp / "broken.json"
    path.write_bytes(orjson.dumps({"channels": raw}))
    return path


def syntax_error_file(tmp: Path) -> Path:
    slack = secret_url("https://hooks.slack.com", ChannelType.SLACK, "y")
    path = tmp / "syntax.yaml"
    path.write_text(
        f"channels:\n  - id: y\n    url: {slack}: [unclosed {CHAT_ID}\n    chat_id: '{CHAT_ID}\n"
    )
    return path


@pytest.fixture(scope="session")
def commands(kafka_broker: Broker, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Command]:
    tmp = tmp_path_factory.mktemp("commands")
    return run_in_thread(lambda: _commands(kafka_broker.bootstrap, tmp))
