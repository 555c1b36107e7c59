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
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["atomic_write_text", "atomic_write_json", "replace_dir"]


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically (temp file in the same folder, fsync, rename).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
        >>> atomic_write_text(p, "hi\\n"); p.read_text()
        'hi\\n'
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.json"
        >>> atomic_write_json(p, {"a": 1}); json.loads(p.read_text())
        {'a': 1}
    """
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
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
