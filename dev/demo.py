"""`make demo`: the service at work on this machine, end to end, with nothing faked.

A local Kafka broker (KRaft, from the Maven Central jars), a capture sink that answers like the
five chat providers, `webhook-consumer run` as its own process with a demo channels file, then
the spec's scenarios published one by one. For each: did it notify, and what each channel got.
Everything is stopped and removed at the end, Ctrl-C included. The consumer's log stays in
`.cache/demo/consumer.log` for reading afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from consumer.decode import TopicSchema, decode
from consumer.rules import decide
from dev.capture_sink import Capture, CaptureSink
from dev.localkafka import LocalKafka, free_port

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ROOT / "tests" / "data" / "events"
LOG_DIR = ROOT / ".cache" / "demo"
AUDIT, SESSION = "audit-log", "hosted-auth-sessions"
CHANNELS_TOPIC, DLQ_TOPIC = "webhook-channels", "webhook-dlq"
PROJECT = "proj_demo"
WAIT_S = 15.0


@dataclass(frozen=True)
class Scenario:
    title: str
    topic: TopicSchema
    event: str | None  # a file under tests/data/events, or None for the poison record
    raw: bytes = b""


SCENARIOS = [
    Scenario(
        "guard step-up: hook blocks the command (gate audit row)",
        AUDIT,
        "guard_stepup_gate_pending",
    ),
    Scenario(
        "guard step-up: backend creates the pending session",
        SESSION,
        "guard_stepup_session_created",
    ),
    Scenario("guard step-up: human completes MFA", AUDIT, "mcp_stepup_success"),
    Scenario("guard step-up: human fails MFA", AUDIT, "mcp_stepup_failure"),
    Scenario(
        "guard step-up: same command retries after verification",
        AUDIT,
        "guard_gate_allow_after_verify",
    ),
    Scenario("guard: RBAC deny", AUDIT, "guard_deny_rbac"),
    Scenario("guard: step-up session create failed", AUDIT, "guard_deny_stepup_failure"),
    Scenario(
        "SDK: billing:refund at medium with webhookNotification", AUDIT, "billing_refund_forced"
    ),
    Scenario("SDK: redirectToStepUp session", SESSION, "sdk_redirect_stepup_session"),
    Scenario("hosted-auth signin session", SESSION, "signin_session"),
    Scenario("hosted-auth console session", SESSION, "console_session"),
    Scenario("session verified (lifecycle, not a request)", SESSION, "session_verified"),
    Scenario("a poison record (not JSON)", AUDIT, None, b'{"id": "aud_1", "tag": '),
]


def channels_file(sink_url: str, path: Path) -> Path:
    """One channel of every type for the demo project, all pointing at the capture sink."""
    channels = [
        {"id": "sec-slack", "type": "slack", "url": f"{sink_url}/slack/T000/B000/demo"},
        {"id": "sec-discord", "type": "discord", "url": f"{sink_url}/discord/000/demo-token"},
        {"id": "sec-teams", "type": "teams", "url": f"{sink_url}/teams/workflows/demo?sig=demo"},
        {"id": "sec-kakaowork", "type": "kakaowork", "url": f"{sink_url}/kakaowork/bots/hook/demo"},
        {
            "id": "oncall-telegram",
            "type": "telegram",
            "url": f"{sink_url}/telegram/botDEMO:TOKEN/sendMessage",
            "chat_id": "-1001234567890",
        },
        {
            "id": "old-slack",
            "type": "slack",
            "url": f"{sink_url}/slack/T000/B000/old",
            "active": False,
        },
    ]
    for c in channels:
        c.setdefault("active", True)
        c["project_id"] = PROJECT
    path.write_text(yaml.safe_dump({"channels": channels}, sort_keys=False))
    return path


# -- what each channel received, readably ----------------------------------------------------

_TAG = re.compile(r"<[^>]+>")


def _first(text: str, limit: int = 90) -> str:
    line = text.split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1] + "…"


def summarize(capture: Capture) -> str:
    body: Any = capture.body
    if not isinstance(body, dict):
        return f"(not JSON: {str(body)[:60]})"
    if capture.provider == "slack":
        text = html.unescape(body.get("text", ""))
        return f"text: {_first(text)} (+{text.count(chr(10))} lines)"
    if capture.provider == "discord":
        embeds = body.get("embeds") or []
        title = embeds[0].get("title", "") if embeds else _first(body.get("content", ""))
        mentions = (
            "mentions off" if body.get("allowed_mentions") == {"parse": []} else "MENTIONS ON"
        )
        return f"embed: {title} ({mentions})"
    if capture.provider == "teams":
        card = body["attachments"][0]["content"]
        title = next(
            (b.get("text") for b in card.get("body", []) if b.get("type") == "TextBlock"), ""
        )
        facts = sum(
            len(b.get("facts", [])) for b in card.get("body", []) if b.get("type") == "FactSet"
        )
        actions = [a.get("title") for a in card.get("actions", [])]
        button = f", button {actions[0]!r}" if actions else ""
        return f"adaptive card: {title}, {facts} facts{button}"
    if capture.provider == "kakaowork":
        kinds = [str(b.get("type")) for b in body.get("blocks", [])]
        counted = [
            f"{kinds.count(k)}× {k}" if kinds.count(k) > 1 else k for k in dict.fromkeys(kinds)
        ]
        return f"text: {_first(body.get('text', ''))}; blocks: {', '.join(counted)}"
    if capture.provider == "telegram":
        text = html.unescape(_TAG.sub("", body.get("text", "")))
        return f"HTML message: {_first(text)} (parse_mode {body.get('parse_mode')})"
    return _first(str(body))


def expectation(scenario: Scenario) -> str:
    if scenario.event is None:
        return "poison: logged, counted, sent to the dead-letter topic, committed"
    decision = decide(decode(scenario.topic, (EVENTS / f"{scenario.event}.json").read_bytes()))
    return f"{'notifies' if decision.fires else 'no notification'} ({decision.reason})"


# -- metrics ---------------------------------------------------------------------------------

_SAMPLE = re.compile(r"^(\w+)(?:\{(.*)\})? ([0-9.e+-]+)$")


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        m = _SAMPLE.match(line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def total(samples: list[tuple[str, dict[str, str], float]], name: str, **match: str) -> float:
    return sum(
        v
        for n, labels, v in samples
        if n == name and all(labels.get(k) == w for k, w in match.items())
    )


class Demo:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.kafka = LocalKafka()
        self.sink = CaptureSink()
        self.consumer: subprocess.Popen[bytes] | None = None
        self.http_port = free_port()

    async def metrics(self, http: aiohttp.ClientSession) -> list[tuple[str, dict[str, str], float]]:
        async with http.get(f"http://127.0.0.1:{self.http_port}/metrics") as r:
            return parse_metrics(await r.text())

    async def run(self) -> None:
        t0 = time.monotonic()
        print("== transcodes-webhooks demo ==")
        await asyncio.to_thread(self.kafka.start)
        print(
            f"kafka   {self.kafka.bootstrap} (KRaft, started in {self.kafka.startup_seconds:.1f}s)"
        )
        await self._topics()
        await self.sink.start()
        print(f"sink    {self.sink.url} (answers like Slack, Discord, Teams, KakaoWork, Telegram)")
        path = channels_file(self.sink.url, self.workdir / "channels.yaml")
        print(f"channels {PROJECT}: one active channel of each type, one inactive slack")
        self._start_consumer(path)
        async with aiohttp.ClientSession() as http:
            await self._wait_ready(http)
            print(f"consumer ready (http :{self.http_port}); log: {LOG_DIR / 'consumer.log'}\n")
            producer = AIOKafkaProducer(bootstrap_servers=self.kafka.bootstrap, acks="all")
            await producer.start()
            try:
                for i, scenario in enumerate(SCENARIOS, 1):
                    await self._play(i, scenario, producer, http)
            finally:
                await producer.stop()
            await self._summary(http)
        print(f"\ndone in {time.monotonic() - t0:.1f}s")

    async def _topics(self) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka.bootstrap)
        await admin.start()
        try:
            await admin.create_topics(
                [
                    NewTopic(AUDIT, 3, 1),
                    NewTopic(SESSION, 3, 1),
                    NewTopic(DLQ_TOPIC, 1, 1),
                    NewTopic(CHANNELS_TOPIC, 1, 1, topic_configs={"cleanup.policy": "compact"}),
                ]
            )
        finally:
            await admin.close()

    def _start_consumer(self, channels: Path) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap,
            "WEBHOOK_CHANNELS_FILE": str(channels),
            "WEBHOOK_CHANNELS_TOPIC": CHANNELS_TOPIC,
            "WEBHOOK_DLQ_TOPIC": DLQ_TOPIC,
            "WEBHOOK_ALLOW_INSECURE_TARGETS": "true",  # the sink is on 127.0.0.1 over http
            "WEBHOOK_START_FROM": "earliest",
            "HTTP_PORT": str(self.http_port),
        }
        log = (LOG_DIR / "consumer.log").open("wb")
        self.consumer = subprocess.Popen(
            [sys.executable, "-m", "consumer", "run"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,  # Ctrl-C reaches the demo only; it stops the consumer itself
        )
        log.close()

    async def _wait_ready(self, http: aiohttp.ClientSession) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.consumer is not None and self.consumer.poll() is not None:
                raise RuntimeError(f"the consumer exited; see {LOG_DIR / 'consumer.log'}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{self.http_port}/readyz") as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.2)
        raise RuntimeError("the consumer did not become ready in 60 s")

    async def _play(
        self, i: int, scenario: Scenario, producer: AIOKafkaProducer, http: aiohttp.ClientSession
    ) -> None:
        before = await self.metrics(http)
        seen = len(self.sink.store.captures)
        value = (
            scenario.raw
            if scenario.event is None
            else (EVENTS / f"{scenario.event}.json").read_bytes()
        )
        await producer.send_and_wait(scenario.topic, value, key=b"ada")
        print(f"{i:2}. {scenario.title}  [{scenario.topic}]")
        print(f"    expected: {expectation(scenario)}")
        done_before = total(before, "webhook_records_decoded_total") + total(
            before, "webhook_records_poison_total"
        )
        fired_before = total(before, "webhook_notifications_total")
        deliveries_before = total(before, "webhook_deliveries_total")
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            now = await self.metrics(http)
            done = total(now, "webhook_records_decoded_total") + total(
                now, "webhook_records_poison_total"
            )
            fired = total(now, "webhook_notifications_total") > fired_before
            delivered = total(now, "webhook_deliveries_total") - deliveries_before
            if done > done_before and (not fired or delivered >= 5):
                break
            await asyncio.sleep(0.05)
        else:
            print("    (still running after 15 s; moving on)")
        captures = self.sink.store.captures[seen:]
        if not captures:
            print("    chat: nothing sent")
        for c in sorted(captures, key=lambda c: c.provider):
            print(f"    {c.provider:<10} {summarize(c)}")
        print()

    async def _summary(self, http: aiohttp.ClientSession) -> None:
        m = await self.metrics(http)
        print("== consumer metrics ==")
        consumed = "webhook_records_consumed_total"
        print(
            f"records consumed   audit-log {total(m, consumed, topic=AUDIT):.0f}, "
            f"hosted-auth-sessions {total(m, consumed, topic=SESSION):.0f}"
        )
        print(
            f"poison records     {total(m, 'webhook_records_poison_total'):.0f} "
            f"(dead-lettered {total(m, 'webhook_dlq_published_total', outcome='ok'):.0f})"
        )
        fired = "webhook_notifications_total"
        print(
            f"notifications      audit {total(m, fired, kind='audit'):.0f}, "
            f"session {total(m, fired, kind='session'):.0f}"
        )
        outcomes = sorted(
            {labels["outcome"] for n, labels, _ in m if n == "webhook_deliveries_total"}
        )
        parts = [f"{o} {total(m, 'webhook_deliveries_total', outcome=o):.0f}" for o in outcomes]
        print(f"deliveries         {', '.join(parts) or 'none'}")
        for kind in ("slack", "discord", "teams", "kakaowork", "telegram"):
            n = total(m, "webhook_delivery_duration_seconds_count", channel_type=kind)
            s = total(m, "webhook_delivery_duration_seconds_sum", channel_type=kind)
            if n:
                print(f"  {kind:<10} {n:.0f} posts, mean {1000 * s / n:.1f} ms")
        print(
            "  (times include pacing at each provider's published rate, e.g. Telegram 1/s per chat)"
        )

    async def close(self) -> None:
        if self.consumer is not None and self.consumer.poll() is None:
            t0 = time.monotonic()
            self.consumer.send_signal(signal.SIGTERM)
            try:
                code = await asyncio.to_thread(self.consumer.wait, 15)
                print(f"consumer stopped on SIGTERM in {time.monotonic() - t0:.1f}s (exit {code})")
            except subprocess.TimeoutExpired:
                self.consumer.kill()
        await self.sink.stop()
        await asyncio.to_thread(self.kafka.stop)


async def main() -> int:
    with tempfile.TemporaryDirectory(prefix="webhooks-demo-") as tmp:
        demo = Demo(Path(tmp))
        try:
            await demo.run()
        finally:
            await asyncio.shield(demo.close())
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        print("\ninterrupted: everything stopped and removed")
        sys.exit(130)
