"""dev/capture_sink.py on a real socket: it answers like each provider and keeps what arrived."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import pytest

from consumer.channel import ChannelType
from dev.capture_sink import CaptureSink, loggable, make_app, redacted_path


@pytest.fixture
async def sink() -> AsyncIterator[CaptureSink]:
    async with CaptureSink() as running:
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
        yield session


@pytest.mark.parametrize(
    ("path", "status", "body"),
    [
        pytest.param("/slack/services/T/B/x", 200, b"ok", id="slack answers 200 ok"),
        pytest.param("/discord/api/webhooks/1/x", 204, b"", id="discord answers 204"),
        pytest.param("/teams/workflows/x", 202, b"", id="teams workflows answer 202"),
        pytest.param("/kakaowork/bots/hook/x", 200, {"success": True}, id="kakaowork says success"),
    ],
)
async def test_each_provider_is_answered_its_own_way(
    sink: CaptureSink,
    http: aiohttp.ClientSession,
    path: str,
    status: int,
    body: bytes | dict[str, Any],
) -> None:
    async with http.post(sink.url + path, json={"text": "hi"}) as response:
        assert response.status == status
        raw = await response.read()
    assert (orjson.loads(raw) if isinstance(body, dict) else raw) == body


async def test_telegram_answers_ok_true_with_the_message(
    sink: CaptureSink, http: aiohttp.ClientSession
) -> None:
    payload = {"chat_id": "-100123", "text": "hi", "parse_mode": "HTML"}
    async with http.post(sink.url + "/telegram/bot1:x/sendMessage", json=payload) as response:
        answer = await response.json()
    assert response.status == 200
    assert answer["ok"] is True
    assert answer["result"]["text"] == "hi"


async def test_discord_with_wait_true_answers_200_with_a_message(
    sink: CaptureSink, http: aiohttp.ClientSession
) -> None:
    async with http.post(sink.url + "/discord/x?wait=true", json={"content": "hi"}) as response:
        assert response.status == 200
        assert "id" in await response.json()


async def test_every_channel_type_of_the_service_has_a_provider_here(
    sink: CaptureSink, http: aiohttp.ClientSession
) -> None:
    for channel_type in ChannelType:
        async with http.post(
            f"{sink.url}/{channel_type.value}/x", json={"chat_id": "1"}
        ) as response:
            assert 200 <= response.status < 300, channel_type


async def test_an_unknown_provider_is_a_404_that_lists_the_known_ones(
    sink: CaptureSink, http: aiohttp.ClientSession
) -> None:
    async with http.post(sink.url + "/mattermost/x", json={}) as response:
        assert response.status == 404
        assert "slack" in await response.text()
    assert sink.store.captures == []


async def test_received_lists_what_arrived_in_order_filters_and_forgets(
    sink: CaptureSink, http: aiohttp.ClientSession
) -> None:
    await http.post(sink.url + "/slack/a", json={"text": "one"})
    await http.post(sink.url + "/discord/b", json={"content": "two"})
    await http.post(sink.url + "/slack/c", data=b"not json")
    async with http.get(sink.url + "/_received") as response:
        everything: list[dict[str, Any]] = await response.json()
    assert [(r["provider"], r["path"], r["body"]) for r in everything] == [
        ("slack", "/slack/a", {"text": "one"}),
        ("discord", "/discord/b", {"content": "two"}),
        ("slack", "/slack/c", "not json"),
    ]
    async with http.get(sink.url + "/_received", params={"provider": "discord"}) as response:
        assert [r["path"] for r in await response.json()] == ["/discord/b"]
    async with http.delete(sink.url + "/_received") as response:
        assert response.status == 204
    async with http.get(sink.url + "/_received") as response:
        assert await response.json() == []


async def test_the_log_line_hides_the_webhook_path_and_the_chat_id(
    http: aiohttp.ClientSession,
) -> None:
    from aiohttp import web

    lines: list[str] = []
    runner = web.AppRunner(make_app(log=lines.append))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        payload = {"chat_id": "-1009876543210", "text": "hello"}
        await http.post(f"http://{host}:{port}/telegram/bot123:SECRET/sendMessage", json=payload)
    finally:
        await runner.cleanup()
    assert len(lines) == 1
    line = orjson.loads(lines[0])
    assert line["provider"] == "telegram"
    assert line["body"]["text"] == "hello"
    assert "SECRET" not in lines[0]
    assert "9876543210" not in lines[0]


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        pytest.param("/slack/services/T/B/XXX", "/slack/***", id="everything after the type"),
        pytest.param("/teams", "/teams", id="a bare type has nothing to hide"),
    ],
)
def test_redacted_path(path: str, shown: str) -> None:
    assert redacted_path(path) == shown


def test_loggable_leaves_other_bodies_alone() -> None:
    assert loggable({"text": "x"}) == {"text": "x"}
    assert loggable("plain") == "plain"
