"""The scripted sink keeps its promises: order of behaviours, recording, waiting, defaults."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.support.sink import Sink, hang, ok, redirect, retry_after, status


async def test_behaviours_play_in_order_and_the_last_repeats() -> None:
    async with Sink() as sink, aiohttp.ClientSession() as session:
        url = sink.script("/p", status(500), retry_after(2), ok(204, b""))
        seen = []
        for i in range(4):
            async with session.post(url, json={"n": i}) as response:
                seen.append((response.status, response.headers.get("Retry-After")))
        assert seen == [(500, None), (429, "2"), (204, None), (204, None)]
        assert sink.bodies("/p") == [{"n": 0}, {"n": 1}, {"n": 2}, {"n": 3}]
        assert sink.count("/other") == 0


async def test_unscripted_paths_get_the_default_and_redirects_are_not_followed_by_it() -> None:
    async with Sink(default=status(418)) as sink, aiohttp.ClientSession() as session:
        async with session.post(sink.url("/anything"), data=b"not json") as response:
            assert response.status == 418
        target = sink.script("/from", redirect("http://example.invalid/x"))
        async with session.post(target, allow_redirects=False) as response:
            assert response.status == 302
            assert response.headers["Location"] == "http://example.invalid/x"
        (first, _) = sink.received
        assert first.json is None
        assert first.body == b"not json"


async def test_a_hanging_request_is_recorded_before_it_hangs_and_wait_for_sees_it() -> None:
    async with Sink() as sink, aiohttp.ClientSession() as session:
        url = sink.script("/h", hang())
        request = asyncio.create_task(session.post(url, json={"k": "v"}))
        (arrived,) = await sink.wait_for("/h", 1, timeout=2)
        assert arrived.json == {"k": "v"}
        assert not request.done()
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        with pytest.raises(TimeoutError):
            await sink.wait_for("/h", 2, timeout=0.1)


async def test_a_json_retry_after_speaks_discord_and_telegram() -> None:
    async with Sink() as sink, aiohttp.ClientSession() as session:
        async with session.post(sink.script("/r", retry_after(0.5, json=True))) as response:
            body = await response.json()
        assert response.status == 429
        assert body["retry_after"] == 0.5
        assert body["parameters"] == {"retry_after": 0.5}


def test_paths_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="start with /"):
        Sink().script("relative")
