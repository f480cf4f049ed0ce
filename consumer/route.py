"""Which channels receive a notification: the active channels of the event's project."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from consumer.channel import ChannelConfig


class ChannelLookup(Protocol):
    """The channel directory as routing sees it (`consumer.directory` provides the real one)."""

    def active_for(self, project_id: str) -> Sequence[ChannelConfig]:
        """The project's active channels; empty when it has none."""
        ...


def route(project_id: str, lookup: ChannelLookup) -> Sequence[ChannelConfig]:
    return lookup.active_for(project_id)
