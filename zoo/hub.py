"""Resolving and loading TF Hub modules safely.

zoo shares TF Hub's own cache (``TFHUB_CACHE_DIR``, see `zoo.paths.hub_cache_dir`)
and its layout: a module fetched from ``HANDLE`` lives in
``<cache>/<sha1(HANDLE)>/``, next to ``<sha1>.descriptor.txt`` (who downloaded it),
``<sha1>.lock`` while a process downloads it (contents ``host.pid.uid``) and
``<sha1>.<uid>.tmp/`` (the download in progress, renamed into place when done).
zoo adds ``<sha1>.zoo.json`` for modules downloaded with a ``sha256`` pin.

On top of ``tensorflow_hub.resolve`` this module:

* never returns a half-written cache entry (missing ``saved_model.pb``, missing or
  truncated variable shards, checked against ``variables.index``);
* removes locks left by killed processes (dead pid on this host, or no progress for
  TF Hub's lock timeout) with a `CacheWarning`; live locks are waited for by
  tensorflow_hub's own lock protocol;
* works offline (``ZOO_OFFLINE=1`` or ``TFHUB_OFFLINE=1``): cached modules only,
  `ModuleNotCachedError` at once otherwise; online, network failures also become
  `ModuleNotCachedError` within seconds (socket timeout ``ZOO_DOWNLOAD_TIMEOUT``,
  default 15 s);
* checks the registry's ``sha256`` pin of the module archive before extracting it,
  and the extracted files on every later load (`IntegrityError`).

TensorFlow is imported only when something has to be downloaded or loaded.

Example:
    >>> import os; os.environ["TFHUB_CACHE_DIR"] = "/tmp/hubc"
    >>> str(module_dir("https://tfhub.dev/google/yamnet/1"))
    '/tmp/hubc/9616fd04ec2360621642ef9455b84f4b668e219e'
    >>> del os.environ["TFHUB_CACHE_DIR"]
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import tarfile
import time
import urllib.parse
import uuid
import warnings
from pathlib import Path
from typing import Any, BinaryIO, Iterator

from zoo.errors import (
    CorruptCacheError, IntegrityError, ModuleLoadError, ModuleNotCachedError, UnsafeArchiveError, ZooError,
)
from zoo.paths import hub_cache_dir
from zoo.spec import check_handle

__all__ = [
    "CacheWarning", "module_dir", "resolve", "load", "spec_handles", "is_offline", "is_remote",
    "check_module_dir", "tree_sha256", "read_sidecar", "verify_pinned", "lock_path", "descriptor_path",
    "sidecar_path", "clear_stale_lock", "cache_lock", "safe_extract", "write_descriptor", "LOCK_TIMEOUT_SEC",
]

LOCK_TIMEOUT_SEC = 10 * 60
"""TF Hub's ``compressed_module_resolver.LOCK_FILE_TIMEOUT_SEC``: a lock without progress for this long is stale."""

DEFAULT_MAX_BYTES = 20 * 1024**3
DEFAULT_MAX_MEMBERS = 200_000
DEFAULT_DOWNLOAD_TIMEOUT = 15.0
_CHUNK = 1 << 20
_SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
_SHARD_RE = re.compile(r"^variables\.data-(\d{5})-of-(\d{5})$")
_COMPRESSED_QUERY = ("tf-hub-format", "compressed")
_HUB_CN = "https://hub.tensorflow.google.cn/"
_GCS_CN_TEMPLATE = "https://gcs.tensorflow.google.cn/tfhub-modules/%s.tar.gz"
_TRUE = ("1", "true", "yes", "on")


class CacheWarning(UserWarning):
    """zoo repaired something in the TF Hub cache (a stale lock, a half-written module)."""


# ---- paths ---------------------------------------------------------------------------------
def is_remote(handle: str) -> bool:
    """Whether ``handle`` is fetched into the TF Hub cache (``https://``, ``http://``, ``gs://``).

    Example:
        >>> is_remote("https://tfhub.dev/google/yamnet/1"), is_remote("/models/x")
        (True, False)
    """
    return handle.startswith(("https://", "http://", "gs://"))


