"""The channel directory (ARCHITECTURE.md §4): which active channels each project has.

Two sources feed it, as layers:

- the channels file `WEBHOOK_CHANNELS_FILE` (YAML or JSON), watched by `consumer.directory_file`;
- the compacted topic `WEBHOOK_CHANNELS_TOPIC`, followed by `consumer.kafka.table`.

Precedence, per channel id: a topic record replaces the file's channel of that id; a tombstone
removes the topic's version only, so the file's version (if any) is served again. The directory is
thus a function of (the file, the latest record per key), which a restart rebuilds exactly, even
after the broker has compacted the tombstones away. To remove a channel the file defines, edit the
file (or publish it with `active: false`).

Every change builds a new immutable `Directory` snapshot and swaps it in with one assignment, so
one `active_for` call (one fan-out) always sees one consistent version.

The parsing half is pure: `parse_channels` (bytes -> channels, or `ChannelsError` listing every
problem, each naming the channel and the field, URLs redacted) and `decode_channel_record`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

import orjson
import yaml
from pydantic import ValidationError

from consumer import metrics
from consumer.channel import ChannelConfig, ChannelType
from consumer.errors import ChannelsError
from consumer.logs import get_logger
from consumer.redact import redact_url, scrub_text
from consumer.urlpolicy import UrlPolicy, check_url

if TYPE_CHECKING:
    from consumer.config import Settings

log = get_logger("consumer.directory")

#: A channels file larger than this is refused (a few thousand channels take well under 1 MiB).
MAX_FILE_BYTES: Final = 8 * 1024 * 1024

Format = Literal["json", "yaml"]
Source = Literal["file", "topic"]

# pydantic reports a field by its alias (`projectId`); operators mostly write the field name.
_FIELD_NAMES: Final = {
    (info.alias or name): name for name, info in ChannelConfig.model_fields.items()
}
_TYPES: Final = frozenset(t.value for t in ChannelType)
_BLANK: Final = (None, "")


def url_policy(settings: Settings) -> UrlPolicy:
    """The URL policy the environment asks for (`WEBHOOK_EXTRA_HOSTS`, `..._INSECURE_TARGETS`)."""
    return UrlPolicy(
        extra_hosts=tuple(settings.webhook_extra_hosts),
        allow_insecure=settings.webhook_allow_insecure_targets,
    )


# -- parsing (pure) ----------------------------------------------------------------------------


def detect_format(name: str, data: bytes) -> Format:
    """JSON for a `.json` name or a body starting with `{` or `[`; YAML otherwise."""
    lowered = name.lower()
    if lowered.endswith(".json"):
        return "json"
    if lowered.endswith((".yaml", ".yml")):
        return "yaml"
    return "json" if data.lstrip()[:1] in (b"{", b"[") else "yaml"


def parse_channels(
    data: bytes, *, fmt: Format = "yaml", policy: UrlPolicy | None = None
) -> list[ChannelConfig]:
    """A channels document -> its channels, or `ChannelsError` listing every problem found."""
    document = _load_document(data, fmt)
    raw_channels = _channel_list(document)
    policy = policy or UrlPolicy()
    channels: list[ChannelConfig] = []
    problems: list[str] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(raw_channels):
        label = _item_label(index, raw)
        channel, found = validate_channel(raw, policy, label)
        problems.extend(found)
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(raw_id, str) and raw_id:
            if raw_id in first_index:
                problems.append(
                    f"{label}: id: duplicate id, first used by channels[{first_index[raw_id]}]"
                )
                continue
            first_index[raw_id] = index
        if channel is not None:
            channels.append(channel)
    if problems:
        raise ChannelsError([scrub_text(p) for p in problems])
    return channels


def read_channels_file(path: Path) -> bytes:
    """The file's bytes, bounded by MAX_FILE_BYTES; `ChannelsError` when it cannot be read."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ChannelsError([f"cannot read {path}: {exc.strerror or type(exc).__name__}"]) from None
    if len(data) > MAX_FILE_BYTES:
        raise ChannelsError([f"{path} is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB"])
    return data


def load_channels_file(path: Path, policy: UrlPolicy | None = None) -> list[ChannelConfig]:
    """Read and validate a channels file (YAML or JSON by extension, else by content)."""
    data = read_channels_file(path)
    return parse_channels(data, fmt=detect_format(path.name, data), policy=policy)


