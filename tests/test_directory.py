"""The channel directory: the channels file (parsing, every problem listed, URLs redacted), the
layered directory (file + topic, atomic swaps, gauge, reload log) and the file's hot reload
(rewrite in place, Kubernetes `..data` symlink swap, broken versions keep the last good one)."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import orjson
import pytest
import yaml
from structlog.testing import capture_logs

from consumer import metrics
from consumer.channel import ChannelConfig, ChannelsFile, ChannelType
from consumer.channels.base import Outcome
from consumer.delivery import Delivery, DeliveryConfig
from consumer.directory import (
    ChannelDirectory,
    Directory,
    decode_channel_record,
    detect_format,
    load_channels_file,
    parse_channels,
)
from consumer.directory_file import ChannelFileWatcher, _look, _Read, _Unchanged, stamp
from consumer.errors import ChannelsError
from consumer.message import test_notification
from consumer.urlpolicy import UrlPolicy
from tests.support.sink import Sink

EXAMPLE = Path(__file__).parent / "data" / "channels" / "example.yaml"
SECRET = "SECRETPART0123456789"  # a URL path segment that must never show in a problem
SLACK = f"https://hooks.slack.com/services/T0/B0/{SECRET}"
TELEGRAM = f"https://api.telegram.org/bot1:{SECRET}/sendMessage"


def channel(id: str, project: object = "p1", **extra: object) -> dict[str, object]:
    return {"id": id, "project_id": project, "type": "slack", "url": SLACK, **extra}


def config(id: str, project: str = "p1", **extra: object) -> ChannelConfig:
    return ChannelConfig.model_validate(channel(id, project, **extra))


def document(*channels: object) -> bytes:
    return yaml.safe_dump({"channels": list(channels)}, allow_unicode=True).encode()


def problems_of(data: bytes, fmt: str = "yaml", policy: UrlPolicy | None = None) -> list[str]:
    with pytest.raises(ChannelsError) as caught:
        parse_channels(data, fmt=fmt, policy=policy)  # type: ignore[arg-type]
    return caught.value.problems


# -- the file format ---------------------------------------------------------------------------


def test_the_example_file_has_one_valid_channel_of_every_type() -> None:
    channels = load_channels_file(EXAMPLE)
    assert {c.type for c in channels} == set(ChannelType)
    assert [c.id for c in channels if not c.active] == ["old-slack"]
    telegram = next(c for c in channels if c.type is ChannelType.TELEGRAM)
    assert telegram.chat_id == "-1001234567890"
    # The schema model of the file (schemas/channels.schema.json) accepts it as well.
    assert ChannelsFile.model_validate(yaml.safe_load(EXAMPLE.read_bytes())).channels == channels


def test_the_readme_example_is_the_example_file() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    section = readme[readme.index("### Channels file") :]
    block = section[section.index("```yaml\n") + len("```yaml\n") : section.index("\n```\n")]
    assert parse_channels(block.encode()) == load_channels_file(EXAMPLE)


def test_json_and_yaml_give_the_same_channels(tmp_path: Path) -> None:
    as_json = orjson.dumps(yaml.safe_load(EXAMPLE.read_bytes()), option=orjson.OPT_INDENT_2)
    (tmp_path / "channels.json").write_bytes(as_json)
    (tmp_path / "channels").write_bytes(as_json)  # no extension: told apart by its content
    expected = load_channels_file(EXAMPLE)
    assert load_channels_file(tmp_path / "channels.json") == expected
    assert load_channels_file(tmp_path / "channels") == expected


@pytest.mark.parametrize(
    ("name", "data", "fmt"),
    [
        ("c.json", b"channels: []", "json"),
        ("c.yml", b"{}", "yaml"),
        ("c.conf", b'  {"channels": []}', "json"),
        ("c.conf", b"channels: []", "yaml"),
    ],
    ids=[
        "a .json name is JSON whatever it holds",
        "a .yml name is YAML whatever it holds",
        "an unknown extension starting with a brace is JSON",
        "an unknown extension otherwise is YAML",
    ],
)
def test_the_format_comes_from_the_extension_then_the_content(
    name: str, data: bytes, fmt: str
) -> None:
    assert detect_format(name, data) == fmt


def test_camel_case_aliases_and_numeric_chat_ids_are_accepted() -> None:
    data = document(
        {
            "id": "tg",
            "projectId": "p1",
            "type": "telegram",
            "url": TELEGRAM,
            "chatId": -1001234567890,
            "ratePerS": 2,
        }
    )
    [tg] = parse_channels(data)
    assert (tg.project_id, tg.chat_id, tg.rate_per_s) == ("p1", "-1001234567890", 2.0)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (channel("a", type="matrix"), "channels[0] id='a': type: Input should be"),
        (
            channel("a", type="telegram", url=TELEGRAM),
            "channels[0] id='a': chat_id: required for telegram channels",
        ),
        (channel("a", url="hooks.slack.com/services/x"), "channels[0] id='a': url: not an http"),
        (
            channel("a", url=f"http://hooks.slack.com/services/{SECRET}"),
            "channels[0] id='a': url: only https URLs are allowed: http://hooks.slack.com/***",
        ),
        (
            channel("a", url=f"https://evil.example/services/{SECRET}"),
            "channels[0] id='a': url: host is not an official slack webhook host: "
            "https://evil.example/***",
        ),
        (
            channel("a", url=f"https://127.0.0.1/{SECRET}"),
            "channels[0] id='a': url: the address is in a private, loopback",
        ),
        (
            {"project_id": "p1", "type": "slack", "url": SLACK},
            "channels[0]: id: Field required",
        ),
        ({"id": "a", "type": "slack", "url": SLACK}, "channels[0] id='a': project_id: Field"),
        (channel("a", project=123), "channels[0] id='a': project_id: Input should be a valid"),
        (channel("a", colour="red"), "channels[0] id='a': colour: Extra inputs are not permitted"),
        (channel("a", rate_per_s=0), "channels[0] id='a': rate_per_s: Input should be greater"),
        (channel("a", active="maybe"), "channels[0] id='a': active: Input should be a valid"),
        ("sec-slack", "channels[0]: expected a channel object, got a string"),
    ],
    ids=[
        "an unknown type names the channel and the type field",
        "a telegram channel without chat_id is refused",
        "a URL without a scheme is refused",
        "an http URL is refused by the default policy and shown redacted",
        "a host that is not the type's official host is refused and shown redacted",
        "a loopback address is refused",
        "a channel without an id is named by its index",
        "a missing project id is named by its field name",
        "a numeric project id must be quoted",
        "an unknown field is refused",
        "rate_per_s must be positive",
        "active must be a boolean",
        "a list item that is not an object is refused",
    ],
)
def test_a_bad_channel_is_refused_naming_the_channel_and_the_field(
    raw: object, expected: str
) -> None:
    problems = problems_of(document(raw))
    assert len(problems) == 1
    assert problems[0].startswith(expected), problems
    assert SECRET not in problems[0]


def test_every_problem_is_listed_not_only_the_first() -> None:
    data = document(
        channel("ok"),
        channel("bad-type", type="matrix"),
        channel("bad-host", url=f"https://evil.example/{SECRET}"),
        {"id": "three-problems", "type": "telegram", "url": f"http://x.example/{SECRET}"},
        channel("ok", project="p2"),
    )
    assert problems_of(data) == [
        "channels[1] id='bad-type': type: Input should be 'slack', 'discord', 'teams', "
        "'kakaowork' or 'telegram'",
        "channels[2] id='bad-host': url: host is not an official slack webhook host: "
        "https://evil.example/***",
        "channels[3] id='three-problems': project_id: Field required",
        "channels[3] id='three-problems': chat_id: required for telegram channels",
        "channels[3] id='three-problems': url: only https URLs are allowed: http://x.example/***",
        "channels[4] id='ok': id: duplicate id, first used by channels[0]",
    ]


def test_a_duplicate_id_is_refused_even_when_both_channels_are_valid() -> None:
    problems = problems_of(document(channel("a"), channel("b"), channel("a", project="p2")))
    assert problems == ["channels[2] id='a': id: duplicate id, first used by channels[0]"]


@pytest.mark.parametrize(
    ("data", "fmt", "expected"),
    [
        (b"", "yaml", "the file is empty"),
        (b"- id: a\n", "yaml", "expected an object with a `channels` list at the top level"),
        (b"channels: []\nchanels: []\n", "yaml", "unknown top-level key 'chanels'"),
        (b"version: 1\n", "yaml", "unknown top-level key 'version'"),
        (b"channels:\n", "yaml", "channels: expected a list, got nothing"),
        (
            f"channels:\n  - id: a\n    url: {SLACK}\n   type: slack\n".encode(),
            "yaml",
            "not valid YAML at line 4, column 4",
        ),
        (f'{{"channels": [{{"url": "{SLACK}",]}}'.encode(), "json", "not valid JSON"),
    ],
    ids=[
        "an empty file is refused (a half-written file must not wipe the channels)",
        "a bare list is refused",
        "a misspelt top-level key is refused",
        "any other top-level key is refused",
        "channels with no list is refused",
        "a YAML syntax error gives the line and never quotes the line's URL",
        "a JSON syntax error never quotes the URL",
    ],
)
def test_a_bad_document_is_refused_with_a_clear_reason(
    data: bytes, fmt: str, expected: str
) -> None:
    problems = problems_of(data, fmt)
    assert any(expected in p for p in problems), problems
    assert all(SECRET not in p for p in problems)


def test_the_url_policy_can_allow_extra_hosts_or_insecure_targets() -> None:
    data = document(channel("a", url=f"https://hooks.example.com/{SECRET}"))
    assert problems_of(data)
    assert parse_channels(data, policy=UrlPolicy(extra_hosts=("hooks.example.com",)))
    local = document(channel("a", url="http://127.0.0.1:8080/slack"))
    assert problems_of(local)
    assert parse_channels(local, policy=UrlPolicy(allow_insecure=True))


def test_a_missing_file_is_a_channels_error_naming_the_path(tmp_path: Path) -> None:
    with pytest.raises(ChannelsError, match=r"cannot read .*nope\.yaml: No such file"):
        load_channels_file(tmp_path / "nope.yaml")


# -- topic records -----------------------------------------------------------------------------


def test_a_topic_record_is_a_channel_or_a_tombstone() -> None:
    value = orjson.dumps(channel("a"))
    assert decode_channel_record(b"a", value, UrlPolicy()) == ("a", config("a"))
    assert decode_channel_record(b"a", None, UrlPolicy()) == ("a", None)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        (None, orjson.dumps(channel("a")), "key: missing"),
        (b"\xff\xfe", orjson.dumps(channel("a")), "key: not UTF-8"),
        (b"", None, "key: empty"),
        (b"b", orjson.dumps(channel("a")), "channel 'b': id: does not match the record key"),
        (b"a", f'{{"url": "{SLACK}"'.encode(), "channel 'a': value: not valid JSON"),
        (b"a", b"[1, 2]", "channel 'a': expected a channel object, got a list"),
        (
            b"a",
            orjson.dumps(channel("a", url=f"https://evil.example/{SECRET}")),
            "channel 'a': url: host is not an official slack webhook host",
        ),
    ],
    ids=[
        "a record without a key is refused",
        "a key that is not UTF-8 is refused",
        "an empty key is refused, even as a tombstone",
        "a key that differs from the value's id is refused",
        "a value that is not JSON is refused without quoting it",
        "a value that is not an object is refused",
        "a URL the policy refuses is refused, redacted",
    ],
)
def test_a_bad_topic_record_is_refused_without_quoting_its_value(
    key: bytes | None, value: bytes | None, expected: str
) -> None:
    with pytest.raises(ChannelsError) as caught:
        decode_channel_record(key, value, UrlPolicy())
    assert any(p.startswith(expected) for p in caught.value.problems), caught.value.problems
    assert SECRET not in str(caught.value)


# -- the directory -----------------------------------------------------------------------------


def test_a_snapshot_maps_each_project_to_its_active_channels_in_order() -> None:
    snap = Directory.build(
        [config("a"), config("b", active=False), config("c"), config("d", project="p2")]
    )
    assert [c.id for c in snap.active_for("p1")] == ["a", "c"]
    assert [c.id for c in snap.active_for("p2")] == ["d"]
    assert snap.active_for("unknown") == ()
    assert len(snap) == 4
    assert snap.projects == {"p1", "p2"}


def test_a_snapshot_cannot_be_changed_in_place() -> None:
    snap = Directory.build([config("a")])
    with pytest.raises(TypeError):
        snap.channels["b"] = config("b")  # type: ignore[index]
    with pytest.raises(AttributeError):
        snap.version = 7  # type: ignore[misc]


def test_the_topic_overrides_the_file_per_id_and_a_tombstone_brings_the_file_back() -> None:
    directory = ChannelDirectory()
    directory.set_file([config("a"), config("b")])
    directory.replace_topic({"b": config("b", project="p2"), "t": config("t")})
    assert [c.id for c in directory.active_for("p1")] == ["a", "t"]
    assert [c.id for c in directory.active_for("p2")] == ["b"]

    directory.update_topic({"a": config("a", active=False), "t": None})
    assert directory.active_for("p1") == ()

    directory.update_topic({"a": None, "b": None})  # tombstones: the file's versions come back
    assert [c.id for c in directory.active_for("p1")] == ["a", "b"]
    assert directory.active_for("p2") == ()

    directory.set_file([config("b")])  # a file change keeps the topic layer
    directory.update_topic({"t": config("t", project="p2")})
    assert [c.id for c in directory.active_for("p1")] == ["b"]
    assert [c.id for c in directory.active_for("p2")] == ["t"]


def test_a_fan_out_holding_a_snapshot_sees_one_version_across_a_reload() -> None:
    directory = ChannelDirectory()
    directory.set_file([config("a"), config("b")])
    held = directory.snapshot
    in_flight = held.active_for("p1")

    directory.set_file([config("c")])

    assert [c.id for c in in_flight] == ["a", "b"]
    assert [c.id for c in held.active_for("p1")] == ["a", "b"]
    assert [c.id for c in directory.active_for("p1")] == ["c"]
    assert directory.snapshot.version == held.version + 1


def test_a_reload_sets_the_gauge_and_logs_one_line_with_counts() -> None:
    directory = ChannelDirectory()
    tg = {"type": "telegram", "url": TELEGRAM, "chat_id": "-100"}
    with capture_logs() as logs:
        directory.set_file([config("a"), config("b", active=False), config("t", **tg)])
    [line] = [e for e in logs if e["event"] == "channels_reloaded"]
    assert line["source"] == "file"
    assert (line["total"], line["active"], line["projects"]) == (3, 2, 1)
    assert line["by_type"] == {"slack": 2, "telegram": 1}
    assert SECRET not in repr(logs)

    def gauge(kind: str, active: str) -> float | None:
        return metrics.REGISTRY.get_sample_value(
            "webhook_channels", {"type": kind, "active": active}
        )

    assert (gauge("slack", "true"), gauge("slack", "false")) == (1, 1)
    assert (gauge("telegram", "true"), gauge("discord", "true")) == (1, 0)
    directory.set_file([])
    assert gauge("slack", "true") == 0


@pytest.mark.parametrize(
    ("file", "topic", "steps", "ready"),
    [
        (False, False, [], True),
        (True, False, [], False),
        (True, False, ["file"], True),
        (False, True, ["file"], False),
        (True, True, ["file"], False),
        (True, True, ["topic"], False),
        (True, True, ["file", "topic"], True),
        (False, True, ["update"], False),
    ],
    ids=[
        "with no source configured the directory is ready at once",
        "a configured file must be loaded first",
        "a loaded file makes it ready",
        "with a topic configured a file alone is not enough",
        "with both configured the file alone is not enough",
        "with both configured the topic alone is not enough",
        "with both loaded it is ready",
        "live topic updates before the catch-up do not make it ready",
    ],
)
async def test_ready_waits_for_every_configured_source(
    file: bool, topic: bool, steps: list[str], ready: bool
) -> None:
    directory = ChannelDirectory(file_expected=file, topic_expected=topic)
    for step in steps:
        if step == "file":
            directory.set_file([config("a")])
        elif step == "topic":
            directory.replace_topic({})
        else:
            directory.update_topic({"a": config("a")})
    assert directory.ready is ready
    if ready:
        await asyncio.wait_for(directory.wait_ready(), 1)


# -- hot reload --------------------------------------------------------------------------------


async def eventually(check: Callable[[], bool], within_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


def ids(directory: ChannelDirectory, project: str = "p1") -> list[str]:
    return [c.id for c in directory.active_for(project)]


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[Path, ChannelDirectory]]:
    path = tmp_path / "channels.yaml"
    path.write_bytes(document(channel("a"), channel("b")))
    directory = ChannelDirectory(file_expected=True)
    watcher = ChannelFileWatcher(path, directory, interval_s=0.02)
    await watcher.start()
    try:
        yield path, directory
    finally:
        await watcher.stop()


async def test_a_rewritten_file_is_picked_up_while_running(
    watched: tuple[Path, ChannelDirectory],
) -> None:
    path, directory = watched
    assert directory.ready
    assert ids(directory) == ["a", "b"]
    path.write_bytes(document(channel("b"), channel("c")))
    await eventually(lambda: ids(directory) == ["b", "c"])


async def test_a_broken_version_is_logged_once_and_the_last_good_one_stays(
    watched: tuple[Path, ChannelDirectory],
) -> None:
    path, directory = watched
    good = directory.snapshot
    with capture_logs() as logs:
        path.write_bytes(document(channel("a"), channel("x", url=f"http://evil/{SECRET}")))
        await eventually(lambda: any(e["event"] == "channels_file_rejected" for e in logs))
        await asyncio.sleep(0.2)  # ten more polls of the same broken file
    rejected = [e for e in logs if e["event"] == "channels_file_rejected"]
    assert len(rejected) == 1
    assert rejected[0]["log_level"] == "error"
    assert rejected[0]["problems"] == [
        "channels[1] id='x': url: only https URLs are allowed: http://evil/***"
    ]
    assert rejected[0]["kept"] == 2
    assert SECRET not in repr(logs)
    assert directory.snapshot is good

    path.write_bytes(document(channel("c")))
    await eventually(lambda: ids(directory) == ["c"])


async def test_a_file_that_disappears_keeps_the_last_good_channels(
    watched: tuple[Path, ChannelDirectory],
) -> None:
    path, directory = watched
    with capture_logs() as logs:
        path.unlink()
        await eventually(lambda: any(e["event"] == "channels_file_unreadable" for e in logs))
        await asyncio.sleep(0.1)
    assert len([e for e in logs if e["event"] == "channels_file_unreadable"]) == 1
    assert ids(directory) == ["a", "b"]
    path.write_bytes(document(channel("d")))
    await eventually(lambda: ids(directory) == ["d"])


def k8s_volume(root: Path, version: str, data: bytes) -> None:
    """Write `data` the way the kubelet updates a ConfigMap/Secret volume: a new timestamped
    directory, a `..data_tmp` symlink to it renamed over `..data`, the old directory removed."""
    new = root / f"..{version}"
    new.mkdir()
    (new / "channels.yaml").write_bytes(data)
    old = (root / "..data").readlink() if (root / "..data").is_symlink() else None
    (root / "..data_tmp").symlink_to(new.name)
    (root / "..data_tmp").replace(root / "..data")
    if not (root / "channels.yaml").is_symlink():
        (root / "channels.yaml").symlink_to("..data/channels.yaml")
    if old is not None:
        shutil.rmtree(root / old)


async def test_a_kubernetes_style_symlink_swap_is_picked_up(tmp_path: Path) -> None:
    k8s_volume(tmp_path, "2024_01_01_00_00_00.1", document(channel("a")))
    directory = ChannelDirectory(file_expected=True)
    watcher = ChannelFileWatcher(tmp_path / "channels.yaml", directory, interval_s=0.02)
    await watcher.start()
    try:
        assert ids(directory) == ["a"]
        # Same size, same mtime second: only the link target (inode, realpath) changes.
        k8s_volume(tmp_path, "2024_01_01_00_00_00.2", document(channel("b")))
        await eventually(lambda: ids(directory) == ["b"])
        k8s_volume(tmp_path, "2024_01_01_00_00_00.3", b"channels: [")  # broken: kept
        await asyncio.sleep(0.2)
        assert ids(directory) == ["b"]
        k8s_volume(tmp_path, "2024_01_01_00_00_00.4", document(channel("c", "p1")))
        await eventually(lambda: ids(directory) == ["c"])
    finally:
        await watcher.stop()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "cannot read"),
        (b"channels: [", "not valid YAML"),
        (document(channel("a", type="matrix")), r"channels\[0\] id='a': type:"),
    ],
    ids=[
        "a missing file at start is an error",
        "a broken file at start is an error",
        "an invalid channel at start is an error",
    ],
)
async def test_the_service_does_not_start_on_a_bad_file(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "channels.yaml"
    if content is not None:
        path.write_bytes(content)
    directory = ChannelDirectory(file_expected=True)
    watcher = ChannelFileWatcher(path, directory)
    with pytest.raises(ChannelsError, match=expected):
        await watcher.start()
    assert not directory.ready


def test_a_file_rewritten_within_one_timestamp_tick_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "channels.yaml"
    path.write_bytes(document(channel("a")))
    first = _look(path, UrlPolicy(), None, 0, None)
    assert isinstance(first, _Read)
    # Same stamp as our last read (as a coarse-timestamp file system may show after a quick
    # rewrite): while the mtime is within the racy window of our read, the bytes are compared.
    path.write_bytes(document(channel("b")))
    same = stamp(path)
    racy = _look(path, UrlPolicy(), same, time.time_ns(), first.digest)
    assert isinstance(racy, _Read)
    assert racy.channels is not None
    assert [c.id for c in racy.channels] == ["b"]
    # Once the file is older than the window, an unchanged stamp means unchanged.
    past = time.time_ns() - 10 * 1_000_000_000
    os.utime(path, ns=(past, past))
    old = stamp(path)
    assert isinstance(_look(path, UrlPolicy(), old, time.time_ns(), racy.digest), _Unchanged)


async def test_after_a_swap_new_channels_receive_and_removed_ones_do_not(tmp_path: Path) -> None:
    insecure = UrlPolicy(allow_insecure=True)  # the sink is plain http on 127.0.0.1
    async with Sink() as sink, Delivery(DeliveryConfig(policy=insecure)) as d:

        def on_sink(id: str) -> dict[str, object]:
            return channel(id, url=sink.url(f"/{id}"))

        k8s_volume(tmp_path, "2024_01_01_00_00_00.1", document(on_sink("old"), on_sink("kept")))
        directory = ChannelDirectory(file_expected=True)
        watcher = ChannelFileWatcher(
            tmp_path / "channels.yaml", directory, insecure, interval_s=0.02
        )
        await watcher.start()
        try:
            k8s_volume(tmp_path, "2024_01_01_00_00_00.2", document(on_sink("kept"), on_sink("new")))
            await eventually(lambda: ids(directory) == ["kept", "new"])
            results = await d.deliver(test_notification("p1"), directory.active_for("p1"))
        finally:
            await watcher.stop()
    assert [(r.channel_id, r.outcome) for r in results] == [
        ("kept", Outcome.DELIVERED),
        ("new", Outcome.DELIVERED),
    ]
    assert sorted(r.path for r in sink.received) == ["/kept", "/new"]
