"""Fast frozen training: a frozen backbone's features computed once per run and reused every epoch.

`extract_features` runs the feature model over a dataset (in memory, spilled to disk past
``ZOO_FEATURE_CACHE_MB``); `has_random_ops` tells whether a pipeline augments (then features
cannot be cached); `SpillDir` owns the spilled files and removes them however ``fit`` ends.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Any
import numpy as np
from zoo.atomic import owned_tmp_dir, storage_errors
from zoo.errors import InputError
from zoo.models import ZooModel
from zoo.tfk import keras, tf

__all__ = ['has_random_ops', 'extract_features', 'SpillDir']


_RANDOM_MARKERS = ("Random", "Multinomial", "Dropout")
_RANDOM_OK = ("ShuffleDataset", "RandomDataset", "ShuffleAndRepeatDataset")


def has_random_ops(ds: Any) -> bool:
    """True if the dataset's graph contains random ops (augmentation) besides shuffling.

    Example:
        >>> has_random_ops(tf.data.Dataset.range(3).map(lambda x: x + tf.random.uniform([], 0, 2, tf.int64)))
        True
        >>> has_random_ops(tf.data.Dataset.range(3).shuffle(3))
        False
    """
    try:
        graph = tf.compat.v1.GraphDef()
        graph.ParseFromString(ds._as_serialized_graph().numpy())  # noqa: SLF001 - only way to inspect a pipeline
    except Exception:  # noqa: BLE001 - cannot inspect: assume the worst
        return True
    ops = [n.op for n in graph.node]
    for fn in graph.library.function:
        ops.extend(n.op for n in fn.node_def)
    return any(any(m in op for m in _RANDOM_MARKERS) and op not in _RANDOM_OK for op in ops)


class SpillDir:
    """Where `extract_features` spills features past ``ZOO_FEATURE_CACHE_MB``: a temp directory made
    on first use (``zoo-features-<pid>-*``) and removed by `close` (`zoo.fit` closes it however it
    ends). Directories left by killed processes (their pid is gone) are removed when a new one is made.

    Example:
        >>> spill = SpillDir(); d = spill.get(); os.path.isdir(d)
        True
        >>> spill.close(); os.path.exists(d)
        False
    """

    def __init__(self) -> None:
        self.path: str | None = None

    def get(self) -> str:
        """The directory (created, and stale ones of dead processes removed, on first call)."""
        if self.path is None:
            self.path = str(owned_tmp_dir(tempfile.gettempdir(), f"zoo-features-{os.getpid()}-",
                                          leftovers="zoo-features-*"))
        return self.path

    def close(self) -> None:
        """Remove the directory and what was spilled into it."""
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None


def extract_features(model: ZooModel, ds: Any, *, verbose: int = 1, label: str = "features",
                     spill: SpillDir | None = None) -> Any:
    """Run the frozen backbone(s) once over ``ds``; return a dataset of ``(features, labels)``.

    Past ``ZOO_FEATURE_CACHE_MB`` (default 2048) the features go to disk in ``spill`` (a
    `SpillDir`; without one, a directory removed when the process exits).

    Example:
        feats = extract_features(model, ds)
    """
    if spill is None:
        spill = SpillDir()
        atexit.register(spill.close)
    fm = model.zoo.feature_model
    extract = tf.function(lambda x: fm(x, training=False), reduce_retracing=True)
    limit = float(os.environ.get("ZOO_FEATURE_CACHE_MB", "2048")) * 2**20
    bar = keras.utils.Progbar(_known_batches(ds), unit_name="batch") if verbose else None
    feats: list = []
    labels: list = []
    size = 0
    disk_dir = None
    writer_paths: list[str] = []
    for i, (x, y) in enumerate(ds):
        f = extract(x)
        f = [t.numpy() for t in f] if isinstance(f, (list, tuple)) else f.numpy()
        feats.append(f)
        labels.append(y.numpy())
        size += sum(a.nbytes for a in (f if isinstance(f, list) else [f]))
        if size > limit:  # spill to disk
            disk_dir = disk_dir or spill.get()
            path = os.path.join(disk_dir, f"part{len(writer_paths):05d}")
            _spill(_to_dataset(feats, labels), path)
            writer_paths.append(path)
            feats, labels, size = [], [], 0
        if bar:
            bar.update(i + 1)
    if writer_paths:
        if feats:
            path = os.path.join(disk_dir, f"part{len(writer_paths):05d}")
            _spill(_to_dataset(feats, labels), path)
            writer_paths.append(path)
        out = tf.data.Dataset.load(writer_paths[0])
        for p in writer_paths[1:]:
            out = out.concatenate(tf.data.Dataset.load(p))
        return out
    if not labels:
        raise InputError("the training data is empty: no batch to learn from")
    return _to_dataset(feats, labels)


def _spill(ds: Any, path: str) -> None:
    with storage_errors(path, "features spilled to disk", "nothing was trained; free space in the temporary "
                        "directory (TMPDIR) or pass cache_features=False"):
        ds.save(path)


def _to_dataset(feats: list, labels: list) -> Any:
    if isinstance(feats[0], list):
        cols = tuple(np.concatenate([f[i] for f in feats]) for i in range(len(feats[0])))
        x: Any = cols
    else:
        x = np.concatenate(feats)
    y = np.concatenate(labels)
    return tf.data.Dataset.from_tensor_slices((x, y))


def _batch_size_of(ds: Any) -> int:
    for x, _ in ds.take(1):
        first = tf.nest.flatten(x)[0]
        return int(first.shape[0]) if first.shape.rank else 32
    return 32


def _known_batches(ds: Any) -> int | None:
    """Number of batches of ``ds`` when tf.data knows it (None for unknown or infinite)."""
    n = int(ds.cardinality().numpy())
    return n if n > 0 else None
