"""Module access: resolving and loading TF Hub handles through tensorflow_hub's resolver and cache,
the cache layout, locks, integrity records, safe archives, bundles and cache tools.

Public surface: the names in ``__all__``; the ``_modules`` of this package are private.
Names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

from zoo.lazy import attach

_EXPORTS = {
    "DEFAULT_MAX_BYTES": "_archives",
    "DEFAULT_MAX_MEMBERS": "_archives",
    "safe_extract": "_archives",
    "BUNDLE_FORMAT": "_bundles",
    "MANIFEST": "_bundles",
    "pack": "_bundles",
    "unpack": "_bundles",
    "DEFAULT_DOWNLOAD_TIMEOUT": "_download",
    "download": "_download",
    "is_kaggle_handle": "_kaggle",
    "kaggle_archive_url": "_kaggle",
    "download_timeout": "_download",
    "read_sidecar": "_integrity",
    "tree_sha256": "_integrity",
    "resolved_tree": "_integrity",
    "verify_pinned": "_integrity",
    "CacheWarning": "_layout",
    "descriptor_path": "_layout",
    "is_offline": "_layout",
    "is_remote": "_layout",
    "lock_path": "_layout",
    "module_dir": "_layout",
    "offline_mode": "_layout",
    "sidecar_path": "_layout",
    "spec_handles": "_layout",
    "write_descriptor": "_layout",
    "TF1_HUB_MARKER": "_load",
    "load": "_load",
    "module_format": "_load",
    "resolve": "_load",
    "LOCK_TIMEOUT_SEC": "_locks",
    "cache_lock": "_locks",
    "clear_stale_lock": "_locks",
    "hub_cache_dir": "_paths",
    "starter_dir": "_paths",
    "zoo_home": "_paths",
    "check_module_dir": "_savedmodel",
    "CacheEntry": "_tools",
    "clear": "_tools",
    "clear_all": "_tools",
    "format_ls": "_tools",
    "format_size": "_tools",
    "ls": "_tools",
    "VerifyResult": "_verify",
    "format_verify": "_verify",
    "prefetch": "_verify",
    "verify": "_verify",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = attach(__name__, _EXPORTS)
