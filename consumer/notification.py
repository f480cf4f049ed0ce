"""What a fired event says, before any channel formats it (ARCHITECTURE.md §3).

A Notification is channel-neutral: a title line, labelled fields in display order, and the verify
link for session alerts. `text()` gives the common plain text every renderer starts from. All
values are already cleaned by `consumer.message` (single line, no control or bidi characters,
dangerous metadata dropped), so renderers only have to escape for their own markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

NotificationKind = Literal["audit", "session", "test"]


@dataclass(frozen=True, slots=True)
class Field:
    """One labelled value. `same_line` joins it to the previous field with " / " in text form."""

    label: str
    value: str
    same_line: bool = False


@dataclass(frozen=True, slots=True)
class Notification:
    kind: NotificationKind
    project_id: str
    event_id: str
    title: str
    fields: tuple[Field, ...]
    verify_url: str | None = None
    severity: Literal["low", "medium", "high"] | None = None
    success: bool | None = None

    def lines(self) -> list[str]:
        """The body lines below the title, `Label: value` each, grouped as §3 shows."""
        out: list[str] = []
        for f in self.fields:
            piece = f"{f.label}: {f.value}"
            if f.same_line and out:
                out[-1] = f"{out[-1]} / {piece}"
            else:
                out.append(piece)
        return out

    def text(self) -> str:
        return "\n".join([self.title, *self.lines()])
