"""Training: ``zoo.fit`` (freeze schedules, fast frozen training on cached features).

Public surface: the names in ``__all__``; the ``_modules`` of this package are private.
Names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "SpillDir": "_features",
    "extract_features": "_features",
    "has_random_ops": "_features",
    "fit": "_fit",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
