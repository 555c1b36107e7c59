"""The registry: backbone and task specs, plugin hooks, the built-in catalogue and plugin loading.

Never imports TensorFlow (``zoo list`` / ``zoo info`` / ``zoo plugins`` rely on it).

Public surface: the names in ``__all__``; the ``_modules`` of this package are private.
Names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

from zoo.lazy import attach

_EXPORTS = {
    "get": "_api",
    "get_registry": "_api",
    "get_task": "_api",
    "list_backbones": "_api",
    "list_plugins": "_api",
    "list_tasks": "_api",
    "reset_registry": "_api",
    "builtin_entries": "_catalogue",
    "builtin_specs": "_catalogue",
    "load_registry_file": "_catalogue",
    "parse_registry_text": "_catalogue",
    "spec_from_entry": "_catalogue",
    "user_registry_path": "_catalogue",
    "Contract": "_contract",
    "BUILTIN_PLUGINS": "_core",
    "PluginInfo": "_core",
    "PluginWarning": "_core",
    "Registry": "_core",
    "closest": "_core",
    "ENTRY_POINT_GROUP": "_hookspecs",
    "HOOK_NAMES": "_hookspecs",
    "PROJECT": "_hookspecs",
    "ZooSpecs": "_hookspecs",
    "hookimpl": "_hookspecs",
    "hookspec": "_hookspecs",
    "BackboneSpec": "_spec",
    "FORMATS": "_spec",
    "MODALITIES": "_spec",
    "POOLINGS": "_spec",
    "check_handle": "_spec",
    "TaskSpec": "_taskspec",
    "resolve_callable": "_taskspec",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = attach(__name__, _EXPORTS)