def is_offline() -> bool:
    """True when ``ZOO_OFFLINE`` or ``TFHUB_OFFLINE`` is ``1``/``true``/``yes``.

    Example:
        >>> os.environ["ZOO_OFFLINE"] = "1"; is_offline()
        True
        >>> del os.environ["ZOO_OFFLINE"]
    """
    return any(os.environ.get(v, "").strip().lower() in _TRUE for v in ("ZOO_OFFLINE", "TFHUB_OFFLINE"))


def _local_path(handle: str) -> Path:
    if handle.startswith("file://"):
        handle = urllib.parse.unquote(handle[len("file://"):])
    return Path(handle).expanduser()


def module_dir(handle: str) -> Path:
    """Where TF Hub caches ``handle``: ``<cache>/<sha1(handle)>``; local paths return themselves.

    Example:
        >>> module_dir("/models/my_cnn")
        PosixPath('/models/my_cnn')
    """
    if not is_remote(handle):
        return _local_path(handle)
    return Path(os.path.abspath(hub_cache_dir())) / hashlib.sha1(handle.encode("utf8")).hexdigest()


def lock_path(mdir: Path | str) -> Path:
    """TF Hub's lock file of a module directory (``<dir>.lock``).

    Example:
        >>> lock_path("/c/abc").name
        'abc.lock'
    """
    return Path(str(mdir) + ".lock")


def descriptor_path(mdir: Path | str) -> Path:
    """TF Hub's descriptor file of a module directory (``<dir>.descriptor.txt``).

    Example:
        >>> descriptor_path("/c/abc").name
        'abc.descriptor.txt'
    """
    return Path(str(mdir) + ".descriptor.txt")


def sidecar_path(mdir: Path | str) -> Path:
    """zoo's integrity record of a module directory (``<dir>.zoo.json``).

    Example:
        >>> sidecar_path("/c/abc").name
        'abc.zoo.json'
    """
    return Path(str(mdir) + ".zoo.json")


def spec_handles(spec: Any) -> list[str]:
    """The handles a backbone needs: its handle, then its preprocessor if any.

    Example:
        >>> from zoo.spec import BackboneSpec
        >>> spec_handles(BackboneSpec(name="b", modality="text", handle="/m", output_dim=4, preprocessor="/p"))
        ['/m', '/p']
    """
    out = [spec.handle]
    if getattr(spec, "preprocessor", None):
        out.append(spec.preprocessor)
    return out


def _names_for(handle: str) -> str:
    """Registry names using ``handle`` (for the fix in messages), or ``NAME``."""
    try:
        from zoo.registry import list_backbones

        names = [s.name for s in list_backbones() if handle in spec_handles(s)]
    except Exception:  # noqa: BLE001 - only used to word a message
        names = []
    return " ".join(names) if names else "NAME"


def _cache_note() -> str:
    cache = hub_cache_dir()
    if os.environ.get("TFHUB_CACHE_DIR"):
        return f"cache directory {cache} (TFHUB_CACHE_DIR)"
    return (f"cache directory {cache} (TFHUB_CACHE_DIR is unset, so TF Hub uses this temp directory, "
            "which may be wiped; set TFHUB_CACHE_DIR to a lasting directory)")


