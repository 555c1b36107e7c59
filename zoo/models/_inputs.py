"""Checking raw inputs before they reach TensorFlow (clear `InputError`s).

Example:
    >>> import numpy as np, zoo
    >>> check_inputs([zoo.get("yamnet")], np.zeros((2, 16000), "float32"))
    >>> try:
    ...     check_inputs([zoo.get("yamnet")], np.zeros((2, 16000, 2), "float32"))
    ... except zoo.InputError as e:
    ...     print(str(e)[:40])
    yamnet: audio must be [batch, samples] m
"""

from __future__ import annotations

from typing import Any


from zoo.errors import InputError, ZooWarning
from zoo.registry import BackboneSpec

__all__ = ["check_inputs", "check_one", "InputWarning"]


class InputWarning(ZooWarning):
    """Input that zoo handled but that may not be what the user meant."""


def check_inputs(specs: list[BackboneSpec], x: Any, *, fused: bool = False, names: Any = None) -> None:
    """Validate raw inputs for a model over ``specs`` (a dict keyed by backbone name when fused; keyed
    by ``names``, each for ``specs[0]``, for a task with named inputs such as a text pair).

    Example:
        check_inputs([zoo.get("use")], ["a sentence"])
    """
    if names:
        if not isinstance(x, dict) or set(x) != set(names):
            got = f"keys {sorted(x)}" if isinstance(x, dict) else type(x).__name__
            raise InputError(f"this model takes a dict with keys {list(names)}, e.g. "
                             f"{{{', '.join(repr(n) + ': [...]' for n in names)}}}; got {got}")
        sizes = {n: len(x[n]) for n in names if hasattr(x[n], "__len__")}
        if len(set(sizes.values())) > 1:
            raise InputError(f"the inputs {list(names)} must have one entry per example, got lengths {sizes}")
        for n in names:
            check_one(specs[0], x[n])
        return
    if fused or isinstance(x, dict):
        if not isinstance(x, dict):
            names = ", ".join(repr(s.name) for s in specs)
            raise InputError(f"this model fuses several backbones: pass a dict of inputs keyed by {names}")
        missing = [s.name for s in specs if s.name not in x]
        if missing:
            raise InputError(
                f"input dict is missing {', '.join(map(repr, missing))}; the model needs one entry per backbone: "
                f"{', '.join(repr(s.name) for s in specs)} (got {', '.join(map(repr, x))})"
            )
        extra = [k for k in x if k not in {s.name for s in specs}]
        if extra:
            raise InputError(f"input dict has unknown key(s) {', '.join(map(repr, extra))}; expected {[s.name for s in specs]}")
        for s in specs:
            check_one(s, x[s.name])
        return
    check_one(specs[0], x)


def check_one(spec: BackboneSpec, x: Any) -> None:
    """Validate raw input for one backbone (its contract's checks); raise `InputError` naming the fix.

    Example:
        >>> import zoo
        >>> check_one(zoo.get("use"), ["ok"])
    """
    from zoo.models.contracts import contract_for

    contract_for(spec).check_input(spec, x)
