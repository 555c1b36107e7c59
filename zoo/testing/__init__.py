"""Test helpers: tiny TF-Hub-format modules with each real family's calling contract.

``make_module`` / ``make_preprocessor`` save a small ``tf.Module`` SavedModel
for a `BackboneSpec`; ``install_in_hub_cache`` puts them in a TF Hub cache
directory under the real handle so that ``hub.load(spec.handle)`` works offline
through tensorflow_hub's own resolver. ``names_for_pattern`` and
``group_variable_names`` implement the ``block_pattern`` naming/grouping
convention (no TensorFlow needed for those two).

TensorFlow is imported only when a module-building function is first used.

Example:
    >>> import os, tempfile, zoo, tensorflow_hub as hub
    >>> from zoo.testing import install_in_hub_cache
    >>> os.environ["TFHUB_CACHE_DIR"] = cache = tempfile.mkdtemp()
    >>> _ = install_in_hub_cache(zoo.get("use"), cache)
    >>> hub.load(zoo.get("use").handle)(["hello world"]).shape
    TensorShape([1, 512])
"""

from __future__ import annotations

import importlib
from typing import Any

from zoo.testing.naming import group_variable_names, names_for_pattern

__all__ = [
    "make_module",
    "make_preprocessor",
    "install_in_hub_cache",
    "module_cache_dir",
    "clear_build_cache",
    "names_for_pattern",
    "group_variable_names",
]

_LAZY = {
    "make_module": "zoo.testing.modules",
    "make_preprocessor": "zoo.testing.modules",
    "install_in_hub_cache": "zoo.testing.hub_cache",
    "module_cache_dir": "zoo.testing.hub_cache",
    "clear_build_cache": "zoo.testing.modules",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zoo.testing' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
