"""``zoo.compare``: rank candidate backbones on the user's own data with frozen features and a probe.

The data are decoded once per modality (images at the largest input size among the
backbones; each backbone resizes inside, as it does in training), every backbone
turns them into features once, and those features are cached under ``OUT/features/``
(keyed by the module handle and the data fingerprint), so a re-run with one more
backbone computes only that one. A probe (`zoo.runs._probe`) is scored over folds;
latency is timed on this machine at batch 1 and 32. ``OUT`` gets ``compare.json``,
``compare.csv`` and ``compare.png`` (`zoo.runs._compare_report`).

Example (prose: it needs cached modules)::

    result = zoo.compare(["mobilenet_v3_small", "efficientnet_b0"], "flowers/", folds=5, out="cmp")
    result.rows()[0]["name"], result.rows()[0]["mean"]
"""

from __future__ import annotations

import json
import os
import platform
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Sequence


from zoo.errors import ConfigurationError, DataError
from zoo.models import load_backbone
from zoo.runs._compare_data import decode, features, fine_tune, graph_call, is_cached, latency, module_facts
from zoo.runs._compare_report import format_table, plot_compare, rank_rows, write_csv
from zoo.runs._probe import probe

__all__ = ["compare", "CompareResult", "parse_budget"]

TASKS = ("classification", "regression")


def parse_budget(text: str | float | None) -> float | None:
    """Seconds from ``"90s"``, ``"10m"``, ``"1.5h"`` or a number of seconds (None: no budget).

    Example:
        >>> parse_budget("10m"), parse_budget("90s"), parse_budget(None)
        (600.0, 90.0, None)
    """
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise ConfigurationError(f"--budget must be a duration such as 90s, 10m or 1h, got {text!r}", budget=text)
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


class CompareResult:
    """What `compare` measured: ``rows()`` (ranked, one dict per backbone), ``skipped``, ``data``,
    ``best`` and ``table()``; ``out`` is the folder holding compare.json / .csv / .png."""

    def __init__(self, record: dict, out: Path) -> None:
        self.record, self.out = record, out

    def rows(self) -> list[dict]:
        """The ranked rows (best first), plain dicts: no pandas needed."""
        return [dict(r) for r in self.record["rows"]]

    @property
    def skipped(self) -> list[dict]:
        """Backbones not compared, each with ``reason`` and ``fix``."""
        return list(self.record["skipped"])

    @property
    def best(self) -> str | None:
        """The name of the best backbone (None when none was compared)."""
        return self.record["rows"][0]["name"] if self.record["rows"] else None

    def table(self) -> str:
        """The aligned table `zoo compare` prints."""
        return format_table(self.record)

    def __repr__(self) -> str:
        return f"CompareResult(best={self.best!r}, rows={len(self.record['rows'])}, out='{self.out}')"


def _specs(names: Sequence[str], modality: str | None, tag: str | None) -> tuple[list[Any], list[dict]]:
    from zoo.registry import get, list_backbones

    if names:
        specs = [get(n) if isinstance(n, str) else n for n in names]  # names, or BackboneSpecs of the user's own
        if modality or tag:
            raise ConfigurationError("give backbone names or --modality/--tag, not both")
        return specs, []
    if not (modality or tag):
        raise ConfigurationError("name the backbones to compare, or select them with --modality and/or --tag")
    found = [s for s in list_backbones(modality=modality, tag=tag) if s.pretrained]
    if not found:
        raise ConfigurationError(f"no pretrained backbone has modality={modality!r} tag={tag!r}; see `zoo list`")
    cached, skipped = [], []
    for s in found:
        (cached if is_cached(s) else skipped).append(s)
    skipped = [{"name": s.name, "reason": "not cached (compare never downloads what was selected by a query)",
                "fix": f"zoo cache prefetch {s.name}"} for s in skipped]
    if not cached:
        raise ConfigurationError(f"none of the {len(found)} matching backbones is cached; prefetch some first, e.g. "
                                 f"`zoo cache prefetch {' '.join(s.name for s in found[:3])}`")
    return cached, skipped