# ---- completeness --------------------------------------------------------------------------
class _Unparsable(Exception):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Unparsable("bad varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _proto_varints(buf: bytes) -> dict[int, int]:
    """Last value of each varint field of a serialized protobuf message (others skipped)."""
    out: dict[int, int] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            out[field], pos = _varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            pos += n
        elif wire == 5:
            pos += 4
        else:
            raise _Unparsable("unsupported wire type")
    if pos != len(buf):
        raise _Unparsable("truncated message")
    return out


def _block(data: bytes, offset: int, size: int) -> bytes:
    if offset + size + 5 > len(data):
        raise _Unparsable("block outside file")
    if data[offset + size] != 0:  # trailer type byte: 0 = uncompressed (what tensor bundles use)
        raise _Unparsable("compressed block")
    return data[offset:offset + size]


def _block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise _Unparsable("short block")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * num_restarts
    if limit < 0:
        raise _Unparsable("bad restarts")
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        vlen, pos = _varint(block, pos)
        if shared > len(key) or pos + non_shared + vlen > limit:
            raise _Unparsable("bad entry")
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        yield key, block[pos:pos + vlen]
        pos += vlen


def _bundle_needs(index: bytes) -> tuple[int, dict[int, int]]:
    """``(num_shards, {shard: bytes needed})`` from a TF tensor bundle ``variables.index``."""
    if len(index) < 48 or index[-8:] != struct.pack("<Q", 0xDB4775248B80FB57):
        raise _Unparsable("no table footer")
    footer = index[-48:]
    _, p = _varint(footer, 0)
    _, p = _varint(footer, p)  # metaindex handle
    idx_off, p = _varint(footer, p)
    idx_size, p = _varint(footer, p)
    num_shards = None
    needs: dict[int, int] = {}
    for _, handle in _block_entries(_block(index, idx_off, idx_size)):
        off, q = _varint(handle, 0)
        size, _ = _varint(handle, q)
        for key, value in _block_entries(_block(index, off, size)):
            fields = _proto_varints(value)
            if key == b"":
                num_shards = fields.get(1, 1)
            else:
                shard = fields.get(3, 0)
                needs[shard] = max(needs.get(shard, 0), fields.get(4, 0) + fields.get(5, 0))
    if num_shards is None or num_shards <= 0:
        raise _Unparsable("no bundle header")
    return num_shards, needs


def check_module_dir(path: Path | str) -> str | None:
    """None if ``path`` holds a complete SavedModel, else what is wrong with it.

    Complete: ``saved_model.pb`` (or ``.pbtxt``) is there and non-empty and, when
    ``variables/`` holds anything, ``variables.index`` and every data shard it
    names exist and are as long as the index says (so truncated shards are found).
    An empty ``variables/`` is accepted (TF1 modules without variables).

    Example:
        >>> check_module_dir("/nonexistent/module")
        'directory /nonexistent/module does not exist'
    """
    p = Path(path)
    if not p.is_dir():
        return f"directory {p} does not exist"
    pb = p / "saved_model.pb"
    if not pb.is_file():
        pb = p / "saved_model.pbtxt"
    if not pb.is_file():
        return f"{p / 'saved_model.pb'} is missing"
    if pb.stat().st_size == 0:
        return f"{pb} is empty"
    var = p / "variables"
    if not var.is_dir():
        return None
    names = sorted(os.listdir(var))
    if not names:
        return None
    index = var / "variables.index"
    if not index.is_file() or index.stat().st_size == 0:
        return f"{index} is {'empty' if index.is_file() else 'missing'}"
    try:
        num_shards, needs = _bundle_needs(index.read_bytes())
    except (_Unparsable, OSError):
        shards = [m for m in map(_SHARD_RE.match, names) if m]
        if not shards:
            return f"{var} has no variables.data-*-of-* shard"
        num_shards, needs = int(shards[0].group(2)), {i: 1 for i in range(int(shards[0].group(2)))}
    for i in range(num_shards):
        shard = var / f"variables.data-{i:05d}-of-{num_shards:05d}"
        if not shard.is_file():
            return f"{shard} is missing"
        have, want = shard.stat().st_size, needs.get(i, 0)
        if have < want:
            return f"{shard} is truncated ({have} bytes, variables.index needs {want})"
    return None


# ---- digests and sidecar -------------------------------------------------------------------
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


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp-write")
    tmp.write_text(text, encoding="utf8")
    os.replace(tmp, path)


def _write_sidecar(mdir: Path | str, handle: str, archive_sha256: str | None, tree: str) -> None:
    _atomic_write_text(sidecar_path(mdir), json.dumps(
        {"handle": handle, "archive_sha256": archive_sha256, "tree_sha256": tree}, indent=1) + "\n")


def write_descriptor(handle: str, mdir: Path | str) -> None:
    """Write TF Hub's ``<dir>.descriptor.txt`` (same format as tensorflow_hub)."""
    import datetime

    _atomic_write_text(descriptor_path(mdir), "Module: %s\nDownload Time: %s\nDownloader Hostname: %s (PID:%d)" % (
        handle, datetime.datetime.today(), socket.gethostname(), os.getpid()))


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
            f"or copied in). {fix()}")
    if record.get("handle") not in (None, handle):
        raise IntegrityError(f"cache entry {mdir} records handle {record.get('handle')!r}, not {handle!r}. {fix()}")
    actual = record.get("archive_sha256")
    if actual != sha256:
        raise IntegrityError(
            f"module {handle!r}: the registry pins archive sha256 {sha256} but the cached copy {mdir} was installed "
            f"from an archive with sha256 {actual}. {fix()}")
    expected_tree, tree = record.get("tree_sha256"), tree_sha256(mdir)
    if tree != expected_tree:
        raise IntegrityError(
            f"module {handle!r}: files in {mdir} changed since the verified download (tree sha256 expected "
            f"{expected_tree}, actual {tree}); zoo will not use it. {fix()}")


