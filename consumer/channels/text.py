"""Text work shared by the channel renderers: cleaning, escaping, measuring and fitting.

Every renderer follows one recipe:

1. `message_pieces` (title, then one piece per text line) or `field_pieces` (one per field)
   turn a Notification into pieces of raw text, passed through `clean` on the way. The message
   builder already cleans event data; renderers stay safe on hostile text anyway.
2. `fit(pieces, budget, cost)` shrinks pieces until the rendered size fits the channel's limit.
   The cut is made in the raw text, before the renderer escapes it, so an escape sequence
   (`&amp;`, `\\*`) or a tag the renderer puts around a piece is never cut in half; a cut is
   marked with "…". The metadata line shrinks first, then the largest of the title and the
   other lines (the title keeps its start), then lines are dropped from the bottom; the verify
   line is cut only when nothing else is left to cut.
3. The renderer escapes each piece for its markup and assembles the payload.

Lengths are counted in UTF-16 code units (`units`): what Discord and Telegram count, and never
fewer than the code points, so a limit in characters holds for every provider. Cuts fall on
code point boundaries (Python strings), never inside a UTF-8 sequence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Final, Literal

import orjson

from consumer.notification import Notification

ELLIPSIS: Final = "…"
#: Characters of the title kept while other lines can still give way.
TITLE_KEEP: Final = 48
#: Field labels are ours, but bounded anyway so a long one cannot crowd out the message.
LABEL_MAX: Final = 40
#: Longest verify link rendered as a link (button, action, embed URL); longer ones stay text.
LINK_MAX: Final = 2048

VERIFY_LABEL: Final = "Verify"
METADATA_LABEL: Final = "Metadata"
EXPIRES_LABEL: Final = "Expires"

# Format characters (zero-width, bidi embeddings, overrides and isolates, invisible operators,
# tag characters): they hide or reorder text, so they are removed.
_FORMAT_CHARS = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f]"
)
# Control characters, line and paragraph separators, whitespace runs: one space (one line).
_SPACES = re.compile("[\\s\x00-\x1f\x7f-\x9f\u2028\u2029]+")
_SURROGATES = re.compile("[\ud800-\udfff]")
# A link the renderers may hand to a provider as a URL: http(s), RFC 3986 characters only
# (no space, quote, angle bracket, backslash, pipe or non-ASCII: none can break out of markup).
_LINK = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*)?"
)


def clean(text: str) -> str:
    """One line without control, zero-width or bidi characters (defence in depth)."""
    text = _FORMAT_CHARS.sub("", text)
    text = _SURROGATES.sub("\ufffd", text)
    return _SPACES.sub(" ", text).strip()


def units(text: str) -> int:
    """Length in UTF-16 code units: code points, plus one for each outside the BMP."""
    return len(text.encode("utf-16-le")) // 2


def json_bytes(text: str) -> int:
    """Bytes `text` takes inside a JSON string as orjson writes it (quotes excluded)."""
    return len(orjson.dumps(text)) - 2


def link_target(url: str | None) -> str | None:
    """`url` when it is safe to hand to a provider as a link target, else None."""
    if url and len(url) <= LINK_MAX and _LINK.fullmatch(url):
        return url
    return None


def escape_html(text: str) -> str:
    """HTML text content: `&`, `<`, `>` (Slack's mrkdwn and Telegram's HTML mode need no more)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_escaper(specials: str) -> Callable[[str], str]:
    """An escaper putting a backslash before `\\`, each character of `specials`, and the `(`
    of `](`: that breaks every `[text](url)` link while plain brackets stay unescaped."""
    pattern = re.compile("([" + re.escape("\\" + specials) + "]|(?<=\\])\\()")

    def escape(text: str) -> str:
        return pattern.sub(r"\\\1", text)

    return escape


# --- what a notification is made of ------------------------------------------------------


class Role(Enum):
    """What a piece is, which decides how `fit` may shrink it."""

    TITLE = "title"  # keeps its start
    BODY = "body"
    METADATA = "metadata"  # the first to shrink
    VERIFY = "verify"  # cut only when nothing else is left


@dataclass(frozen=True, slots=True)
class Piece:
    """Raw (cleaned, unescaped) text of one part of a message. `label` is "" for the title."""

    role: Role
    text: str
    label: str = ""

    def line(self) -> str:
        """The plain text line: `Label: text`, or the text alone for the title."""
        return f"{self.label}: {self.text}" if self.label else self.text


def field_pieces(notification: Notification) -> list[Piece]:
    """One piece per field, in order (for renderers that lay fields out one by one)."""
    pieces = [_piece(field.label, field.value) for field in notification.fields]
    return _with_verify(pieces, notification.verify_url)


