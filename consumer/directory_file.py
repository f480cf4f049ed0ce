"""Hot reload of the channels file: poll it, re-read it when it changes, keep the last good one.

Polling `os.stat` (about once a second) works everywhere, inotify or not, and sees both ways a
file changes under a running pod:

- rewritten in place (an editor, `kubectl cp`): size, mtime or ctime change;
- swapped by Kubernetes: a ConfigMap or Secret volume is `<dir>/<key> -> ..data/<key>` with
  `..data -> ..2024_01_01_00_00_00.1234`, and an update renames a new `..data` symlink over the
  old one. `os.stat` follows the links, so the new target's inode shows, and so does its
  `realpath`. (A `subPath` mount is never updated by the kubelet: mount the whole volume.)

A change is only acted on when the bytes differ. A new version that does not validate is logged
once (every problem, URLs redacted) and the last good directory stays in force; so does a file
that disappears. A file rewritten twice within one timestamp tick cannot hide its second write:
while the file's mtime is too close to our last read to trust ("racily clean", as git calls it),
each poll re-reads and compares the bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from consumer.channel import ChannelConfig
from consumer.directory import ChannelDirectory, detect_format, parse_channels, read_channels_file
from consumer.errors import ChannelsError
from consumer.logs import get_logger
from consumer.urlpolicy import UrlPolicy

log = get_logger("consumer.directory_file")

#: How often the file is checked, seconds.
POLL_INTERVAL_S: Final = 1.0
#: A file whose mtime is within this much of our last read is re-read even if its stat is the same
#: (file systems with coarse timestamps can give two quick writes the same mtime).
RACY_WINDOW_NS: Final = 2_000_000_000


@dataclass(frozen=True, slots=True)
class Stamp:
    """What `os.stat` says about the file behind the path (links followed), and where it is."""

    realpath: str
    device: int
    inode: int
    size: int
    mtime_ns: int
    ctime_ns: int


def stamp(path: Path) -> Stamp:
    """The file's stamp; raises OSError when it is missing or unreadable."""
    st = os.stat(path)  # noqa: PTH116  # one stat call giving every field, links followed
    return Stamp(
        os.path.realpath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns
    )


@dataclass(frozen=True, slots=True)
class _Unchanged:
    pass


@dataclass(frozen=True, slots=True)
class _Missing:
    reason: str


@dataclass(frozen=True, slots=True)
class _Read:
    stamp: Stamp
    read_ns: int
    digest: str
    channels: list[ChannelConfig] | None  # None: same bytes as before, nothing to do
    problems: list[str]


_Look = _Unchanged | _Missing | _Read


def _look(
    path: Path, policy: UrlPolicy, last: Stamp | None, read_ns: int, digest: str | None
) -> _Look:
    """One check of the file (blocking I/O: runs in a worker thread)."""
    try:
        now = stamp(path)
    except OSError as exc:
        return _Missing(exc.strerror or type(exc).__name__)
    racy = now.mtime_ns >= read_ns - RACY_WINDOW_NS
    if now == last and not racy:
        return _Unchanged()
    read_at = time.time_ns()
    try:
        data = read_channels_file(path)
    except ChannelsError as exc:
        return _Read(now, read_at, "", None, exc.problems)
    new_digest = hashlib.sha256(data).hexdigest()
    if new_digest == digest:
        return _Read(now, read_at, new_digest, None, [])
    try:
        channels = parse_channels(data, fmt=detect_format(path.name, data), policy=policy)
    except ChannelsError as exc:
        return _Read(now, read_at, new_digest, None, exc.problems)
    return _Read(now, read_at, new_digest, channels, [])


class ChannelFileWatcher:
    """Feeds the file layer of a `ChannelDirectory` from `path`, re-reading it when it changes."""

    def __init__(
        self,
        path: Path,
        directory: ChannelDirectory,
        policy: UrlPolicy | None = None,
        *,
        interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        self.path = path
        self.directory = directory
        self.policy = policy or UrlPolicy()
        self.interval_s = interval_s
        self._stamp: Stamp | None = None
        self._read_ns = 0
        self._digest: str | None = None
        self._missing: str | None = None
        self._problems: list[str] = []
        self._loaded = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Load the file (a missing or invalid file raises `ChannelsError`), then watch it."""
        await self.poll()
        if not self._loaded:
            raise ChannelsError(self._problems or [f"cannot read {self.path}: {self._missing}"])
        if self._task is None:
            self._task = asyncio.create_task(self._watch(), name="channels file watcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def poll(self) -> bool:
        """Check the file once; True when a new version was loaded into the directory."""
        seen = await asyncio.to_thread(
            _look, self.path, self.policy, self._stamp, self._read_ns, self._digest
        )
        if isinstance(seen, _Unchanged):
            return False
        if isinstance(seen, _Missing):
            if self._missing != seen.reason:
                self._missing = seen.reason
                log.error(
                    "channels_file_unreadable",
                    path=str(self.path),
                    reason=seen.reason,
                    kept=len(self.directory.snapshot),
                    note=self._keeping(),
                )
            self._stamp = None
            return False
        self._missing = None
        self._stamp, self._read_ns = seen.stamp, seen.read_ns
        self._digest = seen.digest or None
        if seen.problems:
            self._problems = seen.problems
            log.error(
                "channels_file_rejected",
                path=str(self.path),
                problems=seen.problems,
                kept=len(self.directory.snapshot),
                note=self._keeping(),
            )
            return False
        if seen.channels is None:
            return False  # touched, but the same bytes
        self._problems = []
        self._loaded = True
        self.directory.set_file(seen.channels)
        return True

    def _keeping(self) -> str:
        if self._loaded:
            return "the last good version stays in force"
        return "no valid version has been loaded yet"

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.interval_s)
            await self.poll()
