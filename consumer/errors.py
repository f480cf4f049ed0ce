"""The service's own exceptions. Each message is safe to show a user: no secret, no raw event value.

WebhookError
 ├── ConfigError        a bad environment variable (exit 2)
 ├── DecodeError        a record that is not a valid event (a poison record)
 └── ChannelsError      a channels file or channel record that does not validate
"""

from __future__ import annotations


class WebhookError(Exception):
    """Base of every error this service raises on purpose."""


class ConfigError(WebhookError):
    """The environment holds a value the service cannot use."""


class DecodeError(WebhookError):
    """A Kafka record value is not a valid event.

    `field` is the dotted path of the offending field ("" when the whole value is wrong) and
    `reason` a short description; neither contains the raw value.
    """

    def __init__(self, topic: str, field: str, reason: str) -> None:
        self.topic = topic
        self.field = field
        self.reason = reason
        where = f"field {field!r}" if field else "value"
        super().__init__(f"{topic}: {where}: {reason}")


class ChannelsError(WebhookError):
    """A channels file or channel record is invalid; `problems` lists every one found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))
