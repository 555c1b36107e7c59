"""What the data loaders return (`Dataset`, `DataSummary`) and the options they all check.

Every loader in `zoo.data` validates its shared options here (``batch_size``,
``val_split``, ``seed``, ``modality``, ``image_size``: `zoo.errors.ConfigurationError`
for a bad value) and orders class names the same way (sorted; numerically when every
name is an integer, so "2" comes before "10").

Example:
    >>> _sort_names(["10", "2", "1"]), _check_args(32, 0.2, 0)
    (['1', '2', '10'], 0.2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import tensorflow as tf

from zoo.data._files import SkippedFile
from zoo.errors import ConfigurationError
from zoo.registry import MODALITIES

__all__ = ["Dataset", "DataSummary"]

_MIN_SECONDS = 0.975
@dataclass
class DataSummary:
    """What a loader found: usable examples per class, the split and what it skipped.

    Example:
        >>> s = DataSummary({"a": 3, "b": 2}, n_train=4, n_val=1)
        >>> s.n_examples, s.n_skipped
        (5, 0)
    """

    class_counts: dict[str, int]
    n_train: int
    n_val: int
    skipped: list[SkippedFile] = field(default_factory=list)
    dropped_classes: list[str] = field(default_factory=list)

    @property
    def n_examples(self) -> int:
        """Usable examples (train + validation)."""
        return self.n_train + self.n_val

    @property
    def n_skipped(self) -> int:
        """Number of skipped files / rows."""
        return len(self.skipped)

    def __str__(self) -> str:
        lines = [f"{len(self.class_counts)} classes, {self.n_examples} examples "
                 f"(train {self.n_train}, val {self.n_val}), {self.n_skipped} skipped"]
        lines += [f"  {name}: {n}" for name, n in self.class_counts.items()]
        lines += [f"  left out class {name!r}: no usable files" for name in self.dropped_classes]
        lines += [f"  skipped {s.path}: {s.reason}" for s in self.skipped]
        return "\n".join(lines)


@dataclass
class Dataset:
    """Batched ``train`` / ``val`` pipelines of ``(inputs, labels)``, the class names and a summary.

    Example:
        >>> from zoo.data import from_arrays
        >>> ds = from_arrays(["good", "bad", "fine", "awful"], ["pos", "neg", "pos", "neg"], batch_size=2)
        >>> ds.class_names, ds.num_classes
        (['neg', 'pos'], 2)
    """

    train: tf.data.Dataset
    val: tf.data.Dataset | None
    class_names: list[str]
    summary: DataSummary
    modality: str | None = None

    @property
    def num_classes(self) -> int:
        """``len(class_names)``."""
        return len(self.class_names)


# ---- options every loader checks ------------------------------------------------------------
def _sort_names(names: Any) -> list[str]:
    """Sorted class names; all-integer names sort numerically ('2' before '10')."""
    names = sorted(set(names))
    if names and all(re.fullmatch(r"-?\d+", n) for n in names):
        names.sort(key=int)
    return names


def _positive_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_args(batch_size: Any, val_split: Any, seed: Any) -> float | None:
    _positive_int(batch_size, "batch_size")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ConfigurationError(f"seed must be an integer, got {seed!r}")
    if val_split is None or (isinstance(val_split, (int, float)) and not isinstance(val_split, bool) and val_split == 0):
        return None
    if isinstance(val_split, bool) or not isinstance(val_split, (int, float)) or not 0 < val_split < 1:
        raise ConfigurationError(f"val_split must be a fraction between 0 and 1 (e.g. 0.2) or None, got {val_split!r}")
    return float(val_split)


def _check_modality(modality: Any) -> str:
    if modality not in MODALITIES:
        raise ConfigurationError(f"modality must be one of {', '.join(map(repr, MODALITIES))}, got {modality!r}")
    return modality


def _check_size(image_size: Any) -> tuple[int, int]:
    if isinstance(image_size, (int, np.integer)) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (tuple, list)) or len(image_size) != 2:
        raise ConfigurationError(f"image_size must be (height, width), e.g. (224, 224), got {image_size!r}")
    return _positive_int(image_size[0], "image_size height"), _positive_int(image_size[1], "image_size width")
