"""Lazy public surfaces: a package's ``__init__`` names what it exports and where it lives, and each
name is imported on first use (PEP 562), so importing a package never imports TensorFlow.

Example:
    >>> getattr_, dir_ = attach("json", {"JSONEncoder": "encoder"})
    >>> getattr_("JSONEncoder").__module__, "JSONEncoder" in dir_()
    ('json.encoder', True)
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable

__all__ = ["attach"]


def attach(package: str, exports: dict[str, str], base: str | None = None) -> tuple[Callable[[str], Any],
                                                                                 Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps each public name to the module
    (relative to ``base``, default the package) defining it. A name is imported once, then cached in
    the package's namespace."""
    base = base or package

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(f"{base}.{exports[name]}"), name)
            if package in sys.modules:
                setattr(sys.modules[package], name, value)
            return value
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        module = sys.modules.get(package)
        return sorted(set(vars(module) if module else ()) | set(exports))

    return __getattr__, __dir__
