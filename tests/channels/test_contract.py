"""The contract every channel module keeps, one parametrized test per rule (STYLE.md §6).

- limits: for generated huge and hostile notifications (hypothesis) every provider limit holds,
  the verify link is always there when given, and so is the start of the title;
- escaping: hostile strings in any field stay text (no mention, link, tag or markdown);
- secrets: the URL's secret parts (and Telegram's chat id) appear in `request.url` (and the
  body's `chat_id`) only: never in the body text, a `repr`, an error or a Verdict detail;
- classification of 200/202/204/400/403/404/410/429/500/503 with each provider's real answers.

The limit numbers below are written out from the providers' docs, not read from the modules.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from html.parser import HTMLParser
from typing import Any, Final

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumer.channel import ChannelConfig, ChannelType
from consumer.channels import CHANNELS
from consumer.channels.base import OutboundRequest, Outcome
from consumer.channels.text import clean
from consumer.errors import ChannelsError
from consumer.notification import Field, Notification
from tests.channels.cases import SECRET_CHAT_ID, SECRET_URLS, VERIFY_URL, channel, session

TYPES: Final = list(ChannelType)


def ids(value: object) -> str:
    return value.value if isinstance(value, ChannelType) else str(value)


def body(request: OutboundRequest) -> dict[str, Any]:
    """The body as the provider receives it."""
    parsed: dict[str, Any] = orjson.loads(request.body_bytes())
    return parsed


def strings(value: object) -> Iterator[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def u16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# --- what "within limits" means per provider -----------------------------------------------


def slack_limits(b: dict[str, Any]) -> list[str]:
    return ["text over 4000"] if u16(b["text"]) > 4000 else []


def discord_limits(b: dict[str, Any]) -> list[str]:
    problems = []
    if b.get("allowed_mentions") != {"parse": []}:
        problems.append("allowed_mentions")
    if u16(b.get("content", "")) > 2000:
        problems.append("content over 2000")
    embeds = b.get("embeds", [])
    if len(embeds) > 10:
        problems.append("over 10 embeds")
    total = 0
    for embed in embeds:
        title, description = embed.get("title", ""), embed.get("description", "")
        fields = embed.get("fields", [])
        if u16(title) > 256:
            problems.append("title over 256")
        if u16(description) > 4096:
            problems.append("description over 4096")
        if len(fields) > 25:
            problems.append("over 25 fields")
        for f in fields:
            if u16(f["name"]) > 256 or u16(f["value"]) > 1024:
                problems.append("field over 256 / 1024")
        total += u16(title) + u16(description) + sum(u16(f["name"] + f["value"]) for f in fields)
    if total > 6000:
        problems.append("embeds over 6000")
    return problems


def teams_limits(b: dict[str, Any]) -> list[str]:
    problems = []
    if len(orjson.dumps(b)) > 28_000:
        problems.append("payload over 28 KB")
    card = b["attachments"][0]["content"]
    if tuple(int(x) for x in card["version"].split(".")) < (1, 2):
        problems.append("card version under 1.2")
    return problems


def kakaowork_limits(b: dict[str, Any]) -> list[str]:
    problems = []
    if len(b["blocks"]) > 50:
        problems.append("over 50 blocks")
    if u16(b["text"]) > 500:
        problems.append("text over 500")
    for block in b["blocks"]:
        kind = block["type"]
        if kind == "header" and u16(block["text"]) > 20:
            problems.append("header over 20")
        if kind == "text" and not 0 < u16(block["text"]) <= 500:
            problems.append("text block empty or over 500")
        if kind == "description":
            if u16(block["term"]) > 10:
                problems.append("term over 10")
            if not 0 < u16(block["content"]["text"]) <= 500:
                problems.append("description empty or over 500")
        if kind == "button" and u16(block["text"]) > 20:
            problems.append("button over 20")
    return problems


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.starts: list[str] = []
        self.ends: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.starts.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self.ends.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def telegram_tags(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    parser.close()
    return parser


def telegram_limits(b: dict[str, Any]) -> list[str]:
    problems = []
    if u16(b["text"]) > 4096:
        problems.append("text over 4096")
    if u16("".join(telegram_tags(b["text"]).text)) > 4096:
        problems.append("parsed text over 4096")
    if b.get("link_preview_options") != {"is_disabled": True}:
        problems.append("link preview on")
    return problems


LIMITS: Final[dict[ChannelType, Callable[[dict[str, Any]], list[str]]]] = {
    ChannelType.SLACK: slack_limits,
    ChannelType.DISCORD: discord_limits,
    ChannelType.TEAMS: teams_limits,
    ChannelType.KAKAOWORK: kakaowork_limits,
    ChannelType.TELEGRAM: telegram_limits,
}

_BACKSLASH_ESCAPE = re.compile(r"\\(.)")


def shown(channel_type: ChannelType, text: str) -> str:
    """Roughly what a reader sees of one string of a body (markup and escapes undone)."""
    if channel_type in (ChannelType.SLACK, ChannelType.TELEGRAM):
        return html.unescape(re.sub(r"</?b>", "", text)).replace("@\u200b", "@")
    if channel_type in (ChannelType.DISCORD, ChannelType.TEAMS):
        return _BACKSLASH_ESCAPE.sub(r"\1", text).replace("\u200b", "")
    return text


def shows(channel_type: ChannelType, request: OutboundRequest, wanted: str) -> bool:
    return any(wanted in shown(channel_type, s) for s in strings(body(request)))


# --- generated notifications -----------------------------------------------------------------

HOSTILE: Final = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U024BE7LH>",
    "<https://evil.example|click here>",
    "@everyone",
    "@here",
    "<b>bold</b>",
    "</a>",
    '<a href="https://evil.example">x</a>',
    "&amp;",
    "&lt;script&gt;",
    "**bold** __u__ _it_ ~~strike~~ `code` ```block``` ||spoiler||",
    "[click](https://evil.example)",
    "![img](https://evil.example/x.png)",
    "# heading",
    "> quote",
    "- list",
    "ze\u200bro\u200cwi\u200ddth\u2060\ufeff",
    "\u202eevil\u202c \u2066iso\u2069 \u200fx",
    "line\nbreak\rVerify: https://evil.example",
    "<" + "b" * 10_000 + ">",
    "\\*already escaped\\*",
    "<t:0:R> <#123> <@&456> <:emoji:789>",
    "\U0001f600\U0001f468\u200d\U0001f469\u200d\U0001f467",
]
LABELS: Final = ["Status", "Severity", "Actor", "Role", "Time", "Metadata", "Resource", "Reason"]

_huge = st.one_of(
    st.text(max_size=60),
    st.sampled_from(HOSTILE),
    st.builds(lambda t, n: t * n, st.text(min_size=1, max_size=20), st.integers(100, 3000)),
    st.builds(lambda t, n: t * n, st.sampled_from(HOSTILE[:20]), st.integers(10, 2000)),
)
_url_tail = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~/?=&%", min_size=0, max_size=2000
)
_verify = st.one_of(st.none(), _url_tail.map(lambda t: f"https://auth.example.com/v/{t}"))


@st.composite
def notifications(draw: st.DrawFn) -> Notification:
    verify = draw(_verify)
    fields = [
        Field(draw(st.sampled_from(LABELS)), draw(_huge), same_line=draw(st.booleans()))
        for _ in range(draw(st.integers(0, 12)))
    ]
    if verify:
        fields.insert(draw(st.integers(0, len(fields))), Field("Verify", verify))
    return Notification(
        kind=draw(st.sampled_from(["audit", "session", "test"])),
        project_id="proj_123",
        event_id="e1",
        title=draw(st.sampled_from(["[Audit] ", "[Step-up] "])) + draw(_huge),
        fields=tuple(fields),
        verify_url=verify,
        severity=draw(st.sampled_from([None, "low", "medium", "high"])),
        success=draw(st.sampled_from([None, True, False])),
    )


@pytest.mark.parametrize("channel_type", TYPES, ids=ids)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(notification=notifications())
def test_every_limit_holds_and_the_title_and_verify_link_survive(
    channel_type: ChannelType, notification: Notification
) -> None:
    request = CHANNELS[channel_type].render(notification, channel(channel_type))
    assert LIMITS[channel_type](body(request)) == []
    if notification.verify_url:
        assert shows(channel_type, request, notification.verify_url)
    start = clean(notification.title)[:20].strip()
    assert shows(channel_type, request, start)


# --- escaping ----------------------------------------------------------------------------------

_SPECIALS_DISCORD = "*_~`|<>"
_SPECIALS_TEAMS = "*_~`"


def unescaped(text: str, specials: str) -> list[str]:
    """Characters of `specials` (and `](`) in markdown `text` not escaped by a backslash."""
    found = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch in specials or (ch == "(" and i and text[i - 1] == "]"):
            found.append(ch)
        i += 1
    return found


def inert_slack(b: dict[str, Any]) -> list[str]:
    text = b["text"]
    problems = [c for c in "<>" if c in text]
    if re.search(r"&(?!amp;|lt;|gt;)", text):
        problems.append("bare &")
    return problems


def inert_telegram(b: dict[str, Any]) -> list[str]:
    tags = telegram_tags(b["text"])
    problems = [] if tags.starts == ["b"] and tags.ends == ["b"] else ["tags other than our <b>"]
    if re.search(r"&(?!amp;|lt;|gt;)", b["text"]):
        problems.append("bare &")
    if b["parse_mode"] != "HTML":
        problems.append("parse mode")
    return problems


_MENTION = re.compile(r"@(everyone|here)\b", re.IGNORECASE)


def inert_discord(b: dict[str, Any]) -> list[str]:
    problems = [] if b["allowed_mentions"] == {"parse": []} else ["allowed_mentions"]
    for embed in b["embeds"]:
        texts = [embed["title"]]
        for line in embed.get("description", "").split("\n"):
            label, _, value = line.partition(":** ")
            if label == "**Verify" and value.startswith("<https://"):
                continue  # our own autolink of the verify URL
            texts += [label.removeprefix("**"), value]
        for text in texts:
            problems += unescaped(text, _SPECIALS_DISCORD)
            problems += _MENTION.findall(text)
    return problems


def inert_teams(b: dict[str, Any]) -> list[str]:
    card = b["attachments"][0]["content"]
    problems = ["msteams entities"] if "msteams" in card else []
    for element in card["body"]:
        texts = [element["text"]] if element["type"] == "TextBlock" else []
        for fact in element.get("facts", []):
            texts += [fact["title"], fact["value"]]
        for text in texts:
            problems += unescaped(text, _SPECIALS_TEAMS)
    return problems


def inert_kakaowork(b: dict[str, Any]) -> list[str]:
    problems = []
    for block in b["blocks"]:
        text_block = block.get("content", block)
        if text_block["type"] == "text" and text_block.get("markdown") is not False:
            problems.append("markdown on")
        if "inlines" in text_block:
            problems.append("inlines")
    return problems


INERT: Final[dict[ChannelType, Callable[[dict[str, Any]], list[str]]]] = {
    ChannelType.SLACK: inert_slack,
    ChannelType.DISCORD: inert_discord,
    ChannelType.TEAMS: inert_teams,
    ChannelType.KAKAOWORK: inert_kakaowork,
    ChannelType.TELEGRAM: inert_telegram,
}

_INVISIBLE = re.compile("[\u200c-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")


def hostile_notifications(text: str) -> dict[str, Notification]:
    """`text` in the title, in a field value, in the metadata line and as a label."""
    base = session(resource="db/prod", reason="risky")
    return {
        "in the title": replace(base, title=f"[Audit] {text}"),
        "in a field value": session(resource=text, action=text, reason=text),
        "in the metadata line": replace(
            base, fields=(*base.fields, Field("Metadata", f"k={text}"))
        ),
        "as a field label": replace(base, fields=(Field(text, "value"), *base.fields)),
    }


@pytest.mark.parametrize("channel_type", TYPES, ids=ids)
@pytest.mark.parametrize("where", list(hostile_notifications("x")))
@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: ascii(t[:40]))
def test_hostile_text_stays_text(channel_type: ChannelType, where: str, text: str) -> None:
    notification = hostile_notifications(text)[where]
    request = CHANNELS[channel_type].render(notification, channel(channel_type))
    b = body(request)
    assert INERT[channel_type](b) == []
    assert LIMITS[channel_type](b) == []
    rendered = "\n".join(strings(b))
    assert not _INVISIBLE.search(rendered), "bidi or zero-width characters passed through"
    assert "\u200b" not in rendered.replace("@\u200b", "@"), (
        "a zero-width space not breaking a mention"
    )
    assert shows(channel_type, request, VERIFY_URL)
    if channel_type in (ChannelType.SLACK, ChannelType.TELEGRAM):
        verify_lines = [s for s in b["text"].split("\n") if s.startswith("Verify:")]
        assert len(verify_lines) == 1, "a newline in event data made a line of its own"


# --- secrets -----------------------------------------------------------------------------------


def secret_channel(channel_type: ChannelType) -> ChannelConfig:
    extra = {"chat_id": SECRET_CHAT_ID} if channel_type is ChannelType.TELEGRAM else {}
    return channel(channel_type, SECRET_URLS[channel_type], **extra)


SECRET_PARTS: Final[dict[ChannelType, str]] = {
    ChannelType.SLACK: "slackSECRET3xyz",
    ChannelType.DISCORD: "discordSECRET42tok",
    ChannelType.TEAMS: "teamsSECRET99sig",
    ChannelType.KAKAOWORK: "kakaoSECRET0key77",
    ChannelType.TELEGRAM: "telegramSECRET88token",
}


@pytest.mark.parametrize("channel_type", TYPES, ids=ids)
def test_the_secret_url_is_only_in_request_url(channel_type: ChannelType) -> None:
    secret = SECRET_PARTS[channel_type]
    config = secret_channel(channel_type)
    request = CHANNELS[channel_type].render(session(reason="x"), config)
    assert secret in request.url
    for shown_text in (repr(request), str(request), request.body_bytes().decode(), repr(config)):
        assert secret not in shown_text
        assert SECRET_CHAT_ID not in shown_text.replace(f'"chat_id":"{SECRET_CHAT_ID}"', "")


def test_the_telegram_chat_id_is_only_the_body_chat_id() -> None:
    request = CHANNELS[ChannelType.TELEGRAM].render(
        session(reason="x"), secret_channel(ChannelType.TELEGRAM)
    )
    b = body(request)
    assert b["chat_id"] == SECRET_CHAT_ID
    assert all(SECRET_CHAT_ID not in s for key, s in b.items() if key != "chat_id")
    assert SECRET_CHAT_ID not in request.url
    assert SECRET_CHAT_ID not in repr(request)


def test_a_telegram_channel_without_chat_id_is_an_error_that_names_no_secret() -> None:
    config = ChannelConfig.model_construct(  # bypasses the validator that requires a chat id
        id="tg", project_id="p", type=ChannelType.TELEGRAM, url=SECRET_URLS[ChannelType.TELEGRAM]
    )
    with pytest.raises(ChannelsError) as caught:
        CHANNELS[ChannelType.TELEGRAM].render(session(), config)
    assert "SECRET" not in str(caught.value)
    assert "tg" in str(caught.value)


def echo_bodies(channel_type: ChannelType) -> list[bytes]:
    """Error answers that repeat the URL, its secret part and the chat id back at us."""
    url, secret = SECRET_URLS[channel_type], SECRET_PARTS[channel_type]
    echo = f"{url} {secret} {SECRET_CHAT_ID}"
    return [
        echo.encode(),
        secret.encode(),
        orjson.dumps({"message": echo, "code": 10015, "error": secret}),
        orjson.dumps({"error": {"code": secret, "message": echo}, "success": False}),
        orjson.dumps({"ok": False, "error_code": 400, "description": f"Bad Request: {echo}"}),
        orjson.dumps({"ok": False, "error_code": 403, "description": f'"{secret}" forbidden'}),
    ]


@pytest.mark.parametrize("channel_type", TYPES, ids=ids)
@pytest.mark.parametrize("status", [200, 400, 401, 403, 404, 429, 500])
def test_a_verdict_detail_never_repeats_a_secret(channel_type: ChannelType, status: int) -> None:
    for answer in echo_bodies(channel_type):
        verdict = CHANNELS[channel_type].classify(status, {"Retry-After": "1"}, answer)
        assert SECRET_PARTS[channel_type] not in verdict.detail
        assert "SECRET" not in verdict.detail
        assert "://" not in verdict.detail
        assert SECRET_CHAT_ID.lstrip("-") not in verdict.detail
        assert len(verdict.detail) <= 80


# --- the registry --------------------------------------------------------------------------------


@pytest.mark.parametrize("channel_type", TYPES, ids=ids)
def test_each_type_has_its_module_with_a_published_rate(channel_type: ChannelType) -> None:
    module = CHANNELS[channel_type]
    assert module.TYPE is channel_type
    assert 0 < module.RATE_PER_S <= 5
    assert 1 <= module.BURST <= 10


@pytest.mark.parametrize("channel_type", TYPES, ids=ids)
def test_rendering_is_a_pure_json_post(channel_type: ChannelType) -> None:
    module, config = CHANNELS[channel_type], channel(channel_type)
    notification = session(resource="db/prod", action="drop", reason="because")
    first, second = module.render(notification, config), module.render(notification, config)
    assert first.body_bytes() == second.body_bytes()
    assert first.method == "POST"
    assert first.headers["Content-Type"] == "application/json"
    assert first.url.startswith("https://")
    assert body(first)


# --- classification ------------------------------------------------------------------------------

D, REJ, RL, F = Outcome.DELIVERED, Outcome.REJECTED, Outcome.RATE_LIMITED, Outcome.FAILED
NO: Final[Mapping[str, str]] = {}
RA: Final[Mapping[str, str]] = {"Retry-After": "3"}


def j(value: object) -> bytes:
    return orjson.dumps(value)


# channel, status, headers, body, outcome, retry_after, a word the detail must contain
ANSWERS: Final = [
    # Slack: 200 "ok" is the only success; errors are short codes in the body.
    (ChannelType.SLACK, 200, NO, b"ok", D, None, ""),
    (ChannelType.SLACK, 200, NO, b"no_text", REJ, None, "no_text"),
    (ChannelType.SLACK, 200, NO, j({"ok": True}), D, None, ""),
    (ChannelType.SLACK, 202, NO, b"", REJ, None, "unexpected"),
    (ChannelType.SLACK, 204, NO, b"", REJ, None, "unexpected"),
    (ChannelType.SLACK, 400, NO, b"invalid_payload", REJ, None, "invalid_payload"),
    (ChannelType.SLACK, 403, NO, b"action_prohibited", REJ, None, "action_prohibited"),
    (ChannelType.SLACK, 404, NO, b"no_service", REJ, None, "no_service"),
    (ChannelType.SLACK, 410, NO, b"channel_is_archived", REJ, None, "channel_is_archived"),
    (ChannelType.SLACK, 429, RA, b"rate_limited", RL, 3.0, "429"),
    (ChannelType.SLACK, 500, NO, b"rollup_error", F, None, "rollup_error"),
    (ChannelType.SLACK, 503, NO, b"<html>Service Unavailable</html>", F, None, "503"),
    # Discord: 204, or 200 with ?wait=true; 429 says when in its JSON body.
    (ChannelType.DISCORD, 200, NO, j({"id": "1", "type": 0}), D, None, ""),
    (ChannelType.DISCORD, 202, NO, b"", D, None, ""),
    (ChannelType.DISCORD, 204, NO, b"", D, None, ""),
    (
        ChannelType.DISCORD,
        400,
        NO,
        j({"code": 50035, "message": "Invalid Form Body", "errors": {}}),
        REJ,
        None,
        "50035",
    ),
    (
        ChannelType.DISCORD,
        403,
        NO,
        j({"code": 50013, "message": "Missing Permissions"}),
        REJ,
        None,
        "Missing",
    ),
    (
        ChannelType.DISCORD,
        404,
        NO,
        j({"code": 10015, "message": "Unknown Webhook"}),
        REJ,
        None,
        "Unknown Webhook",
    ),
    (ChannelType.DISCORD, 410, NO, b"", REJ, None, "410"),
    (
        ChannelType.DISCORD,
        429,
        {"Retry-After": "2", "X-RateLimit-Scope": "user"},
        j({"message": "You are being rate limited.", "retry_after": 1.5, "global": False}),
        RL,
        1.5,
        "rate limited",
    ),
    (
        ChannelType.DISCORD,
        500,
        NO,
        j({"message": "500: Internal Server Error", "code": 0}),
        F,
        None,
        "500",
    ),
    (ChannelType.DISCORD, 503, NO, b"upstream connect error", F, None, "503"),
    # Teams Workflows: 202 Accepted (200 too); errors as {"error": {"code", "message"}}.
    (ChannelType.TEAMS, 200, NO, b"", D, None, ""),
    (ChannelType.TEAMS, 202, NO, b"", D, None, ""),
    (ChannelType.TEAMS, 204, NO, b"", D, None, ""),
    (
        ChannelType.TEAMS,
        400,
        NO,
        j({"error": {"code": "TriggerInputSchemaMismatch", "message": "The input body ..."}}),
        REJ,
        None,
        "TriggerInputSchemaMismatch",
    ),
    (
        ChannelType.TEAMS,
        403,
        NO,
        j({"error": {"code": "DirectApiAuthorizationRequired", "message": "..."}}),
        REJ,
        None,
        "DirectApiAuthorizationRequired",
    ),
    (
        ChannelType.TEAMS,
        404,
        NO,
        j({"error": {"code": "WorkflowNotFound", "message": "..."}}),
        REJ,
        None,
        "WorkflowNotFound",
    ),
    (ChannelType.TEAMS, 410, NO, b"", REJ, None, "410"),
    (
        ChannelType.TEAMS,
        429,
        RA,
        j({"error": {"code": "WorkflowTriggeredTooManyTimes", "message": "..."}}),
        RL,
        3.0,
        "429",
    ),
    (ChannelType.TEAMS, 500, NO, j({"error": {"code": "InternalServerError"}}), F, None, "500"),
    (ChannelType.TEAMS, 503, NO, b"", F, None, "503"),
    # KakaoWork: 2xx unless the answer says "success": false.
    (ChannelType.KAKAOWORK, 200, NO, j({"success": True}), D, None, ""),
    (
        ChannelType.KAKAOWORK,
        200,
        NO,
        j({"success": False, "error": {"code": "invalid_parameter", "message": "blocks"}}),
        REJ,
        None,
        "invalid_parameter",
    ),
    (ChannelType.KAKAOWORK, 202, NO, b"", D, None, ""),
    (ChannelType.KAKAOWORK, 204, NO, b"", D, None, ""),
    (
        ChannelType.KAKAOWORK,
        400,
        NO,
        j({"success": False, "error": {"code": "invalid_parameter", "message": "..."}}),
        REJ,
        None,
        "invalid_parameter",
    ),
    (
        ChannelType.KAKAOWORK,
        403,
        NO,
        j({"success": False, "error": {"code": "forbidden"}}),
        REJ,
        None,
        "forbidden",
    ),
    (ChannelType.KAKAOWORK, 404, NO, b"Not Found", REJ, None, "404"),
    (ChannelType.KAKAOWORK, 410, NO, b"", REJ, None, "410"),
    (
        ChannelType.KAKAOWORK,
        429,
        RA,
        j({"success": False, "error": {"code": "too_many_requests"}}),
        RL,
        3.0,
        "too_many_requests",
    ),
    (ChannelType.KAKAOWORK, 500, NO, b"", F, None, "500"),
    (ChannelType.KAKAOWORK, 503, NO, b"", F, None, "503"),
    # Telegram: {"ok": ...}; error_code decides, even under an HTTP 200.
    (ChannelType.TELEGRAM, 200, NO, j({"ok": True, "result": {"message_id": 7}}), D, None, ""),
    (
        ChannelType.TELEGRAM,
        200,
        NO,
        j({"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}),
        REJ,
        None,
        "chat not found",
    ),
    (ChannelType.TELEGRAM, 202, NO, b"", D, None, ""),
    (ChannelType.TELEGRAM, 204, NO, b"", D, None, ""),
    (
        ChannelType.TELEGRAM,
        400,
        NO,
        j(
            {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: can't parse entities: Unsupported start tag "
                '"x" at byte offset 3',
            }
        ),
        REJ,
        None,
        "can't parse entities",
    ),
    (
        ChannelType.TELEGRAM,
        403,
        NO,
        j(
            {
                "ok": False,
                "error_code": 403,
                "description": "Forbidden: bot was kicked from the group chat",
            }
        ),
        REJ,
        None,
        "bot was kicked",
    ),
    (
        ChannelType.TELEGRAM,
        404,
        NO,
        j({"ok": False, "error_code": 404, "description": "Not Found"}),
        REJ,
        None,
        "404",
    ),
    (ChannelType.TELEGRAM, 410, NO, b"", REJ, None, "410"),
    (
        ChannelType.TELEGRAM,
        429,
        NO,
        j(
            {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 5",
                "parameters": {"retry_after": 5},
            }
        ),
        RL,
        5.0,
        "429",
    ),
    (
        ChannelType.TELEGRAM,
        500,
        NO,
        j({"ok": False, "error_code": 500, "description": "Internal Server Error"}),
        F,
        None,
        "500",
    ),
    (ChannelType.TELEGRAM, 503, NO, b"<html>502 Bad Gateway</html>", F, None, "503"),
]


@pytest.mark.parametrize(
    ("channel_type", "status", "headers", "answer", "outcome", "retry_after", "word"),
    ANSWERS,
    ids=[f"{a[0].value} {a[1]} {a[3][:40]!r} is {a[4].value}" for a in ANSWERS],
)
def test_each_answer_is_read_as_the_provider_means_it(
    channel_type: ChannelType,
    status: int,
    headers: Mapping[str, str],
    answer: bytes,
    outcome: Outcome,
    retry_after: float | None,
    word: str,
) -> None:
    verdict = CHANNELS[channel_type].classify(status, headers, answer)
    assert verdict.outcome is outcome
    assert verdict.retry_after == retry_after
    assert word in verdict.detail
    if outcome is not Outcome.DELIVERED:
        assert verdict.detail, "a failure must say why"


@pytest.mark.parametrize("channel_type", TYPES, ids=ids)
@pytest.mark.parametrize("status", [200, 202, 204, 400, 403, 404, 410, 429, 500, 503])
def test_any_status_with_any_body_gives_a_verdict(channel_type: ChannelType, status: int) -> None:
    for answer in (b"", b"\xff\xfe", b"null", b"[]", b'{"ok": "yes"}', b"x" * 100_000):
        verdict = CHANNELS[channel_type].classify(status, {"Retry-After": "soon"}, answer)
        assert verdict.outcome in Outcome
        if status >= 500:
            assert verdict.outcome is Outcome.FAILED
        if status == 429:
            assert verdict.outcome is Outcome.RATE_LIMITED


@pytest.mark.parametrize("channel_type", TYPES, ids=ids)
def test_a_million_character_value_is_cut_like_any_other(channel_type: ChannelType) -> None:
    huge = "<&>*_[x](y) \U0001f600" * 70_000
    notification = session(resource=huge, reason=huge)
    notification = replace(notification, title="[Step-up] " + huge)
    request = CHANNELS[channel_type].render(notification, channel(channel_type))
    assert LIMITS[channel_type](body(request)) == []
    assert INERT[channel_type](body(request)) == []
    assert shows(channel_type, request, VERIFY_URL)