def validate_channel(
    raw: object, policy: UrlPolicy, label: str
) -> tuple[ChannelConfig | None, list[str]]:
    """One raw channel object -> (the channel or None, its problems), each prefixed by `label`."""
    if not isinstance(raw, dict):
        return None, [f"{label}: expected a channel object, got {_kind(raw)}"]
    kind, url = raw.get("type"), raw.get("url")
    telegram = kind == ChannelType.TELEGRAM.value
    problems: list[str] = []
    bad_fields: set[str] = set()
    channel: ChannelConfig | None = None
    try:
        channel = ChannelConfig.model_validate(raw)
    except ValidationError as exc:
        for err in exc.errors(include_url=False, include_input=False):
            field = _field_path(err["loc"])
            message = str(err["msg"]).removeprefix("Value error, ")
            if not field and telegram and "chat_id" in message:
                continue  # reported below as a field problem, also when other fields fail
            bad_fields.add(field.split(".", 1)[0])
            problems.append(f"{label}: {field}: {message}" if field else f"{label}: {message}")
    if telegram and "chat_id" not in bad_fields and raw.get("chat_id", raw.get("chatId")) in _BLANK:
        problems.append(f"{label}: chat_id: required for telegram channels")
    if (
        isinstance(url, str)
        and isinstance(kind, str)
        and kind in _TYPES
        and "url" not in bad_fields
    ):
        reason = check_url(url, ChannelType(kind), policy)
        if reason is not None:
            # The redacted URL goes last: scrubbing text eats the characters that follow a URL.
            problems.append(f"{label}: url: {reason}: {redact_url(url)}")
    if channel is None and not problems:  # fail closed: never drop a channel silently
        problems.append(f"{label}: not a valid channel")
    return (None if problems else channel), problems


def decode_channel_record(
    key: bytes | None, value: bytes | None, policy: UrlPolicy
) -> tuple[str, ChannelConfig | None]:
    """One record of the channels topic -> (channel id, channel), or (id, None) for a tombstone.

    Raises `ChannelsError` for a record that is not a valid channel of that key; its problems
    never repeat the raw value or a URL in full.
    """
    if key is None:
        raise ChannelsError(["key: missing (the key must be the channel id)"])
    try:
        channel_id = key.decode("utf-8")
    except UnicodeDecodeError:
        raise ChannelsError(["key: not UTF-8 text"]) from None
    label = f"channel {channel_id!r}"
    if not channel_id:
        raise ChannelsError(["key: empty (the key must be the channel id)"])
    if value is None:
        return channel_id, None
    try:
        raw = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise ChannelsError([f"{label}: value: not valid JSON ({exc.msg})"]) from None
    channel, problems = validate_channel(raw, policy, label)
    if channel is not None and channel.id != channel_id:
        problems.append(f"{label}: id: does not match the record key")
    if problems or channel is None:
        raise ChannelsError([scrub_text(p) for p in problems])
    return channel_id, channel