# ---- locks (TF Hub's protocol) -------------------------------------------------------------
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
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


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


def _discard_dir(path: Path) -> None:
    """Move ``path`` aside atomically, then delete it (readers never see half a directory)."""
    trash = Path(f"{path}.{uuid.uuid4().hex}.zoo-trash")
    try:
        os.rename(path, trash)
    except FileNotFoundError:
        return
    shutil.rmtree(trash, ignore_errors=True)


# ---- safe extraction -----------------------------------------------------------------------
def _limit(env: str, default: int) -> int:
    value = os.environ.get(env, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        from zoo.errors import ConfigurationError

        raise ConfigurationError(f"{env} must be an integer number, got {value!r}") from None


def safe_extract(archive: Path | str | BinaryIO, dest: Path | str, *, max_bytes: int | None = None,
                 max_members: int | None = None, what: str = "archive") -> list[str]:
    """Extract a tar / tar.gz into the existing directory ``dest``; return member names.

    Every member is checked before anything is written for it: absolute paths, ``..``
    components, links (symbolic and hard), devices and FIFOs are refused, as are
    archives over ``max_bytes`` (``ZOO_MAX_BUNDLE_BYTES``, default 20 GiB) in total or
    over ``max_members`` (``ZOO_MAX_BUNDLE_MEMBERS``, default 200000) members:
    `UnsafeArchiveError`, and nothing is ever written outside ``dest`` (the caller
    extracts into a fresh temp directory and discards it on error).
    """
    max_bytes = _limit("ZOO_MAX_BUNDLE_BYTES", DEFAULT_MAX_BYTES) if max_bytes is None else max_bytes
    max_members = _limit("ZOO_MAX_BUNDLE_MEMBERS", DEFAULT_MAX_MEMBERS) if max_members is None else max_members
    dest = Path(dest)
    root = os.path.realpath(dest)
    total = count = 0
    names: list[str] = []
    opened = (tarfile.open(fileobj=archive, mode="r|*") if hasattr(archive, "read")
              else tarfile.open(archive, mode="r|*"))
    with opened as tar:
        for member in tar:
            name = member.name
            count += 1
            if count > max_members:
                raise UnsafeArchiveError(f"{what} has more than {max_members} members (ZOO_MAX_BUNDLE_MEMBERS)")
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
                raise UnsafeArchiveError(f"{what} member {name!r} has an absolute path; refusing to extract")
            if ".." in parts:
                raise UnsafeArchiveError(f"{what} member {name!r} has a '..' component; refusing to extract")
            if member.issym() or member.islnk():
                raise UnsafeArchiveError(
                    f"{what} member {name!r} is a {'symbolic' if member.issym() else 'hard'} link to "
                    f"{member.linkname!r}; zoo bundles and modules never contain links")
            if not (member.isreg() or member.isdir()):
                raise UnsafeArchiveError(f"{what} member {name!r} is a device, FIFO or other special file")
            rel = "/".join(p for p in parts if p not in ("", "."))
            if not rel:
                continue
            target = os.path.realpath(os.path.join(root, *rel.split("/")))
            if not target.startswith(root + os.sep):
                raise UnsafeArchiveError(f"{what} member {name!r} would be written outside {dest}")
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            total += member.size
            if total > max_bytes:
                raise UnsafeArchiveError(
                    f"{what} unpacks to more than {max_bytes} bytes (ZOO_MAX_BUNDLE_BYTES); refusing to extract")
            os.makedirs(os.path.dirname(target), exist_ok=True)
            src = tar.extractfile(member)
            written = 0
            with open(target, "wb") as out:
                while chunk := src.read(_CHUNK):  # type: ignore[union-attr]
                    written += len(chunk)
                    if written > member.size:
                        raise UnsafeArchiveError(f"{what} member {name!r} is longer than its header says")
                    out.write(chunk)
            names.append(rel)
    return names


# ---- downloading ---------------------------------------------------------------------------
@contextlib.contextmanager
def _socket_timeout() -> Iterator[float]:
    seconds = float(os.environ.get("ZOO_DOWNLOAD_TIMEOUT", "") or DEFAULT_DOWNLOAD_TIMEOUT)
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds if old is None else min(old, seconds))
    try:
        yield seconds
    finally:
        socket.setdefaulttimeout(old)


