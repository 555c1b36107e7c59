"""Tar archives, read and written safely: `safe_extract` and the tar settings of zoo bundles.

zoo unpacks two kinds of archives it did not make itself: TF Hub module archives
(pinned downloads, see `zoo.hub`) and cache bundles (``zoo cache unpack``, see
`zoo.hub._bundles`). Both go through `safe_extract`, which refuses anything that could
write outside the target directory or exhaust the disk.

Example:
    >>> import io, tarfile, tempfile
    >>> buf = io.BytesIO()
    >>> with tarfile.open(fileobj=buf, mode="w") as tar:
    ...     info = tarfile.TarInfo("m/saved_model.pb"); info.size = 1
    ...     tar.addfile(info, io.BytesIO(b"x"))
    >>> _ = buf.seek(0); safe_extract(buf, tempfile.mkdtemp())
    ['m/saved_model.pb']
"""

from __future__ import annotations

import os
import re
import tarfile
from pathlib import Path
from typing import BinaryIO

from zoo.errors import UnsafeArchiveError

__all__ = ["safe_extract", "DEFAULT_MAX_BYTES", "DEFAULT_MAX_MEMBERS"]

DEFAULT_MAX_BYTES = 20 * 1024**3
DEFAULT_MAX_MEMBERS = 200_000
_CHUNK = 1 << 20
_TAR_MODES = ((".tar.gz", "gz"), (".tgz", "gz"), (".tar.xz", "xz"), (".txz", "xz"), (".tar.bz2", "bz2"))


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

    Example:
        >>> import io, tarfile, tempfile
        >>> buf = io.BytesIO()
        >>> with tarfile.open(fileobj=buf, mode="w") as tar:
        ...     tar.addfile(tarfile.TarInfo("../evil"), io.BytesIO(b""))
        >>> _ = buf.seek(0); safe_extract(buf, tempfile.mkdtemp())
        Traceback (most recent call last):
        ...
        zoo.errors.UnsafeArchiveError: archive member '../evil' has a '..' component; refusing to extract
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


# ---- writing bundles -----------------------------------------------------------------------
def _tar_mode(path: Path, write: bool) -> str:
    for suffix, comp in _TAR_MODES:
        if path.name.endswith(suffix):
            return f"{'w' if write else 'r'}:{comp}"
    return "w" if write else "r:*"


def _tarinfo_reset(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o755 if info.isdir() else 0o644
    return info