def compare(names: Sequence[str] | None, data: Any, *, task: str = "classification", folds: int | None = None,
            val_split: float = 0.2, budget: str | float | None = None, out: str | os.PathLike | None = None,
            modality: str | None = None, tag: str | None = None, mlp: bool = False, fine_tune_top: int = 0,
            fine_tune_epochs: int = 3, batch_size: int = 32, seed: int = 0,
            say: Callable[[str], Any] | None = print) -> CompareResult:
    """Rank backbones (registered names or `zoo.BackboneSpec` objects) on ``data`` (a class folder, a CSV,
    or ``(inputs, labels)`` arrays) by a probe on their frozen features; see the module docs. Returns a
    `CompareResult`; writes ``out``.

    ``folds``: K-fold cross-validation (stratified); otherwise one stratified hold-out of
    ``val_split``. ``budget``: stop starting new backbones after this long (``"10m"``).
    ``fine_tune_top``: also fine-tune the best N with their default freeze and add those rows.
    """
    say = say or (lambda _m: None)
    if task not in TASKS:
        raise ConfigurationError(f"task must be one of {', '.join(TASKS)} for compare, got {task!r}", task=task)
    if folds is not None and (not isinstance(folds, int) or isinstance(folds, bool) or folds < 2):
        raise ConfigurationError(f"folds must be an integer >= 2, got {folds!r}", folds=folds)
    if not 0 < val_split < 1:
        raise ConfigurationError(f"val_split must be a fraction in (0, 1), got {val_split!r}")
    if task == "regression" and not (isinstance(data, tuple) and len(data) == 2):
        raise ConfigurationError("regression compares on (inputs, targets) arrays; class folders and CSV labels are "
                                 "classes", task=task)
    limit, start = parse_budget(budget), time.perf_counter()
    specs, skipped = _specs(list(names or []), modality, tag)
    kinds = sorted({s.modality for s in specs})
    if len(kinds) > 1:
        raise ConfigurationError(f"the backbones take different inputs ({', '.join(f'{s.name}: {s.modality}' for s in specs)}); "
                                 "compare one modality at a time")
    out = Path(out or "compare").expanduser()
    (out / "features").mkdir(parents=True, exist_ok=True)
    loader = ThreadPoolExecutor(1)  # modules load in the background while the data decode / a module extracts
    pending = loader.submit(load_backbone, specs[0])
    loader.submit(_warm_imports)  # the probe's and the plot's libraries, while the data decode
    try:
        decoded = decode(data, specs, task=task, batch_size=batch_size, seed=seed)
    except BaseException:
        loader.shutdown(cancel_futures=True)
        raise
    if task == "classification" and len(decoded.class_names) < 2:
        raise DataError(f"the data have {len(decoded.class_names)} class(es) ({', '.join(decoded.class_names)}); "
                        "comparing needs at least two", classes=decoded.class_names)
    say(f"zoo compare: {len(specs)} backbone(s) on {decoded.n} examples of {decoded.source} "
        f"({'%d-fold' % folds if folds else f'hold-out {val_split:g}'})")
    try:
        rows = _measure(specs, loader, pending, decoded, out, say, limit, start, skipped, dict(
            task=task, folds=folds, val_split=val_split, seed=seed, mlp=mlp))
    finally:
        loader.shutdown(cancel_futures=True)
    if not rows:
        raise ConfigurationError("no backbone was compared: " + "; ".join(f"{s['name']}: {s['reason']}" for s in skipped))
    rows = rank_rows(rows)
    if fine_tune_top:
        by_name = {s.name: s for s in specs}
        for r in rows[:fine_tune_top]:
            say(f"fine-tuning {r['name']} ({fine_tune_epochs} epochs)")
            rows.append({**r, **fine_tune(by_name[r["name"]], decoded, task=task, val_split=val_split, seed=seed,
                                          epochs=fine_tune_epochs, batch_size=batch_size)})
        rows = rank_rows(rows)
    return _finish(out, rows, skipped, decoded, task=task, folds=folds, val_split=val_split, seconds=time.perf_counter() - start)