def message_pieces(notification: Notification) -> list[Piece]:
    """The title, then one piece per text line of ARCHITECTURE.md §3.

    Fields marked `same_line` join the previous line with " / ", as `Notification.lines()` does.
    """
    lines: list[Piece] = []
    for field in notification.fields:
        piece = _piece(field.label, field.value)
        if field.same_line and lines and lines[-1].role is Role.BODY and piece.role is Role.BODY:
            lines[-1] = replace(lines[-1], text=f"{lines[-1].text} / {piece.line()}")
        else:
            lines.append(piece)
    return [
        Piece(Role.TITLE, clean(notification.title)),
        *_with_verify(lines, notification.verify_url),
    ]


def _piece(label: str, value: str) -> Piece:
    name = clean(label)[:LABEL_MAX]
    key = name.casefold()
    if key == VERIFY_LABEL.casefold():
        role = Role.VERIFY
    elif key == METADATA_LABEL.casefold():
        role = Role.METADATA
    else:
        role = Role.BODY
    return Piece(role, clean(value), name)


def _with_verify(pieces: list[Piece], verify_url: str | None) -> list[Piece]:
    """Adds the `Verify:` piece when the notification has a link but no such field (before
    `Expires:`, as §3 orders them)."""
    if not verify_url or any(p.role is Role.VERIFY for p in pieces):
        return pieces
    verify = Piece(Role.VERIFY, clean(verify_url), VERIFY_LABEL)
    at = next((i for i, p in enumerate(pieces) if p.label == EXPIRES_LABEL), len(pieces))
    return [*pieces[:at], verify, *pieces[at:]]


Tone = Literal["danger", "warning", "good", "info"]


def tone(notification: Notification) -> Tone:
    """The colour a notification deserves: failures and high severity alarm, sessions ask."""
    if notification.kind == "test":
        return "info"
    if notification.kind == "session":
        return "warning"
    if notification.success is False or notification.severity == "high":
        return "danger"
    return "good" if notification.success else "info"


# --- fitting -------------------------------------------------------------------------------


def cut(text: str, keep: int) -> str:
    """The first `keep` characters of `text`, marked as cut."""
    return text[:keep].rstrip() + ELLIPSIS


def clip(text: str, fits: Callable[[str], bool], keep: int = 0) -> str:
    """`text` if it fits, else its longest marked prefix that fits, keeping at least `keep`
    characters (then the result may not fit: the caller goes on shrinking something else).

    `fits` must be monotone: if a text fits, every shorter prefix of it fits.
    """
    if fits(text):
        return text
    best = min(keep, len(text))
    lo, hi = best, len(text) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if fits(cut(text, mid)):
            best, lo = mid, mid + 1
        else:
            hi = mid - 1
    return cut(text, best)


def clip_to(text: str, limit: int, escape: Callable[[str], str] = str) -> str:
    """`escape(text)`, cut (in the raw text) to at most `limit` UTF-16 units."""
    text = text[: limit + 1]  # more can never fit: escaping only ever adds
    return escape(clip(text, lambda t: units(escape(t)) <= limit))


def fit(pieces: Iterable[Piece], budget: int, cost: Callable[[Piece], int]) -> list[Piece]:
    """Shrink `pieces` until the sum of their costs is at most `budget` (see module docstring).

    `cost(piece)` is the rendered size of a piece, separators included; it must grow with the
    piece's text and be at least its length. Only if even a bare title and verify line cannot
    fit does the result exceed `budget`, which no channel limit comes near.
    """
    # A text longer than the whole budget can never fit: shorten it first (still marked as cut
    # below, since it still does not fit), which bounds the work on huge values. Pieces short
    # enough are kept as they are (`replace` showed up in profiles of the notify path).
    items = [p if len(p.text) <= budget else replace(p, text=p.text[: budget + 1]) for p in pieces]

    def excess() -> int:
        return sum(cost(p) for p in items) - budget

    def shrink(index: int, keep: int) -> None:
        piece = items[index]
        if len(piece.text) <= keep:
            return
        target = cost(piece) - excess()
        text = clip(piece.text, lambda t: cost(replace(piece, text=t)) <= target, keep)
        items[index] = replace(piece, text=text)

    if excess() <= 0:
        return items
    for i, piece in enumerate(items):
        if piece.role is Role.METADATA and excess() > 0:
            shrink(i, 0)
    _shrink_largest_first(items, excess, shrink)
    for role in (Role.METADATA, Role.BODY):
        for i in range(len(items) - 1, -1, -1):
            if items[i].role is role and excess() > 0:
                del items[i]
    for role, keep in ((Role.TITLE, 1), (Role.VERIFY, 0)):
        for i, piece in enumerate(items):
            if piece.role is role and excess() > 0:
                shrink(i, keep)
    return items


def _shrink_largest_first(
    items: Sequence[Piece], excess: Callable[[], int], shrink: Callable[[int, int], None]
) -> None:
    """Cut the largest of the title and body lines first, each once, as far as needed."""
    done: set[int] = set()
    while excess() > 0:
        open_ = [
            i for i, p in enumerate(items) if p.role in (Role.TITLE, Role.BODY) and i not in done
        ]
        if not open_:
            return
        index = max(open_, key=lambda i: units(items[i].line()))
        shrink(index, TITLE_KEEP if items[index].role is Role.TITLE else 0)
        done.add(index)
