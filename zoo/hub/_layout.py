"""The layout of TF Hub's module cache, as zoo and tensorflow_hub share it.

zoo uses TF Hub's own cache (``TFHUB_CACHE_DIR``, see `zoo.hub._paths.hub_cache_dir`): a
module fetched from ``HANDLE`` lives in ``<cache>/<sha1(HANDLE)>/``, next to
``<sha1>.descriptor.txt`` (who downloaded it), ``<sha1>.lock`` while a process
downloads it (see `zoo.hub._locks`) and ``<sha1>.zoo.json``, zoo's integrity record (see
`zoo.hub._integrity`). This module holds those paths, the offline switch, and the
registry look-ups that word cache error messages.

Example:
    >>> import os; os.environ["TFHUB_CACHE_DIR"] = "/tmp/hubc"
    >>> str(module_dir("https://tfhub.dev/google/yamnet/1"))
    '/tmp/hubc/9616fd04ec2360621642ef9455b84f4b668e219e'
    >>> del os.environ["TFHUB_CACHE_DIR"]
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import re
import socket
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from zoo.atomic import atomic_write_text
from zoo.errors import ZooWarning
from zoo.hub._paths import hub_cache_dir

__all__ = [
    "CacheWarning", "is_remote", "is_offline", "module_dir", "lock_path", "descriptor_path", "sidecar_path",
    "spec_handles", "write_descriptor", "offline_mode",
]

_SHA1_RE = re.compile(r"^[0-9a-f]{40}$")
_TRUE = ("1", "true", "yes", "on")


class CacheWarning(ZooWarning):
    """zoo repaired something in the TF Hub cache (a stale lock, a half-written module).

    Example:
        >>> issubclass(CacheWarning, UserWarning)
        True
    """


# ---- paths ---------------------------------------------------------------------------------
def is_remote(handle: str) -> bool:
    """Whether ``handle`` is fetched into the TF Hub cache (``https://``, ``http://``, ``gs://``).

    Example:
        >>> is_remote("https://tfhub.dev/google/yamnet/1"), is_remote("/models/x")
        (True, False)
    """
    return handle.startswith(("https://", "http://", "gs://"))


_OFFLINE: contextvars.ContextVar[bool] = contextvars.ContextVar("zoo_offline", default=False)


@contextlib.contextmanager
def offline_mode() -> Iterator[None]:
    """Inside the block (this thread or task only), zoo downloads nothing, as with ``ZOO_OFFLINE=1``;
    the process environment is left alone.

    Example:
        >>> with offline_mode():
        ...     is_offline()
        True
    """
    token = _OFFLINE.set(True)
    try:
        yield
    finally:
        _OFFLINE.reset(token)


def is_offline() -> bool:
    """True inside `offline_mode`, or when ``ZOO_OFFLINE`` or ``TFHUB_OFFLINE`` is ``1``/``true``/``yes``.

    Example:
        >>> os.environ["ZOO_OFFLINE"] = "1"; is_offline()
        True
        >>> del os.environ["ZOO_OFFLINE"]
    """
    return _OFFLINE.get() or any(os.environ.get(v, "").strip().lower() in _TRUE
                                 for v in ("ZOO_OFFLINE", "TFHUB_OFFLINE"))


def _local_path(handle: str) -> Path:
    if handle.startswith("file://"):
        handle = urllib.parse.unquote(handle[len("file://"):])
    return Path(handle).expanduser()


def _sha1(handle: str) -> str:
    return hashlib.sha1(handle.encode("utf8")).hexdigest()


def module_dir(handle: str) -> Path:
    """Where TF Hub caches ``handle``: ``<cache>/<sha1(handle)>``; local paths return themselves.

    Example:
        >>> module_dir("/models/my_cnn")
        PosixPath('/models/my_cnn')
    """
    if not is_remote(handle):
        return _local_path(handle)
    return Path(os.path.abspath(hub_cache_dir())) / _sha1(handle)


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
        >>> from zoo.registry._spec import BackboneSpec
        >>> spec_handles(BackboneSpec(name="b", modality="text", handle="/m", output_dim=4, preprocessor="/p"))
        ['/m', '/p']
    """
    out = [spec.handle]
    if getattr(spec, "preprocessor", None):
        out.append(spec.preprocessor)
    return out


# ---- registry look-ups (for messages) -----------------------------------------------------
def _names_for(handle: str) -> str:
    """Registry names using ``handle`` (for the fix in messages), or ``NAME``."""
    try:
        from zoo.registry import list_backbones

        names = [s.name for s in list_backbones() if handle in spec_handles(s)]
    except Exception:  # noqa: BLE001 - only used to word a message
        names = []
    return " ".join(names) if names else "NAME"


def _specs(names: str | Iterable[str]) -> list[Any]:
    """The registry specs of backbone ``names`` (one name or several)."""
    from zoo.registry import get

    if isinstance(names, str):
        names = [names]
    return [get(n) for n in names]


def _cache_note() -> str:
    cache = hub_cache_dir()
    if os.environ.get("TFHUB_CACHE_DIR"):
        return f"cache directory {cache} (TFHUB_CACHE_DIR)"
    return (f"cache directory {cache} (TFHUB_CACHE_DIR is unset, so TF Hub uses this temp directory, "
            "which may be wiped; set TFHUB_CACHE_DIR to a lasting directory)")


# ---- TF Hub's descriptor -------------------------------------------------------------------
def write_descriptor(handle: str, mdir: Path | str) -> None:
    """Write TF Hub's ``<dir>.descriptor.txt`` (same format as tensorflow_hub).

    Example:
        >>> import tempfile; mdir = Path(tempfile.mkdtemp()) / "abc"
        >>> write_descriptor("https://tfhub.dev/google/yamnet/1", mdir)
        >>> descriptor_path(mdir).read_text().splitlines()[0]
        'Module: https://tfhub.dev/google/yamnet/1'
    """
    import datetime

    atomic_write_text(descriptor_path(mdir), "Module: %s\nDownload Time: %s\nDownloader Hostname: %s (PID:%d)" % (
        handle, datetime.datetime.today(), socket.gethostname(), os.getpid()))
