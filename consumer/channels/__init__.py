"""One pure module per chat provider; see `base.Channel` for what each provides.

`CHANNELS` maps a channel type to its module. Delivery, `explain` and `send-test` look renderers
up here and nowhere else.
"""

from __future__ import annotations

from consumer.channel import ChannelType
from consumer.channels import discord, kakaowork, slack, teams, telegram
from consumer.channels.base import Channel

CHANNELS: dict[ChannelType, Channel] = {
    ChannelType.SLACK: slack,
    ChannelType.DISCORD: discord,
    ChannelType.TEAMS: teams,
    ChannelType.KAKAOWORK: kakaowork,
    ChannelType.TELEGRAM: telegram,
}

__all__ = ["CHANNELS", "Channel"]