def _archive_url(handle: str) -> str:
    """The URL of the compressed archive of ``handle`` (as tensorflow_hub downloads it)."""
    if handle.endswith((".tar", ".tar.gz", ".tgz")):
        return handle
    if handle.startswith("gs://"):
        raise ModuleLoadError(
            f"handle {handle!r} is a gs:// directory, which has no archive whose sha256 could be pinned; "
            "pin a .tar.gz handle instead or remove the sha256 pin")
    if handle.startswith(_HUB_CN):
        return _GCS_CN_TEMPLATE % handle[len(_HUB_CN):]
    parsed = list(urllib.parse.urlparse(handle))
    qsl = urllib.parse.parse_qsl(parsed[4])
    qsl.append(_COMPRESSED_QUERY)
    parsed[4] = urllib.parse.urlencode(qsl)
    return urllib.parse.urlunparse(parsed)


def _fetch_archive(url: str) -> BinaryIO | bytes:
    """Open the module archive at ``url`` (tests replace this function)."""
    if url.startswith("gs://"):
        import tensorflow as tf

        return tf.io.gfile.GFile(url, "rb")
    import ssl
    import urllib.request

    context = ssl.create_default_context()
    if os.getenv("TFHUB_DISABLE_CERT_VALIDATION") == "true":
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return urllib.request.urlopen(urllib.request.Request(url), context=context)


def _download_pinned(handle: str, mdir: Path, sha256: str) -> None:
    from tensorflow_hub import resolver

    url = _archive_url(handle)

    def download(handle: str, tmp_dir: str) -> None:
        archive = Path(f"{tmp_dir}.archive")
        digest = hashlib.sha256()
        try:
            source = _fetch_archive(url)
            with open(archive, "wb") as out:
                if isinstance(source, (bytes, bytearray)):
                    digest.update(source)
                    out.write(source)
                else:
                    try:
                        while chunk := source.read(_CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                    finally:
                        with contextlib.suppress(Exception):
                            source.close()
            actual = digest.hexdigest()
            if actual != sha256:
                raise IntegrityError(
                    f"archive of module {handle!r} ({url}) has sha256 {actual} but the registry pins {sha256}; "
                    "nothing was extracted. The module changed upstream or the download was tampered with: check the "
                    "pin in the registry (`zoo info NAME`) before updating it")
            try:
                safe_extract(archive, tmp_dir, what=f"archive of {handle!r}")
            except tarfile.TarError as exc:
                raise ModuleLoadError(f"archive of module {handle!r} ({url}) is not a valid tar archive: {exc}") from None
            problem = check_module_dir(tmp_dir)
            if problem:
                raise ModuleLoadError(f"archive of module {handle!r} ({url}) is not a complete SavedModel: {problem}")
            _write_sidecar(mdir, handle, sha256, tree_sha256(tmp_dir))
        finally:
            with contextlib.suppress(FileNotFoundError):
                archive.unlink()

    resolver.atomic_download(handle, download, str(mdir), LOCK_TIMEOUT_SEC)


def _copy_gcs_dir(handle: str, mdir: Path) -> None:
    import tensorflow as tf
    from tensorflow_hub import resolver

    def download(src: str, tmp_dir: str) -> None:
        for dirpath, _, files in tf.io.gfile.walk(src):
            rel = dirpath[len(src):].lstrip("/")
            os.makedirs(os.path.join(tmp_dir, rel), exist_ok=True)
            for name in files:
                tf.io.gfile.copy(f"{dirpath.rstrip('/')}/{name}", os.path.join(tmp_dir, rel, name), overwrite=True)

    resolver.atomic_download(handle, download, str(mdir), LOCK_TIMEOUT_SEC)


def _is_network_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError):  # URLError, socket.timeout, ConnectionError, DNS (gaierror)
        return True
    try:
        import tensorflow as tf

        return isinstance(exc, tf.errors.OpError)
    except ImportError:  # pragma: no cover
        return False


