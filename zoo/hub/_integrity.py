"""Integrity of cached modules: tree digests, zoo's ``<dir>.zoo.json`` record and sha256 pins.

A registry entry may pin the ``sha256`` of a module's archive. When zoo downloads a
pinned module it checks the archive digest before extracting anything, then writes
``<sha1>.zoo.json`` next to the module directory with the handle, the archive digest
and `tree_sha256` of the extracted files. `verify_pinned` checks that record against
the pin and the files on every later load (`IntegrityError` on any mismatch).

Example:
    >>> import tempfile; d = Path(tempfile.mkdtemp()) / "abc"; d.mkdir()
    >>> _ = (d / "saved_model.pb").write_bytes(b"x")
    >>> _write_sidecar(d, "https://x/m", "0" * 64, tree_sha256(d))
    >>> verify_pinned("https://x/m", d, "0" * 64)
    >>> read_sidecar(d)["handle"]
    'https://x/m'
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from zoo.hub._archives import _CHUNK
from zoo.errors import IntegrityError
from zoo.atomic import atomic_write_text
from zoo.hub._layout import _names_for, module_dir, sidecar_path

__all__ = ["tree_sha256", "read_sidecar", "verify_pinned"]
def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def tree_sha256(path: Path | str) -> str:
    """Deterministic digest of a directory: sorted relative paths and file contents.

    Example:
        >>> import tempfile; d = tempfile.mkdtemp()
        >>> _ = (Path(d) / "a.txt").write_text("x")
        >>> len(tree_sha256(d))
        64
    """
    root = Path(path)
    entries: list[tuple[str, str]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in list(dirnames):
            if (base / name).is_symlink():
                dirnames.remove(name)
                filenames.append(name)
        for name in filenames:
            full = base / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                entries.append((rel, "L" + os.readlink(full)))
            else:
                entries.append((rel, "F" + _file_sha256(full)))
    h = hashlib.sha256()
    for rel, digest in sorted(entries):
        h.update(rel.encode("utf8") + b"\0" + digest.encode("utf8") + b"\n")
    return h.hexdigest()


def resolved_tree(handle: str) -> tuple[Path, str | None]:
    """Where ``handle`` resolves here (a local directory, else its cache entry) and that tree's sha256
    (None when the entry is missing or incomplete): what ``run.json`` and `zoo embed` records name.

    Example:
        resolved_tree("https://tfhub.dev/google/yamnet/1")
        # -> (PosixPath('/cache/tfhub/4f2f...'), '9a3c...')
    """
    from zoo.hub._savedmodel import check_module_dir

    local = Path(handle).expanduser()
    where = local if local.is_dir() else Path(module_dir(handle))
    return where, (tree_sha256(where) if where.is_dir() and not check_module_dir(where) else None)


def read_sidecar(mdir: Path | str) -> dict[str, Any] | None:
    """zoo's ``<dir>.zoo.json`` record, or None if there is none (or it is unreadable).

    Example:
        >>> read_sidecar("/nonexistent/abc") is None
        True
    """
    try:
        data = json.loads(sidecar_path(mdir).read_text(encoding="utf8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_sidecar(mdir: Path | str, handle: str, archive_sha256: str | None, tree: str) -> None:
    atomic_write_text(sidecar_path(mdir), json.dumps(
        {"handle": handle, "archive_sha256": archive_sha256, "tree_sha256": tree}, indent=1) + "\n")


def verify_pinned(handle: str, mdir: Path | str, sha256: str) -> None:
    """Raise `IntegrityError` unless ``mdir`` was installed from the archive pinned by ``sha256``
    and its files have not changed since.

    Example:
        >>> verify_pinned("https://x/m", "/nonexistent/abc", "0" * 64)
        Traceback (most recent call last):
        ...
        zoo.errors.IntegrityError: module 'https://x/m' is pinned to archive sha256 0000000000000000000000000000000000000000000000000000000000000000 but its cache entry /nonexistent/abc has no zoo record /nonexistent/abc.zoo.json, so it cannot be verified (it was probably downloaded by plain tensorflow_hub or copied in). Fix: `zoo cache clear NAME` then `zoo cache prefetch NAME`, or `zoo cache pack` it on a verified machine and `zoo cache unpack` it here
    """
    def fix() -> str:
        names = _names_for(handle)
        return (f"Fix: `zoo cache clear {names}` then `zoo cache prefetch {names}`, or `zoo cache pack` it on a "
                "verified machine and `zoo cache unpack` it here")

    record = read_sidecar(mdir)
    if record is None:
        raise IntegrityError(
            f"module {handle!r} is pinned to archive sha256 {sha256} but its cache entry {mdir} has no zoo record "
            f"{sidecar_path(mdir)}, so it cannot be verified (it was probably downloaded by plain tensorflow_hub "
            f"or copied in). {fix()}", handle=handle, path=str(mdir), expected=sha256, actual=None)
    if record.get("handle") not in (None, handle):
        raise IntegrityError(f"cache entry {mdir} records handle {record.get('handle')!r}, not {handle!r}. {fix()}")
    actual = record.get("archive_sha256")
    if actual != sha256:
        raise IntegrityError(
            f"module {handle!r}: the registry pins archive sha256 {sha256} but the cached copy {mdir} was installed "
            f"from an archive with sha256 {actual}. {fix()}", handle=handle, path=str(mdir), expected=sha256,
            actual=actual)
    expected_tree, tree = record.get("tree_sha256"), tree_sha256(mdir)
    if tree != expected_tree:
        raise IntegrityError(
            f"module {handle!r}: files in {mdir} changed since the verified download (tree sha256 expected "
            f"{expected_tree}, actual {tree}); zoo will not use it. {fix()}", handle=handle, path=str(mdir),
            expected=expected_tree, actual=tree)
