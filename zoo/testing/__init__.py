"""Test helpers: tiny TF-Hub-format modules with each real family's calling contract.

``make_module`` / ``make_preprocessor`` save a small ``tf.Module`` SavedModel
for a `BackboneSpec`, with the real module's variable scopes and sizes from
`zoo.testing.facts` (documented facts with their sources, looked up by handle;
never derived from the registry entry under test); ``install_in_hub_cache`` puts
them in a TF Hub cache directory under the real handle so that
``hub.load(spec.handle)`` works offline through tensorflow_hub's own resolver.
`zoo.testing.exporters` makes modules with the publishers' own exporters (TF Model
Garden) where those are installed.

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

from zoo.lazy import attach
from zoo.testing.facts import FACTS, ModuleFacts, facts_for

__all__ = [
    "make_module",
    "make_preprocessor",
    "install_in_hub_cache",
    "install_dir_in_hub_cache",
    "module_cache_dir",
    "clear_build_cache",
    "FACTS",
    "ModuleFacts",
    "facts_for",
]

_LAZY = {
    "make_module": "modules",
    "make_preprocessor": "modules",
    "install_in_hub_cache": "hub_cache",
    "install_dir_in_hub_cache": "hub_cache",
    "module_cache_dir": "hub_cache",
    "clear_build_cache": "modules",
}
__getattr__, __dir__ = attach(__name__, _LAZY)