def _download(handle: str, mdir: Path, sha256: str | None) -> str:
    import urllib.error

    try:
        with _socket_timeout():
            if sha256:
                _download_pinned(handle, mdir, sha256)
                return str(mdir)
            if handle.startswith("gs://") and not handle.endswith((".tar", ".tar.gz", ".tgz")):
                _copy_gcs_dir(handle, mdir)
                return str(mdir)
            import tensorflow_hub

            return str(tensorflow_hub.resolve(handle))
    except ZooError:
        raise
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise ModuleLoadError(
                f"module {handle!r} could not be downloaded: the server answered HTTP {exc.code} {exc.reason}; "
                "check the handle (see `zoo info NAME`)") from None
        reason = f"HTTP {exc.code} {exc.reason}"
    except Exception as exc:  # noqa: BLE001
        if not _is_network_error(exc):
            raise ModuleLoadError(f"module {handle!r} could not be downloaded into {mdir}: "
                                  f"{type(exc).__name__}: {exc}") from None
        reason = f"{type(exc).__name__}: {exc}"
    raise ModuleNotCachedError(
        f"module {handle!r} is not cached and could not be downloaded ({reason}). Looked in {mdir}, {_cache_note()}. "
        f"Fix: connect to the network, or run `zoo cache prefetch {_names_for(handle)}` on a connected machine (same "
        "TFHUB_CACHE_DIR), or `zoo cache pack` there and `zoo cache unpack` here; set ZOO_OFFLINE=1 to skip "
        "download attempts") from None


# ---- resolve / load ------------------------------------------------------------------------
def _resolve_local(handle: str) -> str:
    path = _local_path(handle)
    if not path.exists():
        raise ModuleLoadError(f"module directory {path} does not exist (handle {handle!r})")
    if not path.is_dir():
        raise ModuleLoadError(f"module handle {handle!r} is a file ({path}), not a SavedModel directory")
    problem = check_module_dir(path)
    if problem:
        raise ModuleLoadError(f"{path} is not a complete SavedModel: {problem} (handle {handle!r})")
    return str(path)


