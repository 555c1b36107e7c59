"""Put test modules into a TF Hub cache under their real handles (offline loading).

tensorflow_hub 0.16's compressed-module resolver (used for every ``https://``
handle unless ``TFHUB_MODEL_LOAD_FORMAT=UNCOMPRESSED``, and for ``gs://`` tar
archives) caches a module in ``$TFHUB_CACHE_DIR/<sha1(handle)>`` and, before any
download, returns that directory if it exists and is non-empty. A finished
download also leaves ``<sha1>.descriptor.txt`` beside it (informational only);
``<sha1>.lock`` and ``<sha1>.<uid>.tmp`` exist only while downloading.
`install_in_hub_cache` reproduces that end state.

Example:
    >>> import os, tempfile, zoo, tensorflow_hub as hub
    >>> os.environ["TFHUB_CACHE_DIR"] = cache = tempfile.mkdtemp()
    >>> spec = zoo.get("mobilenet_v2")
    >>> _ = install_in_hub_cache(spec, cache)
    >>> hub.load(spec.handle)(tf.zeros([1, 224, 224, 3])).shape
    TensorShape([1, 1280])
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import socket
import uuid
import warnings
from pathlib import Path

import tensorflow as tf  # noqa: F401  (doctest namespace; the modules need it anyway)

from zoo.errors import ConfigurationError
from zoo.registry import BackboneSpec
from zoo.testing.modules import _built_module, _built_preprocessor, _place

__all__ = ["install_in_hub_cache", "module_cache_dir"]

_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz")


def _local_path(handle: str) -> Path | None:
    """The directory a local handle names, or None if the resolver would download it."""
    if handle.startswith(("https://", "http://")):
        return None
    if handle.startswith("gs://"):
        if handle.endswith(_TAR_SUFFIXES):
            return None
        raise ConfigurationError(
            f"cannot install a test module for {handle!r}: an uncompressed gs:// handle is read "
            "directly from GCS by tensorflow_hub, with no local cache to fill"
        )
    if handle.startswith("file://"):
        handle = handle[len("file://"):]
    if "://" in handle:
        raise ConfigurationError(f"cannot install a test module for {handle!r}: unsupported scheme")
    return Path(handle).expanduser()


def _default_cache_dir() -> str:
    from tensorflow_hub import resolver

    return resolver.tfhub_cache_dir(use_temp=True)


def module_cache_dir(handle: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Where ``tensorflow_hub`` keeps (or reads) the module for ``handle``.

    Downloaded handles (``https://``, ``gs://...tar.gz``): ``cache_dir/<sha1(handle)>``,
    the SHA-1 of the handle string exactly as given (no normalisation);
    ``cache_dir`` defaults to TF Hub's own (``TFHUB_CACHE_DIR``, the
    ``--tfhub_cache_dir`` flag, else ``<tmp>/tfhub_modules``). Local handles
    (paths, ``file://``): the path itself.

    Example:
        >>> module_cache_dir("https://tfhub.dev/google/yamnet/1", "/c").as_posix()
        '/c/9616fd04ec2360621642ef9455b84f4b668e219e'
    """
    local = _local_path(handle)
    if local is not None:
        return local
    if cache_dir is None:
        cache_dir = _default_cache_dir()
    return Path(cache_dir).expanduser() / hashlib.sha1(handle.encode("utf8")).hexdigest()


def _descriptor_text(handle: str) -> str:
    # Same content tensorflow_hub.resolver._write_module_descriptor_file writes.
    return "Module: %s\nDownload Time: %s\nDownloader Hostname: %s (PID:%d)" % (
        handle, str(datetime.datetime.today()), socket.gethostname(), os.getpid())


def _install_one(src: Path, handle: str, cache_dir: str | os.PathLike | None) -> Path:
    local = _local_path(handle)
    if local is not None:
        return _place(src, local)
    module_dir = module_cache_dir(handle, cache_dir)
    module_dir.parent.mkdir(parents=True, exist_ok=True)
    # Like resolver.atomic_download: fill "<dir>.<uid>.tmp", write "<dir>.descriptor.txt",
    # then rename the temp dir into place.
    tmp = Path(f"{module_dir}.{uuid.uuid4().hex}.tmp")
    try:
        shutil.copytree(src, tmp)
        Path(f"{module_dir}.descriptor.txt").write_text(_descriptor_text(handle), encoding="utf-8")
        if module_dir.exists():
            shutil.rmtree(module_dir)
        os.rename(tmp, module_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return module_dir


def install_dir_in_hub_cache(src: str | os.PathLike, handle: str, cache_dir: str | os.PathLike | None = None) -> Path:
    """Copy the SavedModel directory ``src`` into a TF Hub cache as the download of ``handle``
    (for modules made elsewhere, e.g. by `zoo.testing.exporters`). Returns its cache directory.

    Example:
        >>> import tempfile, zoo
        >>> from zoo.testing import make_module
        >>> src = make_module(zoo.get("nnlm_en_50"), tempfile.mkdtemp() + "/m")
        >>> cache = tempfile.mkdtemp()
        >>> install_dir_in_hub_cache(src, "https://tfhub.dev/google/nnlm-en-dim50/2", cache).name
        '74a841d6eb84e8d93d913d716fb5440d020cc291'
    """
    return _install_one(Path(src), handle, cache_dir if cache_dir is not None else _default_cache_dir())


def install_in_hub_cache(spec: BackboneSpec, cache_dir: str | os.PathLike | None = None, *, seed: int = 0) -> Path:
    """Build the test module for ``spec.handle`` (and ``spec.preprocessor``) into a TF Hub cache.

    Each module lands in ``module_cache_dir(handle, cache_dir)`` with the
    ``<sha1>.descriptor.txt`` file next to it, exactly as tensorflow_hub leaves a
    finished download; with ``TFHUB_CACHE_DIR=cache_dir`` the real resolver then
    returns it without network access (``hub.resolve``, ``hub.load``,
    ``hub.KerasLayer``). Local-path handles are built at that path instead. An
    existing entry is replaced. Returns the backbone module's directory.
    Needs ``TFHUB_MODEL_LOAD_FORMAT`` unset, ``AUTO`` or ``COMPRESSED`` (a warning
    is given otherwise: ``UNCOMPRESSED`` reads from GCS and ignores the cache).

    Example:
        >>> import os, tempfile, zoo, tensorflow_hub as hub
        >>> cache = tempfile.mkdtemp(); os.environ["TFHUB_CACHE_DIR"] = cache
        >>> spec = zoo.get("yamnet")
        >>> install_in_hub_cache(spec, cache) == Path(hub.resolve(spec.handle))
        True
    """
    fmt = os.environ.get("TFHUB_MODEL_LOAD_FORMAT", "")
    if fmt and fmt not in ("AUTO", "COMPRESSED"):
        warnings.warn(
            f"TFHUB_MODEL_LOAD_FORMAT={fmt}: tensorflow_hub will not read the cache that "
            "install_in_hub_cache fills; unset it or set it to COMPRESSED",
            RuntimeWarning,
            stacklevel=2,
        )
    if cache_dir is None:
        cache_dir = _default_cache_dir()
    out = _install_one(_built_module(spec, seed), spec.handle, cache_dir)
    if spec.preprocessor is not None:
        _install_one(_built_preprocessor(spec, seed), spec.preprocessor, cache_dir)
    return out
