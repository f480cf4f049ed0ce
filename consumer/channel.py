"""A configured chat channel (ARCHITECTURE.md §4): where one project's notifications go."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from consumer.redact import redact_chat_id, redact_url


class ChannelType(StrEnum):
    SLACK = "slack"
    DISCORD = "discord"
    TEAMS = "teams"
    KAKAOWORK = "kakaowork"
    TELEGRAM = "telegram"


class ChannelConfig(BaseModel):
    """One channel. Its URL and Telegram chat id are secrets: `repr` and `safe_dict` hide them."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    id: str = Field(min_length=1, max_length=200, description="unique channel id")
    project_id: str = Field(
        min_length=1, max_length=200, alias="projectId", description="owning project"
    )
    type: ChannelType
    url: str = Field(min_length=1, max_length=2048, description="incoming webhook URL (secret)")
    active: bool = True
    chat_id: str | None = Field(
        None, alias="chatId", max_length=200, description="Telegram only: the target chat"
    )
    rate_per_s: float | None = Field(
        None, gt=0, le=1000, alias="ratePerS", description="override the provider's pacing"
    )
    name: str | None = Field(None, max_length=200, description="display name")

    @field_validator("chat_id", mode="before")
    @classmethod
    def _chat_id_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _telegram_needs_chat(self) -> ChannelConfig:
        if self.type is ChannelType.TELEGRAM and not self.chat_id:
            raise ValueError("chat_id is required for telegram channels")
        return self

    def __repr_args__(self):  # type: ignore[no-untyped-def]  # pydantic's own signature
        for key, value in super().__repr_args__():
            if key == "url":
                yield key, redact_url(str(value))
            elif key == "chat_id" and value is not None:
                yield key, redact_chat_id(str(value))
            else:
                yield key, value

    @property
    def redacted_url(self) -> str:
        return redact_url(self.url)

    def safe_dict(self) -> dict[str, object]:
        """The channel as it may be shown: URL and chat id redacted."""
        data = self.model_dump(mode="json")
        data["url"] = self.redacted_url
        if self.chat_id is not None:
            data["chat_id"] = redact_chat_id(self.chat_id)
        return data


class ChannelsFile(BaseModel):
    """A channels file (ARCHITECTURE.md §4): `channels:` and the list of channels."""

    model_config = ConfigDict(extra="forbid")

    channels: list[ChannelConfig]
