"""The data side of `zoo.compare`: decoding once, cached features, latency, module facts, fine-tuning.

Example:
    >>> import numpy as np, zoo
    >>> d = decode((np.array(["good film", "bad film"] * 4), np.array([1, 0] * 4)), [zoo.get("starter_text")],
    ...            task="classification", batch_size=4, seed=0)
    >>> d.n, d.class_names, len(d.batches_for(zoo.get("starter_text")))
    (8, ['0', '1'], 2)
"""

from __future__ import annotations

import hashlib
import os
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from zoo.errors import DataError

__all__ = ["Decoded", "decode", "features", "latency", "is_cached", "module_facts", "fine_tune"]


class Decoded:
    """Labelled examples decoded once: ``batches_for(spec)`` (NumPy batches in the spec's raw input),
    ``y``, ``class_names``, ``n``, ``source``, ``fingerprint``, ``modality``."""

    def __init__(self, load: Callable[[dict], tuple[list, np.ndarray, list[str]]], options: Callable[[Any], dict],
                 *, source: str, fingerprint: str, modality: str) -> None:
        self._load, self._options, self._cache = load, options, {}
        self.source, self.fingerprint, self.modality = source, fingerprint, modality
        self.y, self.class_names = np.zeros(0), []  # set by the first decode

    def key(self, spec: Any) -> str:
        """The decoding a spec needs (image size, sample rate) as text: one decode per distinct key."""
        return repr(sorted(self._options(spec).items()))

    def batches_for(self, spec: Any) -> list:
        """The examples as the backbone takes them, decoded on first use of their key."""
        key = self.key(spec)
        if key not in self._cache:
            batches, y, names = self._load(self._options(spec))
            if self.class_names and (names != self.class_names or not np.array_equal(y, self.y)):
                raise DataError(f"{self.source} decoded differently for {spec.name} (files changed during the run?)")
            self._cache[key], self.y, self.class_names = batches, y, names
        return self._cache[key]

    @property
    def n(self) -> int:
        """Number of examples."""
        return int(len(self.y))


