"""The process-wide registry and the functions that read it (``zoo.get``, ``zoo.list_backbones``, ...)."""

from __future__ import annotations

import fnmatch
import threading
from typing import Any

from zoo.registry._core import PluginInfo, Registry
from zoo.registry._spec import MODALITIES, BackboneSpec

__all__ = ["get_registry", "reset_registry", "list_backbones", "get", "list_tasks", "get_task", "list_plugins"]


_lock = threading.Lock()
_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, loaded on first call.

    Example:
        >>> get_registry() is get_registry()
        True
    """
    global _registry
    with _lock:
        if _registry is None:
            _registry = Registry().load()
        return _registry


def reset_registry(extra_plugins: list[tuple[str, Any]] | None = None) -> Registry:
    """Rebuild the registry (after changing ``ZOO_*`` variables or installing a plugin).

    Example:
        >>> reset_registry() is get_registry()
        True
    """
    global _registry
    with _lock:
        _registry = Registry().load(extra_plugins)
        return _registry


def list_backbones(modality: str | None = None, pattern: str | None = None, tag: str | None = None) -> list[BackboneSpec]:
    """Registered backbones, sorted by name, optionally filtered.

    ``pattern`` is a shell-style wildcard matched against the name.

    Example:
        >>> import zoo
        >>> [s.name for s in zoo.list_backbones(modality="audio", pattern="yam*")]
        ['yamnet']
    """
    if modality is not None and modality not in MODALITIES:
        from zoo.errors import ConfigurationError

        raise ConfigurationError(f"unknown modality {modality!r}; use one of {', '.join(MODALITIES)}")
    specs = sorted(get_registry().backbones.values(), key=lambda s: s.name)
    return [
        s for s in specs
        if (modality is None or s.modality == modality)
        and (pattern is None or fnmatch.fnmatchcase(s.name, pattern))
        and (tag is None or tag in s.tags)
    ]


def get(name: str) -> BackboneSpec:
    """The `BackboneSpec` registered as ``name``.

    Raises `UnknownBackboneError` (a `KeyError`) naming the closest names.

    Example:
        >>> import zoo
        >>> zoo.get("inception_v3").input_shape
        (299, 299, 3)
    """
    return get_registry().get(name)


def list_tasks() -> list[Any]:
    """Registered tasks (`zoo.TaskSpec`), sorted by name.

    Example:
        >>> import zoo
        >>> "classification" in [t.name for t in zoo.list_tasks()]
        True
    """
    return sorted(get_registry().tasks.values(), key=lambda t: t.name)


def get_task(name: str) -> Any:
    """The `zoo.TaskSpec` registered as ``name``.

    Example:
        >>> import zoo
        >>> zoo.get_task("regression").name
        'regression'
    """
    return get_registry().get_task(name)


def list_plugins() -> list[PluginInfo]:
    """Loaded plugins, failed ones included.

    Example:
        >>> import zoo
        >>> "vision" in [p.name for p in zoo.list_plugins()]
        True
    """
    return list(get_registry().plugins)
