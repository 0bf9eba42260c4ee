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
behind; the file's content only says who holds it.

`flock` is only as good as the file system's: reliable on local disks and on NFSv4 (Linux
emulates it with POSIX locks, which the server holds), node-local on Lustre mounted with
``localflock``, on BeeGFS by default and on NFS mounted ``nolock``, so two jobs on two nodes
of a cluster would both take it. Where the store's mount is not known to hold it across
machines (`flock_trusted`), the lock is a lease instead (`filelock.SoftFileLease`): a marker
file created exclusively (atomic on NFS and on cluster file systems), naming its holder's
host and pid, renewed by a heartbeat thread; a holder that died on this host is replaced at
once, one on another host once its lease has not been renewed for `LEASE_S` seconds. The
store says so when a command starts (`lock_notice`). ``STILTS_LOCK=flock`` or ``=lease``
chooses either way.
"""

from __future__ import annotations

import fcntl
import functools
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Literal

import filelock


def lock_path(directory: Path) -> Path:
    return directory.with_name(f".{directory.name}.lock")


@contextmanager
def directory_lock(directory: Path, log: Callable[[str], None]) -> Iterator[None]:
    """Hold `directory`'s lock for the block, first waiting for (and naming) another holder."""
    path = lock_path(directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    if lock_mode(path.parent) == "lease":
        with _leased(path, directory, log):
            yield
        return
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
    if lock_mode(path.parent) == "lease":
        lease = _lease(path)
        try:
            lease.acquire(timeout=0)
        except filelock.Timeout:
            return holder(path)
        lease.release()
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


LEASE_S = 60.0
"""Seconds a lease stands unrenewed before another host may take it (renewed every 20)."""
LOCAL_FILE_SYSTEMS = frozenset({
    "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "tmpfs", "overlay", "f2fs", "jfs",
    "reiserfs", "bcachefs", "apfs", "hfs",
})  # fmt: skip
"""File systems of one machine's disks: flock holds for every process that can reach them."""
LockMode = Literal["flock", "lease"]


@dataclass(frozen=True)
class Mount:
    point: str
    kind: str
    options: frozenset[str]


def flock_trusted(mount: Mount) -> bool:
    """Whether flock on `mount` excludes processes on every machine that mounts it."""
    if mount.kind in LOCAL_FILE_SYSTEMS:
        return True
    if mount.kind in ("nfs", "nfs4"):  # NFSv3 through lockd: unless the client keeps locks
        return not {"nolock", "local_lock=flock", "local_lock=all"} & mount.options
    if mount.kind == "lustre":  # "localflock" keeps them on the node; "flock" shares them
        return "flock" in mount.options
    return mount.kind == "ceph"  # the kernel client's flock is the cluster's


def mount_of(path: Path) -> Mount | None:
    """The mount `path` lives on, from /proc/mounts (None where there is none: not Linux)."""
    try:
        table = Path("/proc/mounts").read_text(encoding="utf-8")
    except OSError:
        return None
    target = str(_existing(path).resolve())
    best: Mount | None = None
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and (best is None or len(point) >= len(best.point)):
            best = Mount(point, fields[2], frozenset(fields[3].split(",")))
    return best


def lock_mode(directory: Path) -> LockMode:
    """How locks under `directory` are taken: ``STILTS_LOCK`` if set, else flock where its
    mount holds it across machines (or is unknown: not Linux), else a lease."""
    chosen = os.environ.get("STILTS_LOCK", "auto")
    if chosen == "flock":
        return "flock"
    if chosen == "lease":
        return "lease"
    return _mode_of(mount_of(directory))


def lock_notice(root: Path) -> str | None:
    """What a command says at its start about a store locked by leases, else None."""
    if lock_mode(root) != "lease":
        return None
    mount = mount_of(root)
    if os.environ.get("STILTS_LOCK") == "lease" or mount is None:
        return f"the store {root} is locked with leases (STILTS_LOCK=lease)"
    return (
        f"the store {root} is on {mount.kind} ({mount.point}), where flock may hold on one "
        f"machine only; stilts locks it with lease files instead (renewed every "
        f"{LEASE_S / 3:g} s, taken over {LEASE_S:g} s after their holder stops renewing). "
        "STILTS_LOCK=flock if you know flock holds across your machines there"
    )


@functools.cache
def _mode_of(mount: Mount | None) -> LockMode:
    return "flock" if mount is None or flock_trusted(mount) else "lease"


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _lease(path: Path) -> filelock.SoftFileLease:
    return filelock.SoftFileLease(f"{path}.lease", lease_duration=LEASE_S)


@contextmanager
def _leased(path: Path, directory: Path, log: Callable[[str], None]) -> Iterator[None]:
    """`directory_lock` by lease: the lease marker excludes, the lock file names the holder."""
    lease = _lease(path)
    try:
        lease.acquire(timeout=0)
    except filelock.Timeout:
        log(f"{directory.name} is being written by {holder(path)}; waiting for it")
        lease.acquire()
    info = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time()}
    path.write_text(json.dumps(info), encoding="utf-8")
    try:
        yield
    finally:
        path.write_text("", encoding="utf-8")
        lease.release()