def _digest(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
    return h.hexdigest()


def _folder_fingerprint(path: Path) -> str:
    entries = sorted((str(p.relative_to(path)), p.stat().st_size, p.stat().st_mtime_ns)
                     for p in path.rglob("*") if p.is_file())
    return _digest(*entries)


def _folder_modalities(path: Path) -> dict[str, int]:
    """How many files of each modality the class folders of ``path`` hold (by the loaders' file-type table)."""
    from zoo.data import KINDS

    kind_of_ext = {e: k.name for k in KINDS.values() for e in k.extensions}
    counts = dict.fromkeys(KINDS, 0)
    for p in path.glob("*/*"):
        kind = kind_of_ext.get(p.suffix.lower())
        if kind:
            counts[kind] += 1
    return counts


def decode(data: Any, specs: list, *, task: str, batch_size: int, seed: int) -> Decoded:
    """Read ``data`` once for ``specs`` (same modality): images at the largest input size among them."""
    from zoo import data as zd
    from zoo.models.contracts import contract_for

    modality = specs[0].modality
    sizes = [contract_for(s).loader_options(s).get("image_size") for s in specs]
    largest = max((s for s in sizes if s), key=lambda s: s[0] * s[1], default=None)

    def options(spec: Any) -> dict:
        opts = dict(contract_for(spec).loader_options(spec))
        if "image_size" in opts:
            opts["image_size"] = largest
        return opts

    if isinstance(data, tuple) and len(data) == 2:
        x, y = np.asarray(data[0]) if not isinstance(data[0], list) else data[0], np.asarray(data[1])
        if task == "classification":
            names = sorted({str(v) for v in y.tolist()})
            y = np.asarray([names.index(str(v)) for v in y.tolist()])
        else:
            names, y = [], y.astype(np.float32)
        batches = [x[i:i + batch_size] for i in range(0, len(x), batch_size)]
        raw = np.ascontiguousarray(np.asarray(x)).tobytes() if not isinstance(x, list) else repr(x).encode()
        d = Decoded(lambda _o: (batches, y, names), options, source="arrays", fingerprint=_digest(raw, y.tobytes()),
                    modality=modality)
        d.y, d.class_names = y, names
        return d
    path = Path(os.fspath(data)).expanduser()
    if not path.exists():
        raise DataError(f"--data '{path}' does not exist; pass a class folder, a .csv file or (inputs, labels)")
    if path.is_dir():
        counts = _folder_modalities(path)
        if counts[modality] == 0 and any(counts.values()):
            found = ", ".join(f"{k}: {v}" for k, v in counts.items() if v)
            raise DataError(f"'{path}' holds no {modality} files ({found}), but the backbones take {modality} "
                            "input; compare backbones of the data's modality", path=path, modality=modality)
    fingerprint = _folder_fingerprint(path) if path.is_dir() else _digest(path.read_bytes())

    def load(opts: dict) -> tuple[list, np.ndarray, list[str]]:
        kw = {"batch_size": batch_size, "val_split": None, "seed": seed, **opts}
        ds = (zd.from_folder(path, modality, shuffle=False, **kw) if path.is_dir()
              else zd.from_csv(path, modality=modality, **kw))
        batches, ys = [], []
        for x, y in ds.train:
            batches.append(x.numpy())
            ys.append(y.numpy())
        return batches, np.concatenate(ys) if ys else np.zeros(0, np.int64), list(ds.class_names)

    d = Decoded(load, options, source=str(path), fingerprint=fingerprint, modality=modality)
    d.batches_for(specs[0])
    return d


def graph_call(bb: Any, decoded: Decoded) -> Any:
    """``bb`` as one traced graph for any batch size of the decoded inputs (extraction and latency both use it)."""
    from zoo.tfk import tf

    batches = decoded.batches_for(bb.spec)
    same = all(b.shape[1:] == batches[0].shape[1:] for b in batches)
    shape = [None, *batches[0].shape[1:]] if same else [None] * batches[0].ndim
    dtype = tf.string if batches[0].dtype == object else tf.as_dtype(batches[0].dtype)
    return tf.function(lambda x: bb(x, training=False), input_signature=[tf.TensorSpec(shape, dtype)])


def features(spec: Any, call: Any, decoded: Decoded, cache_dir: Path, *, label: str,
             say: Callable[[str], Any]) -> tuple[np.ndarray, bool, float, list]:
    """The features of every example from ``call`` (`graph_call` of the loaded backbone): ``(features,
    reused_from_disk, seconds, [(batch size, seconds) of each batch])`` (the batch times double as the batch latency)."""
    from zoo.atomic import atomic_path

    key = _digest(spec.handle, spec.preprocessor, spec.output_key, spec.pooling, spec.output_dim,
                  decoded.fingerprint, decoded.key(spec))[:16]
    path = cache_dir / f"{spec.name}-{key}.npy"
    if path.exists():
        say(f"{label}: features from {path.name}")
        return np.load(path), True, 0.0, []
    from zoo.tfk import keras

    batches, t = decoded.batches_for(spec), time.perf_counter()
    say(f"{label}: extracting features of {decoded.n} examples")
    bar = keras.utils.Progbar(len(batches), unit_name="batch") if say is print else None
    out, times = [], []
    for i, x in enumerate(batches, 1):
        tb = time.perf_counter()
        out.append(call(x).numpy())
        times.append((len(x), time.perf_counter() - tb, tb))
        if bar:
            bar.update(i)
    feats = np.concatenate(out).astype(np.float32)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.save(f, feats)
    return feats, False, time.perf_counter() - t, times


def latency(call: Any, spec: Any, decoded: Decoded, batch_times: list | None = None, reps: int = 3,
            quiet_since: float = 0.0) -> tuple[float, float]:
    """Median milliseconds per example at batch 1 and batch 32 on this machine (after one warm-up).

    The batch-32 figure comes from the feature extraction's own batches of 32 (no extra passes)
    when at least three of them, after the first, started at ``quiet_since`` or later (nothing
    else was running then); otherwise it is timed here."""
    first = decoded.batches_for(spec)[0]
    x32 = np.concatenate([first] * (32 // len(first) + 1))[:32]
    full = [t for n, t, began in (batch_times or [])[1:] if n == 32 and began >= quiet_since]
    result = []
    for x in (first[:1], x32):
        if len(x) == 32 and len(full) >= 3:
            result.append(1000 * statistics.median(full) / 32)
            continue
        if not batch_times:
            call(x).numpy()  # the graph's first run (no extraction ran it)
        times = []
        for _ in range(reps):
            t = time.perf_counter()
            call(x).numpy()
            times.append(time.perf_counter() - t)
        result.append(1000 * statistics.median(times) / len(x))
    return result[0], result[1]


def is_cached(spec: Any) -> bool:
    """Everything the backbone needs is on disk (a starter builds itself): using it downloads nothing."""
    from zoo import hub

    return bool(spec.builder) or all(Path(hub.module_dir(h)).is_dir() and not hub.check_module_dir(hub.module_dir(h))
                                     for h in hub.spec_handles(spec))


def module_facts(spec: Any, bb: Any) -> dict:
    """``size_bytes`` and the module tree ``digest`` on disk, and ``params`` of the loaded backbone ``bb``."""
    from zoo import hub

    dirs = [Path(hub.module_dir(h)) for h in hub.spec_handles(spec)]
    size = sum(p.stat().st_size for d in dirs if d.is_dir() for p in d.rglob("*") if p.is_file())
    digest = hub.tree_sha256(dirs[0]) if dirs and dirs[0].is_dir() and not hub.check_module_dir(dirs[0]) else None
    params = int(sum(np.prod(v.shape) for v in bb.weights))
    return {"size_bytes": int(size), "digest": digest, "params": params}


def fine_tune(spec: Any, decoded: Decoded, *, task: str, val_split: float, seed: int, epochs: int,
              batch_size: int) -> dict:
    """Fine-tune ``spec`` with its default freeze on a stratified hold-out of ``val_split`` and score it."""
    import zoo
    from zoo.models import default_freeze
    from zoo.runs._probe import macro_f1, splits

    batches = decoded.batches_for(spec)
    from zoo.data import kind_of

    if kind_of(decoded.modality).ragged:
        raise DataError("--fine-tune-top needs equal-length examples; audio clips are fine-tuned with `zoo train`")
    x = np.concatenate(batches)
    train, test = splits(decoded.y, task=task, folds=None, val_split=val_split, seed=seed)[0]
    kw = {"num_classes": len(decoded.class_names)} if task == "classification" else {}
    model = zoo.build(spec, task=task, **kw)
    zoo.fit(model, (x[train], decoded.y[train]), epochs=epochs, batch_size=batch_size, verbose=0)
    out = model.predict(x[test], verbose=0)
    row: dict[str, Any] = {"name": f"{spec.name}+fine-tuned", "head": f"fine-tuned ({default_freeze(spec)}, {epochs} epochs)",
                           "std": 0.0, "n_folds": 1, "features_reused": False}
    if task == "classification":
        pred = out.argmax(1)
        acc = float(np.mean(pred == decoded.y[test]))
        row.update(mean=acc, per_fold=[acc], macro_f1=macro_f1(decoded.y[test], pred, len(decoded.class_names)),
                   macro_f1_std=0.0)
    else:
        yt = decoded.y[test]
        r2 = float(1 - np.sum((yt - out[:, 0]) ** 2) / max(np.sum((yt - yt.mean()) ** 2), 1e-12))
        row.update(mean=r2, per_fold=[r2])
    return row