def _measure(specs: list, loader: ThreadPoolExecutor, pending: Any, decoded: Any, out: Path, say: Callable,
             limit: float | None, start: float, skipped: list, probe_args: dict) -> list[dict]:
    """One row per backbone. While backbone i extracts (TensorFlow frees the GIL), module i+1 loads in a
    thread. The probes run once every backbone has extracted, on a machine TensorFlow no longer
    uses (beside an extraction they only slow it down), their folds in parallel."""
    rows: list[dict] = []
    features_of: list = []
    for i, spec in enumerate(specs, 1):
        if limit is not None and time.perf_counter() - start > limit:
            skipped.append({"name": spec.name, "reason": f"budget of {limit:.0f} s spent", "fix": "raise --budget"})
            continue
        bb = pending.result()
        quiet = [0.0]  # when the background load had ended: batch timings from then on are undisturbed
        if i < len(specs):
            pending = loader.submit(load_backbone, specs[i])
            pending.add_done_callback(lambda _f, q=quiet: q.__setitem__(0, time.perf_counter()))
        label = f"[{i}/{len(specs)}] {spec.name}"
        call = graph_call(bb, decoded)
        feats, reused, seconds, batch_times = features(spec, call, decoded, out / "features", label=label, say=say)
        if i < len(specs):
            pending.exception()  # wait (an error surfaces on its turn)
        b1, b32 = latency(call, spec, decoded, batch_times, quiet_since=quiet[0])
        facts = module_facts(spec, bb)
        row = {"name": spec.name, "handle": spec.handle, "latency_ms_b1": b1, "latency_ms_b32": b32,
               "params": facts["params"], "size_bytes": facts["size_bytes"], "digest": facts["digest"],
               "feature_dim": int(feats.shape[1]), "fine_tunable": bool(spec.fine_tunable),
               "features_reused": reused, "extract_seconds": seconds}
        rows.append(row)
        features_of.append((row, feats, label))
    for row, feats, label in features_of:
        _probe_into(row, feats, decoded.y, probe_args, label, say)
    return rows


def _warm_imports() -> None:
    import importlib
    import importlib.util

    for name in ("sklearn.linear_model", "sklearn.decomposition", "sklearn.pipeline", "matplotlib.pyplot"):
        if importlib.util.find_spec(name.split(".")[0]) is not None:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - only a head start; the real import reports problems
                pass


def _probe_into(row: dict, feats: Any, y: Any, probe_args: dict, label: str, say: Callable) -> None:
    t = time.perf_counter()
    scored = probe(feats, y, **probe_args)
    row.update(scored, probe_seconds=time.perf_counter() - t)
    say(f"    {label}: {scored['metric']} {scored['mean']:.3f} ± {scored['std']:.3f}")


def _finish(out: Path, rows: list, skipped: list, decoded: Any, **run: Any) -> CompareResult:
    import tensorflow as tf
    import tensorflow_hub as hub
    import tf_keras

    from zoo import __version__
    from zoo.atomic import atomic_write_json

    record = {
        "metric": rows[0]["metric"], "protocol": f"{run['folds']}-fold CV" if run["folds"] else f"hold-out {run['val_split']:g}",
        "task": run["task"], "folds": run["folds"], "val_split": run["val_split"], "rows": rows, "skipped": skipped,
        "pareto": [r["name"] for r in rows if r["pareto"]], "seconds": run["seconds"],
        "data": {"source": decoded.source, "fingerprint": decoded.fingerprint, "n_examples": decoded.n,
                 "classes": decoded.class_names, "modality": decoded.modality},
        "versions": {"zoo": __version__, "tensorflow": tf.__version__, "tf_keras": tf_keras.__version__,
                     "tensorflow_hub": hub.__version__, "python": platform.python_version()},
    }
    record["plot"] = {"path": "compare.png", "points": plot_compare(out / "compare.png", record)}
    write_csv(out / "compare.csv", record)
    atomic_write_json(out / "compare.json", json.loads(json.dumps(record, default=str)))
    return CompareResult(record, out)
