"""A capture sink for demos: one HTTP server that answers like each chat provider and keeps
what it received.

Point a channel at `http://HOST:PORT/<type>/<anything>` (`<type>` is slack, discord, teams,
kakaowork or telegram) with `WEBHOOK_ALLOW_INSECURE_TARGETS=true`. Each POST is answered the way
that provider answers a good request, logged as one JSON line on stdout, and kept in memory:

    GET    /_received              every request so far: [{"provider", "path", "body", "at"}]
    GET    /_received?provider=X   only those for one provider
    DELETE /_received              forget them
    GET    /_health                200 "ok"

Run it: `python -m dev.capture_sink --host 0.0.0.0 --port 8088` (docker-compose.yml runs it in
the service image, where aiohttp is installed). In Python: `async with CaptureSink() as sink:`
then `sink.url`. It never calls out: it only answers.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self

import orjson
from aiohttp import web

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8088
MAX_KEPT = 10_000  # requests kept in memory; older ones are dropped first
_MASK = "***"


def _slack(_body: Any, _query: dict[str, str]) -> web.Response:
    # https://api.slack.com/messaging/webhooks: 200 with the body `ok`.
    return web.Response(status=200, text="ok")


def _discord(_body: Any, query: dict[str, str]) -> web.Response:
    # https://discord.com/developers/docs/resources/webhook#execute-webhook: 204, or 200 with
    # the created message when `?wait=true`.
    if query.get("wait") == "true":
        return web.json_response({"id": "0", "type": 0}, status=200)
    return web.Response(status=204)


def _teams(_body: Any, _query: dict[str, str]) -> web.Response:
    # Workflows (Power Automate) webhooks accept with 202 and an empty body.
    return web.Response(status=202)


def _kakaowork(_body: Any, _query: dict[str, str]) -> web.Response:
    # KakaoWork incoming webhooks and Web API: `{"success": true}`.
    return web.json_response({"success": True}, status=200)


def _telegram(body: Any, _query: dict[str, str]) -> web.Response:
    # https://core.telegram.org/bots/api#sendmessage: `{"ok": true, "result": Message}`.
    chat = body.get("chat_id") if isinstance(body, dict) else None
    text = body.get("text") if isinstance(body, dict) else None
    message = {"message_id": 1, "date": 0, "chat": {"id": chat}, "text": text}
    return web.json_response({"ok": True, "result": message}, status=200)


PROVIDERS: dict[str, Callable[[Any, dict[str, str]], web.Response]] = {
    "slack": _slack,
    "discord": _discord,
    "teams": _teams,
    "kakaowork": _kakaowork,
    "telegram": _telegram,
}


@dataclass(frozen=True, slots=True)
class Capture:
    """One POST the sink answered. `body` is the parsed JSON, or the text if it was not JSON."""

    provider: str
    path: str
    body: Any
    at: str  # RFC 3339, UTC

    def as_dict(self) -> dict[str, Any]:
        return {"provider": self.provider, "path": self.path, "body": self.body, "at": self.at}


@dataclass
class Store:
    """What the sink received, oldest first, at most MAX_KEPT."""

    captures: list[Capture] = field(default_factory=list)

    def add(self, capture: Capture) -> None:
        self.captures.append(capture)
        del self.captures[:-MAX_KEPT]

    def select(self, provider: str | None = None) -> list[Capture]:
        return [c for c in self.captures if provider in (None, c.provider)]


def redacted_path(path: str) -> str:
    """`/telegram/bot123:ABC/sendMessage` -> `/telegram/***`: a webhook path is a secret."""
    first = path.strip("/").split("/", 1)[0]
    return f"/{first}/{_MASK}" if path.strip("/") != first else f"/{first}"


def loggable(body: Any) -> Any:
    """The body as it may be printed: a Telegram chat id is masked."""
    if isinstance(body, dict) and "chat_id" in body:
        return {**body, "chat_id": _MASK}
    return body


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw.decode("utf-8", errors="replace")


STORE = web.AppKey("store", Store)


def make_app(
    store: Store | None = None, log: Callable[[str], None] | None = None
) -> web.Application:
    """The sink as an aiohttp application (its Store is `app[STORE]`)."""
    app = web.Application(client_max_size=1024 * 1024)
    app[STORE] = store if store is not None else Store()
    emit = log if log is not None else _print_line

    async def receive(request: web.Request) -> web.Response:
        provider = request.match_info["provider"]
        answer = PROVIDERS.get(provider)
        if answer is None:
            known = ", ".join(sorted(PROVIDERS))
            return web.Response(
                status=404, text=f"unknown provider {provider!r}; use /{{{known}}}/"
            )
        body = _parse(await request.read())
        capture = Capture(provider, request.path, body, datetime.now(UTC).isoformat())
        app[STORE].add(capture)
        line = {
            "event": "received",
            "provider": provider,
            "path": redacted_path(request.path),
            "body": loggable(body),
            "ts": capture.at,
        }
        emit(orjson.dumps(line).decode())
        return answer(body, dict(request.query))

    async def received(request: web.Request) -> web.Response:
        provider = request.query.get("provider")
        return web.json_response([c.as_dict() for c in app[STORE].select(provider)])

    async def forget(_request: web.Request) -> web.Response:
        app[STORE].captures.clear()
        return web.Response(status=204)

    async def health(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app.router.add_get("/_received", received)
    app.router.add_delete("/_received", forget)
    app.router.add_get("/_health", health)
    app.router.add_post("/{provider}", receive)
    app.router.add_post("/{provider}/{rest:.*}", receive)
    return app


def _print_line(line: str) -> None:
    print(line, flush=True)


class CaptureSink:
    """The sink on a real socket, for scripts and tests: `async with CaptureSink() as sink`."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = 0) -> None:
        self.host = host
        self.port = port
        self.store = Store()
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def start(self) -> None:
        self._runner = web.AppRunner(make_app(self.store, log=lambda _line: None))
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dev.capture_sink",
        description="Answer webhook POSTs like Slack, Discord, Teams, KakaoWork and Telegram, "
        "and keep what arrived (GET /_received).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"[default: {DEFAULT_HOST}]")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"[default: {DEFAULT_PORT}]")
    args = parser.parse_args(argv)
    print(f"capture sink on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        web.run_app(make_app(), host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
