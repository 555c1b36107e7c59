"""TF Hub's cache lock protocol: `cache_lock`, and removal of locks left by killed processes.

While a process downloads a module into ``<cache>/<sha1>/`` it holds
``<sha1>.lock`` (contents ``host.pid.uid``) and writes into ``<sha1>.<uid>.tmp/``,
renamed into place when done; this is how ``tensorflow_hub.resolver.atomic_download``
works, and zoo follows the same protocol so both can share one cache. A lock whose
pid on this host is dead, or that made no progress for `LOCK_TIMEOUT_SEC`, is stale:
`clear_stale_lock` removes it with a `CacheWarning`.

Example:
    >>> import tempfile; mdir = Path(tempfile.mkdtemp()) / "abc"
    >>> with cache_lock(mdir) as uid:
    ...     lock_path(mdir).read_text().endswith(uid)
    True
    >>> lock_path(mdir).exists(), clear_stale_lock(mdir)
    (False, None)
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import time
import uuid
import warnings
from pathlib import Path
from typing import Callable, Iterator

from zoo.hub._layout import CacheWarning, lock_path

__all__ = ["LOCK_TIMEOUT_SEC", "clear_stale_lock", "cache_lock", "download_turn"]

LOCK_TIMEOUT_SEC = 10 * 60
"""TF Hub's ``compressed_module_resolver.LOCK_FILE_TIMEOUT_SEC``: a lock without progress for this long is stale."""
def _lock_owner(lock: Path) -> tuple[str, int | None, str, str] | None:
    """``(host, pid, uid, raw contents)`` of a TF Hub lock file ``host.pid.uid``; None if absent."""
    try:
        raw = lock.read_text(encoding="utf8", errors="replace")
    except FileNotFoundError:
        return None
    parts = raw.strip().rsplit(".", 2)  # host names may contain dots
    if len(parts) == 3 and parts[1].isdigit():
        return parts[0], int(parts[1]), parts[2], raw
    return raw.strip(), None, "", raw


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` runs on this host; a zombie (killed, not yet reaped by its parent) is dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    try:  # Linux: the state follows the command name in /proc/<pid>/stat ("Z" zombie, "X" dead)
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] not in (["Z"], ["X"])


def _newest_mtime(path: Path) -> float | None:
    try:
        newest = path.stat().st_mtime
    except OSError:
        return None
    for dirpath, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                newest = max(newest, os.stat(os.path.join(dirpath, name)).st_mtime)
    return newest


def clear_stale_lock(mdir: Path | str, *, timeout: float = LOCK_TIMEOUT_SEC) -> str | None:
    """Remove ``<dir>.lock`` (and its temp download) if its owner is gone; return why, else None.

    Stale: the lock names a pid on this host that is not alive, or neither the lock nor
    the owner's temp directory changed for ``timeout`` seconds (TF Hub's own rule).
    A live lock is left alone. Emits a `CacheWarning` when it removes something.

    Example:
        >>> clear_stale_lock("/nonexistent/abc") is None
        True
    """
    lock = lock_path(mdir)
    owner = _lock_owner(lock)
    if owner is None:
        return None
    host, pid, uid, raw = owner
    tmp = Path(f"{mdir}.{uid}.tmp") if uid else None
    reason = None
    if pid is not None and host == socket.gethostname() and not _pid_alive(pid):
        reason = f"process {pid} on this host is no longer running"
    else:
        try:
            age = time.time() - lock.stat().st_mtime
        except FileNotFoundError:
            return None
        if age > timeout:
            activity = _newest_mtime(tmp) if tmp else None
            if activity is None or time.time() - activity > timeout:
                reason = f"no download progress for {int(age)} s (TF Hub's lock timeout is {int(timeout)} s)"
    if reason is None:
        return None
    again = _lock_owner(lock)
    if again is None or again[3] != raw:  # taken over meanwhile
        return None
    with contextlib.suppress(FileNotFoundError):
        lock.unlink()
    if tmp is not None:
        shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            Path(f"{tmp}.archive").unlink()
    warnings.warn(f"zoo: removed stale TF Hub lock {lock} held by {raw.strip()!r}: {reason}", CacheWarning,
                  stacklevel=3)
    return reason


def _try_lock(lock: Path, contents: str) -> bool:
    tmp = lock.with_name(f"{lock.name}.{uuid.uuid4().hex}.tmp-write")
    tmp.write_text(contents, encoding="utf8")
    try:
        os.link(tmp, lock)  # atomic, fails if the lock exists
        return True
    except FileExistsError:
        return False
    except OSError:  # file systems without hard links
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf8") as f:
            f.write(contents)
        return True
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@contextlib.contextmanager
def cache_lock(mdir: Path | str, *, poll: float = 0.5, timeout: float = LOCK_TIMEOUT_SEC) -> Iterator[str]:
    """Hold TF Hub's lock of ``mdir`` (``<dir>.lock`` with ``host.pid.uid``); yields the uid.

    Waits while another live process holds it; stale locks are removed (`clear_stale_lock`).
    Compatible with tensorflow_hub's ``resolver.atomic_download``.

    Example:
        >>> import tempfile; mdir = Path(tempfile.mkdtemp()) / "abc"
        >>> with cache_lock(mdir):
        ...     lock_path(mdir).exists()
        True
    """
    lock = lock_path(mdir)
    lock.parent.mkdir(parents=True, exist_ok=True)
    uid = uuid.uuid4().hex
    contents = f"{socket.gethostname()}.{os.getpid()}.{uid}"
    while not _try_lock(lock, contents):
        if clear_stale_lock(mdir, timeout=timeout) is None:
            time.sleep(poll)
    try:
        yield uid
    finally:
        owner = _lock_owner(lock)
        if owner is not None and owner[3] == contents:
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()


@contextlib.contextmanager
def download_turn(mdir: Path | str, wait: Callable[[], None]) -> Iterator[None]:
    """One process of this host at a time starts downloading ``mdir``: an OS lock (``flock``) on
    ``<zoo home>/locks/<name>.lock``, ``wait()`` between tries. TF Hub's own lock file is taken
    with a check, then a rename, which two processes starting the same download at the same
    instant can both pass (both then download); the second one in turn finds the module there.
    Without ``fcntl`` or a writable zoo home it gives way (TF Hub's lock still applies).

    Example:
        >>> import tempfile; mdir = Path(tempfile.mkdtemp()) / "abc"
        >>> with download_turn(mdir, lambda: None):
        ...     "held"
        'held'
    """
    try:
        import fcntl

        from zoo.hub._paths import zoo_home

        folder = zoo_home() / "locks"
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / f"{Path(mdir).name}.lock", "a+")  # noqa: SIM115 - held until the turn ends
    except (ImportError, OSError):
        handle = None
    if handle is None:
        yield
        return
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                wait()
        yield
    finally:
        handle.close()  # closing releases the flock


def _discard_dir(path: Path) -> None:
    """Move ``path`` aside atomically, then delete it (readers never see half a directory)."""
    trash = Path(f"{path}.{uuid.uuid4().hex}.zoo-trash")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)
