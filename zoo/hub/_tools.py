"""Tools for TF Hub's module cache: what backs ``zoo cache ls|prefetch|verify|clear|pack|unpack``.

Every function returns data; the ``format_*`` helpers turn it into text for the CLI.
Nothing here imports TensorFlow until a module has to be downloaded or loaded.

This module lists and clears; ``prefetch`` and ``verify`` live in ``_verify``, bundles
(``zoo cache pack`` / ``unpack``: one verified download shared with air-gapped machines)
in ``_bundles``.

Example:
    >>> import os, tempfile; os.environ["TFHUB_CACHE_DIR"] = tempfile.mkdtemp()
    >>> ls()
    []
    >>> format_ls([]).splitlines()[0].startswith("cache ")
    True
    >>> del os.environ["TFHUB_CACHE_DIR"]
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.hub._layout import (
    _SHA1_RE, _sha1, _specs, descriptor_path, is_remote, lock_path, module_dir, spec_handles,
)
from zoo.hub._integrity import read_sidecar
from zoo.hub._locks import _discard_dir, _lock_owner, cache_lock, clear_stale_lock
from zoo.hub._paths import hub_cache_dir
from zoo.hub._savedmodel import check_module_dir

__all__ = ["CacheEntry", "ls", "clear", "clear_all", "format_ls", "format_size"]
@dataclass
class CacheEntry:
    """One module directory in the TF Hub cache.

    ``names``: registry backbones using it (empty if unknown); ``handle``: from zoo's
    record, TF Hub's descriptor or the registry, None if unknown; ``status``: ``"ok"``
    or ``"incomplete"`` (then ``problem`` says why).

    Example:
        >>> CacheEntry(path=Path("/c/x"), handle=None, names=[], size=0, status="ok").name
        '?'
    """

    path: Path
    handle: str | None
    names: list[str]
    size: int
    status: str
    problem: str = ""
    pinned: bool = False

    @property
    def name(self) -> str:
        return ",".join(self.names) if self.names else "?"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"], d["name"] = str(self.path), self.name
        return d


# ---- helpers -------------------------------------------------------------------------------
def format_size(n: int) -> str:
    """Human-readable byte count.

    Example:
        >>> format_size(1536), format_size(12)
        ('1.5 KiB', '12 B')
    """
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"  # pragma: no cover


def _dir_size(path: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


@dataclass
class _Use:
    name: str
    handle: str
    pin: str | None
    text_ops: bool


def _registry_uses() -> dict[str, list[_Use]]:
    """``{sha1(handle): [uses]}`` for every remote handle in the registry."""
    from zoo.registry import list_backbones

    out: dict[str, list[_Use]] = {}
    for spec in list_backbones():
        for h in spec_handles(spec):
            if is_remote(h):
                main = h == spec.handle
                out.setdefault(_sha1(h), []).append(_Use(
                    spec.name, h, spec.sha256 if main else None, spec.text_ops or not main))
    return out


def _recorded_handle(mdir: Path) -> str | None:
    record = read_sidecar(mdir)
    if record and isinstance(record.get("handle"), str) and _sha1(record["handle"]) == mdir.name:
        return record["handle"]
    try:
        first = descriptor_path(mdir).read_text(encoding="utf8", errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    if not first.startswith("Module: "):
        return None
    handle = first[len("Module: "):].strip()
    return handle if handle and _sha1(handle) == mdir.name else None


# ---- ls ------------------------------------------------------------------------------------
def ls() -> list[CacheEntry]:
    """Every module directory in the TF Hub cache, sorted by name then path.

    Example:
        >>> import tempfile; os.environ["TFHUB_CACHE_DIR"] = tempfile.mkdtemp()
        >>> ls()
        []
        >>> del os.environ["TFHUB_CACHE_DIR"]
    """
    cache = hub_cache_dir()
    if not cache.is_dir():
        return []
    uses = _registry_uses()
    entries = []
    for item in sorted(os.listdir(cache)):
        path = cache / item
        if not _SHA1_RE.match(item) or not path.is_dir():
            continue
        known = uses.get(item, [])
        handle = _recorded_handle(path) or (known[0].handle if known else None)
        problem = check_module_dir(path) or ""
        entries.append(CacheEntry(
            path=path, handle=handle, names=sorted({u.name for u in known}), size=_dir_size(path),
            status="incomplete" if problem else "ok", problem=problem,
            pinned=any(u.pin for u in known)))
    entries.sort(key=lambda e: (e.name == "?", e.name, str(e.path)))
    return entries


def format_ls(entries: list[CacheEntry]) -> str:
    """``zoo cache ls`` table.

    Example:
        >>> print(format_ls([CacheEntry(Path("/c/ab"), "https://h/1", ["m"], 2048, "ok")]).splitlines()[-1])
        m     ok      2.0 KiB  https://h/1  /c/ab
    """
    cache = hub_cache_dir()
    total = sum(e.size for e in entries)
    head = f"cache {cache}: {len(entries)} module(s), {format_size(total)}"
    if not os.environ.get("TFHUB_CACHE_DIR"):
        head += " (TFHUB_CACHE_DIR is unset: temp directory)"
    if not entries:
        return head
    rows = [("NAME", "STATUS", "SIZE", "HANDLE", "PATH")]
    for e in entries:
        status = e.status + (f" ({e.problem})" if e.problem else "")
        rows.append((e.name, status, format_size(e.size), e.handle or "?", str(e.path)))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [head]
    for r in rows:
        lines.append("  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1]), r[2].rjust(widths[2]),
                                r[3].ljust(widths[3]), r[4]]).rstrip())
    return "\n".join(lines)


# ---- clear ---------------------------------------------------------------------------------
def _clear_module(mdir: Path) -> list[Path]:
    """Remove a module directory and its descriptor / record / stale lock and temp files."""
    clear_stale_lock(mdir)
    owner = _lock_owner(lock_path(mdir))
    if owner is not None:
        raise ZooError(f"{mdir} is being downloaded by {owner[3].strip()!r} right now; retry `zoo cache clear` "
                       "when it has finished")
    removed: list[Path] = []
    with cache_lock(mdir):
        if mdir.exists():
            _discard_dir(mdir)
            removed.append(mdir)
        lock_name = lock_path(mdir).name
        for item in sorted(mdir.parent.glob(mdir.name + ".*")):
            if item.name == lock_name or item.name.endswith(".tmp-write"):
                continue
            if item.is_dir() and not item.is_symlink():
                shutil.rmtree(item, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    item.unlink()
            removed.append(item)
    return removed


def clear(name: str) -> list[Path]:
    """Remove the cached modules of backbone ``name`` (handle and preprocessor); return what was removed.

    Local handles are never touched. A module another process is downloading right
    now raises `ZooError` (after the others are removed).

    Example:
        >>> import tempfile; os.environ["TFHUB_CACHE_DIR"] = tempfile.mkdtemp()
        >>> clear("mobilenet_v2")
        []
        >>> del os.environ["TFHUB_CACHE_DIR"]
    """
    (spec,) = _specs(name)
    removed: list[Path] = []
    busy: list[str] = []
    for h in spec_handles(spec):
        if is_remote(h):
            try:
                removed += _clear_module(module_dir(h))
            except ZooError as exc:
                busy.append(str(exc))
    if busy:
        raise ZooError("; ".join(busy))
    return removed


def clear_all() -> list[Path]:
    """Remove every TF Hub module (``<sha1>`` directories and their files) from the cache.

    Example:
        >>> import tempfile; os.environ["TFHUB_CACHE_DIR"] = tempfile.mkdtemp()
        >>> clear_all()
        []
        >>> del os.environ["TFHUB_CACHE_DIR"]
    """
    cache = hub_cache_dir()
    if not cache.is_dir():
        return []
    removed: list[Path] = []
    busy: list[str] = []
    for sha in sorted({item[:40] for item in os.listdir(cache) if _SHA1_RE.match(item[:40])}):
        try:
            removed += _clear_module(cache / sha)
        except ZooError as exc:
            busy.append(str(exc))
    if busy:
        raise ZooError("; ".join(busy))
    return removed