def resolve(handle: str, *, sha256: str | None = None, offline: bool | None = None) -> str:
    """Local directory holding the complete module ``handle``; download it if needed and allowed.

    Local directories and ``file://`` handles must hold a ``saved_model.pb``.
    Remote handles come from TF Hub's cache; ``offline`` (default: `is_offline`)
    forbids the network. ``sha256`` pins the module archive (see module docs).

    Raises `ModuleNotCachedError`, `CorruptCacheError`, `IntegrityError` (all
    `ModuleLoadError`) or `zoo.errors.InvalidSpecError` for a refused handle.

    Example:
        >>> resolve("/nonexistent/model")
        Traceback (most recent call last):
        ...
        zoo.errors.ModuleLoadError: module directory /nonexistent/model does not exist (handle '/nonexistent/model')
    """
    check_handle(handle)
    if not is_remote(handle):
        return _resolve_local(handle)
    offline = is_offline() if offline is None else offline
    mdir = module_dir(handle)
    clear_stale_lock(mdir)
    if mdir.is_dir() and any(mdir.iterdir()):
        problem = check_module_dir(mdir)
        if problem is None:
            if sha256:
                verify_pinned(handle, mdir, sha256)
            return str(mdir)
        if offline:
            names = _names_for(handle)
            raise CorruptCacheError(
                f"TF Hub cache entry {mdir} of module {handle!r} is half-written or damaged ({problem}); zoo will not "
                f"use it. Fix: `zoo cache clear {names}` then `zoo cache prefetch {names}` on a connected machine "
                "(or `zoo cache unpack` a bundle made with `zoo cache pack`)")
        warnings.warn(f"zoo: removing damaged TF Hub cache entry {mdir} of {handle!r} ({problem}); downloading again",
                      CacheWarning, stacklevel=2)
        with cache_lock(mdir):
            if check_module_dir(mdir) is not None:  # nobody repaired it meanwhile
                _discard_dir(mdir)
                for extra in (sidecar_path(mdir), descriptor_path(mdir)):
                    with contextlib.suppress(FileNotFoundError):
                        extra.unlink()
    if offline:
        names = _names_for(handle)
        why = ("zoo is offline (ZOO_OFFLINE/TFHUB_OFFLINE)" if is_offline()
               else "this operation does not download (offline=True)")
        busy = ""
        owner = _lock_owner(lock_path(mdir))
        if owner is not None:
            busy = f" (another process, {owner[3].strip()!r}, is installing it right now: retry when it is done)"
        raise ModuleNotCachedError(
            f"module {handle!r} is not in the TF Hub cache and {why}{busy}. "
            f"Looked in {mdir}, {_cache_note()}. Fix: run `zoo cache prefetch {names}` on a connected machine with "
            f"the same TFHUB_CACHE_DIR, or `zoo cache pack {names}` there and `zoo cache unpack` "
            "the bundle here")
    path = _download(handle, mdir, sha256)
    if os.path.abspath(path) != str(mdir):  # a custom resolver or TFHUB_MODEL_LOAD_FORMAT=UNCOMPRESSED: read in place
        return path
    problem = check_module_dir(mdir)
    if problem:
        names = _names_for(handle)
        raise CorruptCacheError(
            f"module {handle!r} was downloaded into {mdir} but is not a complete SavedModel ({problem}). Fix: "
            f"`zoo cache clear {names}` and retry; if it persists the published module is broken")
    if sha256:
        verify_pinned(handle, mdir, sha256)
    return str(mdir)


_OP_RE = re.compile(r"Op type not registered '([^']+)'")


def _import_text_ops(handle: str) -> None:
    try:
        import tensorflow_text  # noqa: F401 - registers the ops
    except ImportError as exc:
        import tensorflow as tf

        raise ModuleLoadError(
            f"module {handle!r} needs the tensorflow_text ops but tensorflow_text cannot be imported ({exc}). Fix: "
            f"pip install 'tensorflow-text=={'.'.join(tf.__version__.split('.')[:2])}.*'") from None


def load(handle: str, *, sha256: str | None = None, text_ops: bool = False, tpu_io: bool = True,
         offline: bool | None = None) -> Any:
    """`resolve` ``handle`` and return what ``tf.saved_model.load`` returns.

    ``tpu_io`` loads with ``LoadOptions(experimental_io_device="/job:localhost")`` so
    that TPU workers read the local cache. ``text_ops`` imports ``tensorflow_text``
    first; a module that fails with "Op type not registered" is retried once after
    importing it. Every failure is a `ModuleLoadError` naming handle and directory.
    """
    path = resolve(handle, sha256=sha256, offline=offline)
    import tensorflow as tf

    if text_ops:
        _import_text_ops(handle)
    options = tf.saved_model.LoadOptions(experimental_io_device="/job:localhost") if tpu_io else None
    retried = text_ops
    while True:
        try:
            return tf.saved_model.load(path, options=options)
        except ZooError:
            raise
        except Exception as exc:  # noqa: BLE001 - turned into a ModuleLoadError below
            message = str(exc)
            op = _OP_RE.search(message)
            if op and not retried:
                retried = True
                _import_text_ops(handle)
                continue
            if op:
                raise ModuleLoadError(
                    f"module {handle!r} ({path}) uses op {op.group(1)!r}, which neither TensorFlow nor tensorflow_text "
                    "registers in this process. Fix: install and import the package that provides it before loading "
                    "(for tensorflow_text ops install the tensorflow-text release matching TensorFlow "
                    f"{tf.__version__}; set text_ops = true in the registry entry)") from None
            first = message.strip().splitlines()[0] if message.strip() else ""
            raise ModuleLoadError(
                f"module {handle!r} could not be loaded from {path}: {type(exc).__name__}: {first[:500]}. Fix: "
                f"`zoo cache verify`, or `zoo cache clear {_names_for(handle)}` and download it again") from None

