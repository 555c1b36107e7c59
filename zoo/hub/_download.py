"""Downloading modules into TF Hub's cache: archive URL, fetch with a timeout, pin check, safe extraction.

Every remote archive is fetched by `_fetch_archive` with its own socket timeout
(``ZOO_DOWNLOAD_TIMEOUT``, default 15 s; nothing process-wide changes), checked against the
registry's ``sha256`` pin when there is one, extracted with `zoo.hub._archives.safe_extract`
(no path traversal, no links out, size limits) and moved into place by tensorflow_hub's own
``resolver.atomic_download`` (its lock file and temporary directory protocol).

Kaggle Models handles download from Kaggle's model API (`zoo.hub._kaggle`).

Example:
    >>> _archive_url("https://tfhub.dev/google/yamnet/1")
    'https://tfhub.dev/google/yamnet/1?tf-hub-format=compressed'
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import tarfile
import time
import urllib.parse
from pathlib import Path
from typing import BinaryIO

from zoo.errors import IntegrityError, ModuleLoadError, ModuleNotCachedError, UnsafeArchiveError, ZooError
from zoo.hub._archives import _CHUNK, DEFAULT_MAX_BYTES, _limit, safe_extract
from zoo.hub._integrity import _write_sidecar, tree_sha256
from zoo.hub._kaggle import is_kaggle_handle, kaggle_archive_url, kaggle_auth_header
from zoo.hub._layout import _cache_note, _names_for, lock_path
from zoo.hub._locks import LOCK_TIMEOUT_SEC, clear_stale_lock, download_turn
from zoo.hub._savedmodel import check_module_dir

__all__ = ["download", "download_timeout", "DEFAULT_DOWNLOAD_TIMEOUT"]

DEFAULT_DOWNLOAD_TIMEOUT = 15.0
_COMPRESSED_QUERY = ("tf-hub-format", "compressed")
_HUB_CN = "https://hub.tensorflow.google.cn/"
_GCS_CN_TEMPLATE = "https://gcs.tensorflow.google.cn/tfhub-modules/%s.tar.gz"


def download_timeout() -> float:
    """Seconds a download may wait on the network for one connect or read (``ZOO_DOWNLOAD_TIMEOUT``, default 15)."""
    return float(os.environ.get("ZOO_DOWNLOAD_TIMEOUT", "") or DEFAULT_DOWNLOAD_TIMEOUT)


def _archive_url(handle: str) -> str:
    """The URL of the compressed archive of ``handle`` (as tensorflow_hub downloads it)."""
    if handle.endswith((".tar", ".tar.gz", ".tgz")):
        return handle
    if handle.startswith("gs://"):
        raise ModuleLoadError(
            f"handle {handle!r} is a gs:// directory, which has no archive whose sha256 could be pinned; "
            "pin a .tar.gz handle instead or remove the sha256 pin")
    if is_kaggle_handle(handle):
        return kaggle_archive_url(handle)
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
    # the timeout is this request's own (connect and every read), never the process-wide socket default
    request = urllib.request.Request(url)
    auth = kaggle_auth_header(url)
    if auth:
        request.add_header("Authorization", auth)
    return urllib.request.urlopen(request, context=context, timeout=download_timeout())


def _download_archive(handle: str, mdir: Path, sha256: str | None) -> None:
    """Fetch the module archive, check its pin (if any), extract it safely and complete it in place,
    under tensorflow_hub's own download lock (``resolver.atomic_download``)."""
    from tensorflow_hub import resolver

    url = _archive_url(handle)
    limit = _limit("ZOO_MAX_BUNDLE_BYTES", DEFAULT_MAX_BYTES)

    def download(handle: str, tmp_dir: str) -> None:
        archive = Path(f"{tmp_dir}.archive")
        digest = hashlib.sha256()
        try:
            source = _fetch_archive(url)
            if isinstance(source, (bytes, bytearray)):  # a fetcher may hand over the whole body
                source = io.BytesIO(source)
            with open(archive, "wb") as out:
                try:
                    size = 0
                    while chunk := source.read(_CHUNK):
                        size += len(chunk)
                        if size > limit:  # never more than the extraction limit on disk
                            raise UnsafeArchiveError(
                                f"archive of module {handle!r} ({url}) is larger than {limit} bytes "
                                "(ZOO_MAX_BUNDLE_BYTES); download stopped, nothing was extracted",
                                handle=handle, url=url, limit=limit)
                        digest.update(chunk)
                        out.write(chunk)
                    declared = getattr(source, "headers", None) and source.headers.get("Content-Length")
                    if declared and declared.isdigit() and size < int(declared):  # the server hung up early
                        raise ConnectionError(f"connection closed after {size} of {declared} bytes")
                finally:
                    with contextlib.suppress(Exception):
                        source.close()
            actual = digest.hexdigest()
            if sha256 and actual != sha256:
                raise IntegrityError(
                    f"archive of module {handle!r} ({url}) has sha256 {actual} but the registry pins {sha256}; "
                    "nothing was extracted. The module changed upstream or the download was tampered with: check the "
                    "pin in the registry (`zoo info NAME`) before updating it", handle=handle, url=url,
                    expected=sha256, actual=actual)
            try:
                safe_extract(archive, tmp_dir, what=f"archive of {handle!r}")
            except tarfile.TarError as exc:
                raise ModuleLoadError(f"archive of module {handle!r} ({url}) is not a valid tar archive: {exc}") from None
            problem = check_module_dir(tmp_dir)
            if problem:
                raise ModuleLoadError(f"archive of module {handle!r} ({url}) is not a complete SavedModel: {problem}")
            if sha256:
                _write_sidecar(mdir, handle, sha256, tree_sha256(tmp_dir))
        finally:
            with contextlib.suppress(FileNotFoundError):
                archive.unlink()

    with download_turn(mdir, lambda: _lock_wait(0.1)):
        _await_live_lock(mdir)
        resolver.atomic_download(handle, download, str(mdir), LOCK_TIMEOUT_SEC)


