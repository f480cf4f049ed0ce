"""The injection corpus rendered for every channel, from the raw event on.

Each injection (mentions, links, HTML, markdown, Adaptive Card JSON, invisible characters,
newline-forged lines) is placed in each place where event data reaches a message (tag, actor,
role, metadata keys and values, session resource, action and reason), decoded, decided, built
into a message and rendered for all five channel types; `tests.hardening.reader` says what a
reader would see. The same injections, everywhere at once, also went through the real service in
the corpus run: what the sink received must be exactly the pure rendering, and as inert.
"""

from __future__ import annotations

import itertools
from typing import Any, Final

import orjson
import pytest

from consumer.channel import ChannelType
from consumer.notification import Notification
from tests.hardening.conftest import CorpusRun
from tests.hardening.corpus import (
    AUDIT_PLACES,
    INJECTIONS,
    SESSION_PLACES,
    Case,
    Injection,
    injected,
    injection_cases,
)
from tests.hardening.reader import pipeline, problems

PLACED: Final = [
    pytest.param(injection, schema, place, id=f"{injection.id} in the {place}")
    for injection in INJECTIONS
    for schema, places in (("audit-log", AUDIT_PLACES), ("hosted-auth-sessions", SESSION_PLACES))
    for place in places
]


@pytest.mark.parametrize(("injection", "schema", "place"), PLACED)
def test_an_injection_stays_inert_text_in_every_channel(
    injection: Injection, schema: Any, place: str
) -> None:
    rendered = pipeline(schema, orjson.dumps(injected(schema, place, injection.text, "proj")))
    assert rendered.notification is not None, rendered.decision.reason
    assert set(rendered.bodies) == set(ChannelType)
    for channel_type, body in rendered.bodies.items():
        assert problems(channel_type, body, rendered.notification) == [], channel_type.value


# --- the same corpus through the real service ------------------------------------------------

E2E: Final[list[Case]] = list(injection_cases())


@pytest.mark.kafka
@pytest.mark.parametrize("case", E2E, ids=lambda case: case.id)
def test_what_the_service_posted_is_the_inert_rendering(corpus_run: CorpusRun, case: Case) -> None:
    placed = next(p for p in corpus_run.placed if p.case.id == case.id)
    rendered = pipeline(case.schema, placed.value)
    assert rendered.notification is not None
    for channel_type in ChannelType:
        received = corpus_run.at(placed.key, channel_type)
        assert len(received) == 1, channel_type.value
        assert received[0].json == rendered.bodies[channel_type]
        assert problems(channel_type, received[0].json, rendered.notification) == []


# --- the reader is not blind: it sees each kind of damage --------------------------------------


def damaged(channel_type: ChannelType, how: str) -> tuple[dict[str, Any], Notification]:
    """A good session body, then damaged the way a broken renderer would damage it."""
    value = orjson.dumps(injected("hosted-auth-sessions", "session reason", "ok", "p"))
    rendered = pipeline("hosted-auth-sessions", value)
    assert rendered.notification is not None
    body = orjson.loads(orjson.dumps(rendered.bodies[channel_type]))
    if how == "a forged Verify line":
        _add_line(channel_type, body, "Verify", "https://evil.example/v")
    elif how == "a line under no label of ours":
        _add_line(channel_type, body, "Approve here", "https://evil.example/v")
    else:
        _raw_title(channel_type, body, "[Step-up] <!channel> **b** <b>x</b> @everyone @admin")
    return body, rendered.notification


def _add_line(channel_type: ChannelType, body: dict[str, Any], label: str, value: str) -> None:
    if channel_type in (ChannelType.SLACK, ChannelType.TELEGRAM):
        body["text"] += f"\n{label}: {value}"
    elif channel_type is ChannelType.DISCORD:
        body["embeds"][0]["description"] += f"\n**{label}:** {value}"
    elif channel_type is ChannelType.TEAMS:
        facts = body["attachments"][0]["content"]["body"][1]["facts"]
        facts.append({"title": label, "value": value})
    else:
        term = {"type": "text", "text": value, "markdown": False}
        body["blocks"].insert(2, {"type": "description", "term": label, "content": term})


def _raw_title(channel_type: ChannelType, body: dict[str, Any], title: str) -> None:
    """The title replaced by `title`, unescaped, and mentions allowed where a body can say so."""
    if channel_type in (ChannelType.SLACK, ChannelType.TELEGRAM):
        _, _, rest = body["text"].partition("\n")
        body["text"] = f"{title}\n{rest}"
    elif channel_type is ChannelType.DISCORD:
        body["embeds"][0]["title"] = title
        body["allowed_mentions"] = {"parse": ["everyone"]}
    elif channel_type is ChannelType.TEAMS:
        card = body["attachments"][0]["content"]
        card["body"][0]["text"] = title
        card.setdefault("actions", []).append({"type": "Action.OpenUrl", "url": "https://e"})
    else:
        body["blocks"][1]["markdown"] = True


DAMAGE: Final = ["a forged Verify line", "a line under no label of ours", "markup or a mention"]


@pytest.mark.parametrize(
    ("channel_type", "how"),
    list(itertools.product(ChannelType, DAMAGE)),
    ids=lambda v: v.value if isinstance(v, ChannelType) else v,
)
def test_the_reader_sees_damage(channel_type: ChannelType, how: str) -> None:
    body, notification = damaged(channel_type, how)
    assert problems(channel_type, body, notification) != []
