"""Atomic file and directory writes: a file or directory is complete or absent, never half-written.

Every file is written to a temporary name in the same directory, fsynced and
renamed into place (``os.replace``); directories are swapped with one rename.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "run.json"
    >>> atomic_write_json(p, {"epoch": 3}); json.loads(p.read_text())
    {'epoch': 3}
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

__all__ = ["atomic_path", "atomic_write_text", "atomic_write_bytes", "atomic_write_json", "replace_dir",
           "owned_tmp_dir", "json_default", "storage_errors", "write_failure"]

_FULL_ERRNOS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EROFS}
_FULL_WORDS = ("No space left on device", "File too large", "Disk quota exceeded", "Read-only file system")


def write_failure(exc: BaseException, path: str | os.PathLike, what: str, kept: str = "") -> Any:
    """The `zoo.StorageError` for a write that failed for lack of room (disk full, file size limit,
    quota, read-only file system), from an ``OSError`` or a TensorFlow error; None for other errors.

    Example:
        >>> err = write_failure(OSError(errno.ENOSPC, "No space left on device"), "/runs/r/model", "export")
        >>> type(err).__name__, err.path, err.reason
        ('StorageError', '/runs/r/model', 'No space left on device')
    """
    from zoo.errors import StorageError

    if isinstance(exc, OSError) and exc.errno in _FULL_ERRNOS:
        reason = os.strerror(exc.errno)
    elif (isinstance(exc, OSError) or type(exc).__module__.startswith("tensorflow")) and any(
            w in str(exc) for w in _FULL_WORDS):  # TensorFlow's errors, shutil.Error's list of failures
        reason = next(w for w in _FULL_WORDS if w in str(exc))
    else:
        return None
    return StorageError(f"could not write {what} '{path}': {reason}; free disk space (or raise the file size limit) "
                        f"and try again{'; ' + kept if kept else ''}", path=str(path), reason=reason)


@contextlib.contextmanager
def storage_errors(path: str | os.PathLike, what: str, kept: str = "") -> Iterator[None]:
    """Turn a write that fails for lack of room inside the block into one `zoo.StorageError` naming
    ``path`` (`write_failure`); other errors pass unchanged.

    Example:
        >>> with storage_errors("/tmp/x", "file"):
        ...     raise OSError(errno.EFBIG, "File too large")
        Traceback (most recent call last):
        ...
        zoo.errors.StorageError: could not write file '/tmp/x': File too large; free disk space (or raise the file size limit) and try again
    """
    try:
        yield
    except Exception as exc:
        err = write_failure(exc, path, what, kept)
        if err is None:
            raise
        raise err from None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends without an error, the file
    written there is fsynced and renamed to ``path``; otherwise it is removed. The one atomic
    writer of zoo (files, TFLite models, plots, bundles).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "m.bin"
        >>> with atomic_path(p) as tmp:
        ...     _ = tmp.write_bytes(b"abc")
        >>> p.read_bytes(), [f.name for f in p.parent.iterdir()]
        (b'abc', ['m.bin'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        with storage_errors(path, "file", f"'{path}' was left as it was"):
            yield tmp
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (`atomic_path`).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
        >>> atomic_write_bytes(p, b"x"); p.read_bytes()
        b'x'
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temp file in the same folder, fsync, rename).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> atomic_write_text(p, "hi\\n"); p.read_text()
        'hi\\n'
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
        >>> atomic_write_json(p, {"a": 1}); json.loads(p.read_text())
        {'a': 1}
    """
    atomic_write_text(path, json.dumps(obj, indent=2, default=json_default) + "\n")


def json_default(value: Any) -> Any:
    """``json.dumps(default=...)`` for NumPy scalars and arrays and paths.

    Example:
        >>> import json, numpy as np; json.dumps({"x": np.float32(0.5)}, default=json_default)
        '{"x": 0.5}'
    """
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def replace_dir(tmp: str | os.PathLike, final: str | os.PathLike) -> None:
    """Move the finished directory ``tmp`` to ``final``, replacing an older ``final``.

    The old directory is first renamed aside, so ``final`` is at every moment either
    the complete old directory, absent, or the complete new one; never a mix.

    Example:
        >>> import tempfile, pathlib
        >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "t").mkdir(); _ = (d / "t" / "f").write_text("x")
        >>> replace_dir(d / "t", d / "final"); (d / "final" / "f").read_text()
        'x'
    """
    tmp, final = Path(tmp), Path(final)
    old = None
    if final.exists() or final.is_symlink():
        old = final.with_name(f".{final.name}.old-{os.getpid()}-{int(time.time() * 1000)}")
        os.replace(final, old)
    os.replace(tmp, final)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                old.unlink()


def owned_tmp_dir(parent: str | os.PathLike, prefix: str, *, leftovers: str | None = None) -> Path:
    """A new temporary directory ``<parent>/<prefix>XXXX`` owned by this process (its pid in
    ``.owner``). Leftovers matching ``leftovers`` (default ``<prefix>*``) whose owner process is
    gone are removed first; one without an owner file only when over an hour old (its writer may
    be starting). Used for atomic exports and for features spilled to disk.

    Example:
        >>> import tempfile; d = Path(tempfile.mkdtemp())
        >>> t = owned_tmp_dir(d, ".model.tmp-"); t.name.startswith(".model.tmp-"), (t / ".owner").read_text() == str(os.getpid())
        (True, True)
    """
    parent = Path(parent)
    for old in parent.glob(leftovers or f"{prefix}*"):
        try:
            os.kill(int((old / ".owner").read_text()), 0)
            continue  # its owner is still running
        except ProcessLookupError:
            pass
        except (OSError, ValueError):
            if time.time() - old.stat().st_mtime < 3600:
                continue  # no owner file yet: leave recent ones alone
        shutil.rmtree(old, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    (tmp / ".owner").write_text(str(os.getpid()))
    return tmp
