"""The shared text helpers: cleaning, measuring, escaping, and fitting by priority."""

from __future__ import annotations

import html
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumer.channels.text import (
    ELLIPSIS,
    TITLE_KEEP,
    Piece,
    Role,
    clean,
    clip,
    clip_to,
    escape_html,
    field_pieces,
    fit,
    link_target,
    markdown_escaper,
    message_pieces,
    units,
)
from consumer.notification import Field
from tests.channels.cases import VERIFY_URL, audit, session


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain", "plain"),
        ("two\nlines\r\nhere", "two lines here"),
        ("tab\tand  spaces", "tab and spaces"),
        ("zero\u200bwidth\u200c\u200d\u2060\ufeff", "zerowidth"),
        ("\u202eevil\u202c and \u2066iso\u2069", "evil and iso"),
        ("ctrl\x00\x07\x1b[31m", "ctrl [31m"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ],
    ids=[
        "plain text is left alone",
        "line breaks become spaces",
        "whitespace runs become one space",
        "zero-width characters are removed",
        "bidi overrides and isolates are removed",
        "control characters become spaces",
        "a lone surrogate becomes the replacement character",
    ],
)
def test_clean_leaves_one_visible_line(raw: str, expected: str) -> None:
    assert clean(raw) == expected


def test_units_count_a_character_outside_the_bmp_as_two() -> None:
    assert units("a\U0001f600é") == 4


@given(st.text(alphabet="ab&<>\"' é\U0001f600", max_size=200), st.integers(0, 300))
def test_clip_to_never_cuts_an_entity_and_marks_the_cut(text: str, limit: int) -> None:
    out = clip_to(text, limit, escape_html)
    assert units(out) <= max(limit, units(escape_html(ELLIPSIS)))
    raw = html.unescape(out)
    assert escape_html(raw) == out, "an entity was cut in half"
    if raw != text:
        assert raw.endswith(ELLIPSIS)
        assert text.startswith(raw[:-1].rstrip())


def test_clip_keeps_the_requested_start_even_when_it_does_not_fit() -> None:
    assert clip("abcdefgh", lambda t: len(t) <= 2, keep=4) == "abcd" + ELLIPSIS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("[click](https://evil)", "[click]\\(https://evil)"),
        ("[Audit] tag", "[Audit] tag"),
        ("*b* _i_ ~s~ `c`", "\\*b\\* \\_i\\_ \\~s\\~ \\`c\\`"),
        ("back\\slash", "back\\\\slash"),
    ],
    ids=[
        "a markdown link is broken at its parenthesis",
        "plain brackets stay as they are",
        "emphasis and code characters are escaped",
        "a backslash is escaped itself",
    ],
)
def test_markdown_escaper(raw: str, expected: str) -> None:
    assert markdown_escaper("*_~`")(raw) == expected


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        (VERIFY_URL, True),
        ("http://127.0.0.1:8080/v?x=1", True),
        ("javascript:alert(1)", False),
        ("https://a.example/x y", False),
        ('https://a.example/"><b>', False),
        ("https://a.example/" + "x" * 3000, False),
        ("https://a.example/…", False),
    ],
    ids=[
        "an https verify link is a link",
        "http on a local sink is a link",
        "a javascript URL is not",
        "a URL with a space is not",
        "a URL with quotes or brackets is not",
        "a URL longer than 2048 characters is not",
        "a cut URL is not",
    ],
)
def test_link_target(url: str, ok: bool) -> None:
    assert (link_target(url) == url) is ok


def test_message_pieces_follow_the_text_lines_of_the_notification() -> None:
    n = session(resource="db/prod", action="drop", reason="risky")
    pieces = message_pieces(n)
    assert [p.line() for p in pieces] == n.text().split("\n")
    assert [p.role for p in pieces] == [Role.TITLE, Role.BODY, Role.BODY, Role.VERIFY, Role.BODY]


def test_a_verify_link_without_its_field_gets_a_line_before_expires() -> None:
    n = session()
    n = replace(n, fields=tuple(f for f in n.fields if f.label != "Verify"))
    assert [p.label for p in field_pieces(n)] == ["Actor", "Verify", "Expires"]
    assert field_pieces(n)[1].text == VERIFY_URL


def test_metadata_is_a_piece_of_its_own_role() -> None:
    pieces = message_pieces(audit("x", metadata="a=b"))
    assert pieces[-1].role is Role.METADATA


def _cost(p: Piece) -> int:
    return units(p.line()) + 1


def _pieces(metadata: int, body: int, title: int = 20) -> list[Piece]:
    return [
        Piece(Role.TITLE, "T" * title),
        Piece(Role.BODY, "b" * body, "Body"),
        Piece(Role.VERIFY, VERIFY_URL, "Verify"),
        Piece(Role.METADATA, "m" * metadata, "Metadata"),
    ]


def test_fit_leaves_what_fits_alone() -> None:
    pieces = _pieces(10, 10)
    assert fit(pieces, 1000, _cost) == pieces


def test_fit_shrinks_the_metadata_line_first() -> None:
    fitted = fit(_pieces(metadata=500, body=500), 1000, _cost)
    assert sum(_cost(p) for p in fitted) <= 1000
    assert fitted[1].text == "b" * 500
    assert fitted[3].text.endswith(ELLIPSIS)


def test_fit_then_cuts_the_largest_line_and_keeps_the_title_start() -> None:
    fitted = fit(_pieces(metadata=50, body=3000, title=3000), 400, _cost)
    assert sum(_cost(p) for p in fitted) <= 400
    assert fitted[0].text.startswith("T" * TITLE_KEEP)
    assert fitted[2].text == VERIFY_URL
    assert fitted[1].text == ELLIPSIS  # the larger line gave way first
    assert fitted[3].text == ELLIPSIS  # the metadata line went first, down to its label


def test_fit_cuts_the_title_before_the_verify_line() -> None:
    budget = len("Verify: ") + len(VERIFY_URL) + 1 + 12
    fitted = fit(_pieces(metadata=50, body=50, title=100), budget, _cost)
    assert [p.role for p in fitted] == [Role.TITLE, Role.VERIFY]
    assert fitted[1].text == VERIFY_URL
    assert fitted[0].text.startswith("T")
    assert fitted[0].text.endswith(ELLIPSIS)
    assert sum(_cost(p) for p in fitted) <= budget


@given(
    st.lists(st.integers(0, 5000), min_size=4, max_size=4),
    st.integers(len(VERIFY_URL) + 80, 6000),
)
def test_fit_always_meets_a_budget_with_room_for_title_and_link(
    sizes: list[int], budget: int
) -> None:
    pieces = [
        Piece(Role.TITLE, "T" * (sizes[0] + 1)),
        Piece(Role.BODY, "b" * sizes[1], "Body"),
        Piece(Role.METADATA, "m" * sizes[2], "Metadata"),
        Piece(Role.VERIFY, VERIFY_URL, "Verify"),
        Piece(Role.BODY, "e" * sizes[3], "Expires"),
    ]
    fitted = fit(pieces, budget, _cost)
    assert sum(_cost(p) for p in fitted) <= budget
    assert fitted[0].role is Role.TITLE
    assert fitted[0].text.startswith("T")
    assert any(p.text == VERIFY_URL for p in fitted)


def test_fields_keep_their_labels_bounded() -> None:
    n = audit("x")
    n = replace(n, fields=(Field("L" * 500, "v"),))
    assert len(field_pieces(n)[0].label) == 40
