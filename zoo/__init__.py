"""zoo: a plugin-based, multi-modal model zoo for transfer learning on TF Hub.

Listing is data and never imports TensorFlow; building loads it lazily.

Example:
    >>> import zoo
    >>> zoo.get("mobilenet_v2").output_dim
    1280
"""

from __future__ import annotations

import importlib
from typing import Any

from zoo.errors import *  # noqa: F403 - the error tree is part of the public API
from zoo.errors import __all__ as _errors_all
from zoo.registry import (BackboneSpec, Contract, TaskSpec, get, get_task, hookimpl, list_backbones, list_plugins,
                          list_tasks, reset_registry)

__version__ = "0.1.0"

# heavy (TensorFlow) parts, imported on first use
_LAZY = {
    "load_backbone": "zoo.models",
    "build": "zoo.models",
    "fit": "zoo.training",
    "compare": "zoo.runs",
    "distill": "zoo.runs",
    "tag_words": "zoo.models",
    "answer": "zoo.models",
    "zero_shot": "zoo.models",
    "FreezeSchedule": "zoo.models",
    "Stage": "zoo.models",
    "data": None,
    "keras3": None,
}

__all__ = [
    "BackboneSpec", "TaskSpec", "Contract", "hookimpl", "get", "get_task", "list_backbones", "list_tasks", "list_plugins",
    "reset_registry", "load_backbone", "build", "fit", "compare", "distill", "tag_words", "answer", "zero_shot", "FreezeSchedule", "Stage", "data", "keras3", "__version__",
    *_errors_all,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        if _LAZY[name] is None:
            return importlib.import_module(f"zoo.{name}")
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'zoo' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
