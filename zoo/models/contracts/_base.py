"""Input checks shared by the built-in contracts (arrays, numbers, rows with NaN).

The `Contract` interface itself lives in `zoo.registry` (the registry validates what
plugins register against it); it is re-exported here and from `zoo.models.contracts`.

Example:
    >>> bad_rows(__import__("numpy").array([[1.0], [float("inf")]]))
    '[1]'
"""

from __future__ import annotations

from typing import Any

from zoo.errors import InputError
from zoo.registry import Contract

__all__ = ["Contract", "check_batch_array", "check_numeric", "bad_rows"]


def check_batch_array(name: str, x: Any) -> Any:
    """``x`` as a numeric NumPy array with a batch, or `InputError` (shared by the numeric contracts).

    Example:
        >>> check_batch_array("m", [[0.0, 1.0]]).shape
        (1, 2)
    """
    import numpy as np

    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):
        raise InputError(f"{name}: inputs must be a rectangular array (a batch of equally shaped examples)") from None
    if arr.dtype == object:
        raise InputError(f"{name}: inputs must be numbers in one rectangular array, got ragged or object data")
    return arr


def check_numeric(name: str, arr: Any) -> None:
    """Non-empty, real-valued (``InputError`` otherwise).

    Example:
        >>> check_numeric("m", __import__("numpy").zeros((1, 2)))
    """
    import numpy as np

    if arr.size == 0 or (arr.ndim and arr.shape[0] == 0):
        raise InputError(f"{name}: empty input (shape {arr.shape}): pass at least one example")
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating) or arr.dtype == bool):
        raise InputError(f"{name}: inputs must be real numbers (uint8 or float32), got dtype {arr.dtype}")


def bad_rows(arr: Any) -> str:
    """``"[0, 3]"``: indices (first 5) of the examples holding NaN or Inf.

    Example:
        >>> import numpy as np; bad_rows(np.array([[0.0], [np.nan]]))
        '[1]'
    """
    import numpy as np

    bad = np.flatnonzero(~np.isfinite(arr.reshape(arr.shape[0], -1)).all(axis=1))
    shown = ", ".join(str(i) for i in bad[:5]) + (", ..." if len(bad) > 5 else "")
    return f"[{shown}]"