def _await_live_lock(mdir: Path, poll: float = 0.1) -> None:
    """Wait while another process downloads ``mdir``; a lock whose owner died (or stopped making
    progress for the lock timeout) is removed at once, so nobody waits out TF Hub's 10 minutes."""
    lock = lock_path(mdir)
    while lock.exists():
        if clear_stale_lock(mdir):
            return
        _lock_wait(poll)


def _lock_wait(seconds: float) -> None:
    """One wait for another process's lock (tests replace it to see that a process is waiting)."""
    time.sleep(seconds)


def _copy_gcs_dir(handle: str, mdir: Path) -> None:
    import tensorflow as tf
    from tensorflow_hub import resolver

    def download(src: str, tmp_dir: str) -> None:
        for dirpath, _, files in tf.io.gfile.walk(src):
            rel = dirpath[len(src):].lstrip("/")
            os.makedirs(os.path.join(tmp_dir, rel), exist_ok=True)
            for name in files:
                tf.io.gfile.copy(f"{dirpath.rstrip('/')}/{name}", os.path.join(tmp_dir, rel, name), overwrite=True)

    with download_turn(mdir, lambda: _lock_wait(0.1)):
        _await_live_lock(mdir)
        resolver.atomic_download(handle, download, str(mdir), LOCK_TIMEOUT_SEC)


def _is_network_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError):  # URLError, socket.timeout, ConnectionError, DNS (gaierror)
        return True
    try:
        import tensorflow as tf

        return isinstance(exc, tf.errors.OpError)
    except ImportError:  # pragma: no cover
        return False


def download(handle: str, mdir: Path, sha256: str | None) -> str:
    """Download ``handle`` into its cache directory ``mdir`` (TF Hub's layout and lock protocol); its path.

    Network failures become `ModuleNotCachedError` within the download timeout, a refused
    handle (HTTP 4xx) `ModuleLoadError`, a pin mismatch `IntegrityError`; nothing partial
    is left in the cache.
    """
    import urllib.error

    try:
        if handle.startswith("gs://") and not handle.endswith((".tar", ".tar.gz", ".tgz")):
            if sha256:
                _archive_url(handle)  # raises: a gs:// directory has no archive to pin
            _copy_gcs_dir(handle, mdir)
            return str(mdir)
        if sha256 or is_kaggle_handle(handle) or (handle.startswith(("http://", "https://", "gs://")) and
                                                   os.environ.get("TFHUB_MODEL_LOAD_FORMAT", "").upper() != "UNCOMPRESSED"):
            _download_archive(handle, mdir, sha256)
            return str(mdir)
        import tensorflow_hub  # other forms (uncompressed loading): tensorflow_hub's own resolvers

        return str(tensorflow_hub.resolve(handle))
    except ZooError:
        raise
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise ModuleLoadError(
                f"module {handle!r} could not be downloaded: the server answered HTTP {exc.code} {exc.reason}; "
                "check the handle (see `zoo info NAME`)") from None
        reason = (f"HTTP {exc.code}: the server keeps redirecting (a redirect loop)" if 300 <= exc.code < 400
                  else f"HTTP {exc.code} {' '.join(str(exc.reason).split())}")
    except Exception as exc:  # noqa: BLE001
        if not _is_network_error(exc):
            raise ModuleLoadError(f"module {handle!r} could not be downloaded into {mdir}: "
                                  f"{type(exc).__name__}: {exc}") from None
        reason = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    raise ModuleNotCachedError(
        f"module {handle!r} is not cached and could not be downloaded ({reason}). Looked in {mdir}, {_cache_note()}. "
        f"Fix: connect to the network, or run `zoo cache prefetch {_names_for(handle)}` on a connected machine (same "
        "TFHUB_CACHE_DIR), or `zoo cache pack` there and `zoo cache unpack` here; set ZOO_OFFLINE=1 to skip "
        "download attempts") from None
