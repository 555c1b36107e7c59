"""Resolving and loading TF Hub modules safely.

zoo shares TF Hub's own cache (``TFHUB_CACHE_DIR``, see `zoo.hub._paths.hub_cache_dir`)
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
  `ModuleNotCachedError` within seconds (each request's own timeout, ``ZOO_DOWNLOAD_TIMEOUT``,
  default 15 s);
* checks the registry's ``sha256`` pin of the module archive before extracting it,
  and the extracted files on every later load (`IntegrityError`).

The parts live in their own modules of `zoo.hub`: the cache layout in ``_layout``, the
completeness check in ``_savedmodel``, digests and pins in ``_integrity``, locks in
``_locks``, safe extraction in ``_archives`` and downloading in ``_download``. This module
resolves and loads.

TensorFlow is imported only when something has to be downloaded or loaded.

Example:
    >>> import os; os.environ["TFHUB_CACHE_DIR"] = "/tmp/hubc"
    >>> str(module_dir("https://tfhub.dev/google/yamnet/1"))
    '/tmp/hubc/9616fd04ec2360621642ef9455b84f4b668e219e'
    >>> del os.environ["TFHUB_CACHE_DIR"]
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from typing import Any

from zoo.errors import CorruptCacheError, ModuleLoadError, ModuleNotCachedError, ZooError
from zoo.hub._download import download as _download
from zoo.hub._integrity import verify_pinned
from zoo.hub._layout import (
    CacheWarning, _cache_note, _local_path, _names_for, descriptor_path, is_offline, is_remote, lock_path, module_dir,
    sidecar_path,
)
from zoo.hub._locks import _discard_dir, _lock_owner, cache_lock, clear_stale_lock
from zoo.hub._savedmodel import check_module_dir
from zoo.registry import check_handle

__all__ = ["resolve", "load", "module_format", "TF1_HUB_MARKER"]



# ---- resolve / load ------------------------------------------------------------------------
def _resolve_local(handle: str) -> str:
    path = _local_path(handle)
    if not path.exists():
        raise ModuleLoadError(f"module directory {path} does not exist (handle {handle!r})", handle=handle, path=path)
    if not path.is_dir():
        raise ModuleLoadError(f"module handle {handle!r} is a file ({path}), not a SavedModel directory", handle=handle,
                              path=path)
    problem = check_module_dir(path)
    if problem:
        raise ModuleLoadError(f"{path} is not a complete SavedModel: {problem} (handle {handle!r})", handle=handle,
                              path=path, problem=problem)
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
                "(or `zoo cache unpack` a bundle made with `zoo cache pack`)", handle=handle, path=str(mdir),
                problem=problem)
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
            "the bundle here", handle=handle, path=str(mdir))
    path = _download(handle, mdir, sha256)
    if os.path.abspath(path) != str(mdir):  # a custom resolver or TFHUB_MODEL_LOAD_FORMAT=UNCOMPRESSED: read in place
        return path
    problem = check_module_dir(mdir)
    if problem:
        names = _names_for(handle)
        raise CorruptCacheError(
            f"module {handle!r} was downloaded into {mdir} but is not a complete SavedModel ({problem}). Fix: "
            f"`zoo cache clear {names}` and retry; if it persists the published module is broken", handle=handle,
            path=str(mdir), problem=problem)
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


TF1_HUB_MARKER = "tfhub_module.pb"  # written by hub.Module exports (legacy TF1 Hub format) only


def module_format(obj: Any) -> str:
    """``"hub"`` for a module loaded from the legacy TF1 Hub format, else ``"saved_model_2"``.

    Example:
        >>> module_format(object())
        'saved_model_2'
    """
    return "hub" if getattr(obj, "_is_hub_module_v1", False) else "saved_model_2"


def load(handle: str, *, sha256: str | None = None, text_ops: bool = False, tpu_io: bool = True,
         offline: bool | None = None) -> Any:
    """`resolve` ``handle`` and return what ``tf.saved_model.load`` returns.

    A module in the legacy TF1 Hub format (a ``tfhub_module.pb`` beside
    ``saved_model.pb``) is loaded from its ``{}``-tagged MetaGraph, as ``hub.load``
    does, and marked so that `module_format` says ``"hub"``.

    ``tpu_io`` loads with ``LoadOptions(experimental_io_device="/job:localhost")`` so
    that TPU workers read the local cache. ``text_ops`` imports ``tensorflow_text``
    first; a module that fails with "Op type not registered" is retried once after
    importing it. Every failure is a `ModuleLoadError` naming handle and directory.

    Example:
        >>> load("/nonexistent/model")
        Traceback (most recent call last):
        ...
        zoo.errors.ModuleLoadError: module directory /nonexistent/model does not exist (handle '/nonexistent/model')
    """
    path = resolve(handle, sha256=sha256, offline=offline)
    import tensorflow as tf

    if text_ops:
        _import_text_ops(handle)
    options = tf.saved_model.LoadOptions(experimental_io_device="/job:localhost") if tpu_io else None
    retried = text_ops
    tf1 = os.path.exists(os.path.join(path, TF1_HUB_MARKER))
    while True:
        try:
            if not tf1:
                return tf.saved_model.load(path, options=options)
            # legacy TF1 Hub format: the MetaGraph tagged {} (the other is {"train"}), as hub.load does
            obj = tf.compat.v1.saved_model.load_v2(path, tags=[], options=options)
            obj._is_hub_module_v1 = True  # noqa: SLF001 - what hub.KerasLayer reads to use its signature
            return obj
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
                    f"{tf.__version__}; set text_ops = true in the registry entry)", handle=handle, path=path,
                    op=op.group(1)) from None
            first = message.strip().splitlines()[0] if message.strip() else ""
            raise ModuleLoadError(
                f"module {handle!r} could not be loaded from {path}: {type(exc).__name__}: {first[:500]}. Fix: "
                f"`zoo cache verify`, or `zoo cache clear {_names_for(handle)}` and download it again", handle=handle,
                path=path) from None