def _load_document(data: bytes, fmt: Format) -> object:
    if fmt == "json":
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ChannelsError([scrub_text(f"not valid JSON: {exc.msg}")]) from None
    try:
        return yaml.safe_load(data)
    except yaml.MarkedYAMLError as exc:
        # str(exc) quotes the offending line, which may hold a webhook URL: build our own text.
        mark = exc.problem_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ChannelsError([scrub_text(f"not valid YAML{where}: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise ChannelsError([f"not valid YAML: {type(exc).__name__}"]) from None


def _channel_list(document: object) -> list[object]:
    if document is None:
        raise ChannelsError(["the file is empty: expected `channels:` with a list of channels"])
    if not isinstance(document, dict):
        raise ChannelsError(
            [f"expected an object with a `channels` list at the top level, got {_kind(document)}"]
        )
    problems = [
        f"unknown top-level key {key!r} (only `channels` is allowed)"
        for key in document
        if key != "channels"
    ]
    raw_channels = document.get("channels")
    if isinstance(raw_channels, list) and not problems:
        return raw_channels
    if "channels" not in document:
        problems.append("channels: missing")
    elif not isinstance(raw_channels, list):
        problems.append(
            f"channels: expected a list, got {_kind(raw_channels)} (write `channels: []` for none)"
        )
    raise ChannelsError(problems)


def _item_label(index: int, raw: object) -> str:
    raw_id = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(raw_id, str) and raw_id:
        return f"channels[{index}] id={raw_id!r}"
    return f"channels[{index}]"


def _field_path(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return ""
    head, *rest = loc
    name = _FIELD_NAMES.get(str(head), str(head))
    return ".".join([name, *(str(part) for part in rest)])


def _kind(value: object) -> str:
    if value is None:
        return "nothing"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), f"a {type(value).__name__}"
    )


# -- snapshot ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Directory:
    """One immutable version of the directory. Lookups are dict reads: O(1)."""

    version: int
    channels: Mapping[str, ChannelConfig]  # every channel by id, active or not
    _active: Mapping[str, tuple[ChannelConfig, ...]]  # active channels by project id

    @classmethod
    def build(cls, channels: Iterable[ChannelConfig], version: int = 0) -> Directory:
        by_id: dict[str, ChannelConfig] = {}
        for channel in channels:
            by_id[channel.id] = channel
        active: dict[str, list[ChannelConfig]] = {}
        for channel in by_id.values():
            if channel.active:
                active.setdefault(channel.project_id, []).append(channel)
        return cls(
            version=version,
            channels=MappingProxyType(by_id),
            _active=MappingProxyType({p: tuple(cs) for p, cs in active.items()}),
        )

    def active_for(self, project_id: str) -> tuple[ChannelConfig, ...]:
        """The project's active channels, in directory order; empty when it has none."""
        return self._active.get(project_id, ())

    @property
    def projects(self) -> frozenset[str]:
        """Projects with at least one active channel."""
        return frozenset(self._active)

    def __len__(self) -> int:
        return len(self.channels)

    def counts(self) -> Counter[tuple[ChannelType, bool]]:
        return Counter((c.type, c.active) for c in self.channels.values())


# -- the live directory ------------------------------------------------------------------------


class Feed(Protocol):
    """Something that keeps one layer of the directory up to date (the file watcher, the topic)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class ChannelDirectory:
    """The directory as the service uses it: two layers, one current snapshot, its feeds.

    `active_for` reads the current snapshot; `set_file`, `replace_topic` and `update_topic`
    (called by the feeds, on the event loop) rebuild it and swap it in. `ready` is true once the
    configured sources are loaded: the file read (if one is configured) and the topic caught up
    to the end offsets seen at start (if one is configured).
    """

    def __init__(self, *, file_expected: bool = False, topic_expected: bool = False) -> None:
        self._file_expected = file_expected
        self._topic_expected = topic_expected
        self._file: dict[str, ChannelConfig] = {}
        self._topic: dict[str, ChannelConfig] = {}
        self._file_loaded = False
        self._topic_loaded = False
        self._snapshot = Directory.build(())
        self._feeds: list[Feed] = []
        self._started: list[Feed] = []
        self._ready = asyncio.Event()
        if self.ready:
            self._ready.set()

    # -- reading ------------------------------------------------------------------------------
    @property
    def snapshot(self) -> Directory:
        return self._snapshot

    def active_for(self, project_id: str) -> tuple[ChannelConfig, ...]:
        return self._snapshot.active_for(project_id)

    @property
    def ready(self) -> bool:
        file_ok = self._file_loaded or not self._file_expected
        topic_ok = self._topic_loaded or not self._topic_expected
        return file_ok and topic_ok

    async def wait_ready(self) -> None:
        """Return once `ready` is true (the service should not route before that)."""
        await self._ready.wait()

    # -- writing (the feeds) -------------------------------------------------------------------
    def set_file(self, channels: Sequence[ChannelConfig]) -> Directory:
        """The file's layer is now exactly `channels` (a valid, duplicate-free list)."""
        self._file = {c.id: c for c in channels}
        self._file_loaded = True
        return self._publish("file")

    def replace_topic(self, channels: Mapping[str, ChannelConfig]) -> Directory:
        """The topic's layer is now exactly `channels` (the topic read up to its end)."""
        self._topic = dict(channels)
        self._topic_loaded = True
        return self._publish("topic")

    def update_topic(self, changes: Mapping[str, ChannelConfig | None]) -> Directory:
        """Apply live topic records: a channel replaces its id, None (a tombstone) drops it."""
        for channel_id, channel in changes.items():
            if channel is None:
                self._topic.pop(channel_id, None)
            else:
                self._topic[channel_id] = channel
        return self._publish("topic", changed=len(changes))

    def _publish(self, source: Source, **extra: Any) -> Directory:
        merged = {**self._file, **self._topic}
        snapshot = Directory.build(merged.values(), self._snapshot.version + 1)
        self._snapshot = snapshot  # the atomic swap: one attribute assignment
        counts = snapshot.counts()
        for kind in ChannelType:
            for active in (True, False):
                metrics.channels.labels(type=kind.value, active=str(active).lower()).set(
                    counts.get((kind, active), 0)
                )
        by_type = Counter(c.type.value for c in snapshot.channels.values())
        log.info(
            "channels_reloaded",
            source=source,
            version=snapshot.version,
            total=len(snapshot),
            active=sum(n for (_, active), n in counts.items() if active),
            projects=len(snapshot.projects),
            by_type=dict(sorted(by_type.items())),
            **extra,
        )
        if self.ready:
            self._ready.set()
        return snapshot

    # -- lifecycle -----------------------------------------------------------------------------
    def attach(self, feed: Feed) -> None:
        self._feeds.append(feed)

    async def start(self) -> None:
        """Start the feeds in order. The file feed reads the file first: a broken one raises."""
        if not self._feeds:
            log.warning(
                "no_channel_source",
                note="neither WEBHOOK_CHANNELS_FILE nor WEBHOOK_CHANNELS_TOPIC is set: "
                "no notification has a channel to go to",
            )
        for feed in self._feeds:
            await feed.start()
            self._started.append(feed)

    async def stop(self) -> None:
        while self._started:
            await self._started.pop().stop()


def build_channel_source(settings: Settings) -> ChannelDirectory:
    """The directory with the feeds the environment configures (file, topic, both or none)."""
    # Imported here: the feeds import this module (and the topic feed pulls in aiokafka).
    from consumer.directory_file import ChannelFileWatcher
    from consumer.kafka.table import ChannelTopicReader

    policy = url_policy(settings)
    path = settings.webhook_channels_file
    topic = settings.webhook_channels_topic
    directory = ChannelDirectory(file_expected=path is not None, topic_expected=bool(topic))
    if path is not None:
        directory.attach(ChannelFileWatcher(path, directory, policy))
    if topic:
        directory.attach(ChannelTopicReader(settings, directory, policy, topic=topic))
    return directory
