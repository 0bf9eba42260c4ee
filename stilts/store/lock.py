"""One writer per store directory: an advisory lock beside it, which names who holds it.

Two runs that need the same phase (two grid cells sharing an intermediate task, or the same
command started twice) must not both train it into one directory. The first to arrive takes
the lock; the second says who holds it, waits, and then finds the phase complete and reuses it.
The same holds for a starting model built into the store, and for a run's directory while
the run is scored and written (`stilts.runtime.runner`): the same chain started twice trains,
scores and writes everything once.

The lock is `flock(2)` on ``.<name>.lock`` beside the directory (not inside it: a directory
published by replacement would take its lock file with it). The kernel drops the lock when its
holder exits, however it exits (SIGKILL included), so a killed run never leaves a stale lock
behind; the file's content only says who holds it. `flock` is reliable on local file systems;
on NFS it depends on the mount (Linux emulates it with POSIX locks, which lockd serves).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


def lock_path(directory: Path) -> Path:
    return directory.with_name(f".{directory.name}.lock")


@contextmanager
def directory_lock(directory: Path, log: Callable[[str], None]) -> Iterator[None]:
    """Hold `directory`'s lock for the block, first waiting for (and naming) another holder."""
    path = lock_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"{directory.name} is being written by {holder(path)}; waiting for it")
            fcntl.flock(handle, fcntl.LOCK_EX)
        _write(handle, {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()})
        try:
            yield
        finally:
            _write(handle, None)
            fcntl.flock(handle, fcntl.LOCK_UN)


def held_by(directory: Path) -> str | None:
    """Who holds `directory`'s lock now, or None: the lock is tried without waiting and let go
    at once (a writer starting in that instant waits that long)."""
    path = lock_path(directory)
    if not path.is_file():
        return None
    with path.open("r", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return holder(path)
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def holder(path: Path) -> str:
    """Who holds the lock at `path`, in words (as the holder wrote it)."""
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
        since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(info["since"]))
        return f"process {info['pid']} on {info['host']} (since {since})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"  # it holds the lock but has not written its name yet


def _write(handle: IO[str], info: dict[str, object] | None) -> None:
    handle.seek(0)
    handle.truncate()
    if info is not None:
        handle.write(json.dumps(info))
    handle.flush()
