"""zoo's sentiment defaults measured on REAL pretrained weights and REAL labelled text.

The backbone is the TF-Hub-format MiniLM pair of `benchmarks.pretrained_bert`
(sentence-transformers ``all-MiniLM-L6-v2``: 6 layers, hidden 384), registered
as a user `zoo.BackboneSpec`; the data are 500 human-rated movie-review
sentences (`benchmarks.pretrained_bert.load_sentences`, 250 per label), split
into the first 400 for training and the last 100 for testing. Every model
takes raw strings end to end and is scored on the test sentences with
``model.predict``.

Configurations (each with ``pooling="output"``, the encoder's ``pooled_output``,
and ``pooling="mean"``, the mean of ``sequence_output`` over the real tokens,
unless said otherwise):

* ``a  finetune default``: ``zoo.build(spec, task="sentiment")`` (full
  fine-tuning, AdamW 3e-5 with warm-up and linear decay, head at 1e-3), 3
  epochs, batch 16.
* ``b  frozen default``: ``freeze="frozen"`` (head alone, Adam at zoo's frozen
  default rate: 1e-3 when first measured, 3e-3 since, as a result of this
  measurement), 20 epochs, batch 32 (zoo.fit caches the features).
* ``c  frozen lr=X``: as b with the head's rate X in 3e-4, 3e-3, 1e-2, 3e-2.
* ``d  frozen probe``: scikit-learn ``LogisticRegression`` on standardised
  features of ``zoo.load_backbone(spec)``, ``C`` chosen by 5-fold
  cross-validation on the training sentences (a NumPy Newton solver when
  scikit-learn is missing).
* ``e  finetune head=3e-5``: as a, but the head at the backbone's rate.
* ``f  frozen 100 epochs``: as b for 100 epochs (its per-epoch test curve
  shows how many epochs the default rate needs).

Run ``python -m benchmarks.real_weights`` (``--seeds 0`` for one split,
``--budget-min`` to bound the run). It prints a table and writes
``benchmarks/out/real_weights.json``, which also holds each run's per-epoch
test accuracy (``val_accuracy``; diagnostic only, no run uses it to stop).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Sequence

if __package__ in (None, ""):  # ``python benchmarks/real_weights.py``
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

__all__ = ["make_spec", "split", "run_zoo", "frozen_probe", "fit_logistic_cv", "plan", "summarise",
           "format_table", "main", "DEFAULT_OUT"]

DEFAULT_OUT = Path(__file__).resolve().parent / "out" / "real_weights.json"
"""Where `main` writes its results (git-ignored)."""

N_TRAIN = 400
POOLINGS = ("output", "mean")
HEAD_LRS = (3e-4, 3e-3, 1e-2, 3e-2)
PROBE_CS = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0)


def make_spec(encoder: str | Path, preprocessor: str | Path, pooling: str = "output") -> Any:
    """The MiniLM pair as a user `zoo.BackboneSpec` named ``minilm``.

    For example, ``make_spec(*make_pretrained_pair(), pooling="mean")`` gives a
    text spec whose backbone returns the 384-wide mean of ``sequence_output``
    over the real tokens; ``pooling="output"`` takes ``pooled_output``.
    """
    import zoo

    return zoo.BackboneSpec(
        name="minilm", modality="text", handle=str(encoder), preprocessor=str(preprocessor), output_dim=384,
        output_key="pooled_output", text_ops=True, block_pattern=r"transformer/layer_(\d+)/", blocks=6,
        pooling=pooling,
    )


def split(seed: int = 0, n_train: int = N_TRAIN) -> tuple[Any, Any, Any, Any]:
    """``(x_train, y_train, x_test, y_test)`` from ``load_sentences("movies", per_class=250, seed=seed)``.

    The texts are NumPy object arrays of Python strings, the labels float32 0/1
    (1 = positive). For example, ``split(0)`` gives 400 training and 100 test
    sentences; the draw and its order depend on ``seed`` only.
    """
    from benchmarks.pretrained_bert import load_sentences

    texts, labels = load_sentences("movies", per_class=250, seed=seed)
    x = np.array(texts, dtype=object)
    y = np.asarray(labels, dtype="float32")
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def _reset(seed: int) -> None:
    from zoo.tfk import keras

    keras.backend.clear_session()
    gc.collect()
    keras.utils.set_random_seed(seed)


def run_zoo(spec: Any, data: tuple, *, build_kwargs: dict, epochs: int, batch_size: int, seed: int = 0) -> dict:
    """Build with ``zoo.build(spec, task="sentiment", **build_kwargs)``, train with ``zoo.fit``, score the test set.

    ``data`` is `split`'s tuple. Returns the test accuracy (``model.predict`` on
    the raw test strings, threshold 0.5), the wall times of build, fit and
    predict, the optimizer's class and the per-epoch history. For example,
    ``run_zoo(spec, split(0), build_kwargs={"freeze": "frozen"}, epochs=20,
    batch_size=32)["accuracy"]`` scores zoo's frozen default.
    """
    import zoo

    x_tr, y_tr, x_te, y_te = data
    _reset(seed)
    t0 = time.perf_counter()
    model = zoo.build(spec, task="sentiment", **build_kwargs)
    t1 = time.perf_counter()
    hist = zoo.fit(model, (x_tr, y_tr), epochs=epochs, batch_size=batch_size, validation_data=(x_te, y_te), verbose=0)
    t2 = time.perf_counter()
    p = np.asarray(model.predict(x_te, batch_size=32, verbose=0)).reshape(-1)
    t3 = time.perf_counter()
    acc = float(np.mean((p > 0.5) == (y_te > 0.5)))
    curve = [round(float(v), 4) for v in hist.history.get("val_accuracy", [])]
    out = {
        "accuracy": acc,
        "wall_s": round(t3 - t0, 2), "build_s": round(t1 - t0, 2), "fit_s": round(t2 - t1, 2), "predict_s": round(t3 - t2, 2),
        "optimizer": type(model.optimizer).__name__,
        "train_loss": [round(float(v), 4) for v in hist.history.get("loss", [])],
        "val_accuracy": curve,
    }
    del model
    return out


def _standardise(x_tr: Any, x_te: Any) -> tuple[Any, Any]:
    mu, sd = x_tr.mean(0), x_tr.std(0) + 1e-8
    return (x_tr - mu) / sd, (x_te - mu) / sd


def _np_logistic(x: Any, y: Any, c: float, iters: int = 50) -> Any:
    """L2 logistic regression (sklearn's objective: sum of log-losses + ||w||^2 / (2C), bias unpenalised) by Newton."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, 1.0 / c)
    reg[-1] = 0.0
    for _ in range(iters):
        z = xb @ w
        p = 1.0 / (1.0 + np.exp(-z))
        g = xb.T @ (p - y) + reg * w
        h = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(h, g)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return w


def _np_predict(w: Any, x: Any) -> Any:
    return (x @ w[:-1] + w[-1]) > 0


def _folds(y: Any, k: int, seed: int) -> list[Any]:
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=int)
    for label in np.unique(y):
        idx = np.flatnonzero(y == label)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % k
    return [fold == i for i in range(k)]


def fit_logistic_cv(x_tr: Any, y_tr: Any, x_te: Any, y_te: Any, *, cs: Sequence[float] = PROBE_CS, k: int = 5,
                    seed: int = 0) -> dict:
    """Logistic regression on standardised features, ``C`` chosen by stratified ``k``-fold CV on train.

    Uses scikit-learn (``GridSearchCV`` over ``StandardScaler`` + ``LogisticRegression``)
    when it imports, else an equivalent NumPy Newton solver. Returns the test
    accuracy, the chosen ``C``, the CV accuracy per ``C`` and which solver ran.
    For example, ``fit_logistic_cv(f_tr, y_tr, f_te, y_te)["accuracy"]`` on
    384-wide features of 400 sentences takes about a second.
    """
    y_tr = (np.asarray(y_tr) > 0.5).astype(int)
    y_te = (np.asarray(y_te) > 0.5).astype(int)
    try:
        import sklearn
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, StratifiedKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        masks = _folds(y_tr, k, seed)
        cv = {}
        for c in cs:
            hits = 0
            for m in masks:
                a, b = _standardise(x_tr[~m], x_tr[m])
                hits += int(np.sum(_np_predict(_np_logistic(a, y_tr[~m], c), b) == y_tr[m]))
            cv[c] = hits / len(y_tr)
        best = max(cs, key=lambda c: (cv[c], -abs(math.log10(c))))  # ties: the C nearest 1
        a, b = _standardise(x_tr, x_te)
        acc = float(np.mean(_np_predict(_np_logistic(a, y_tr, best), b) == y_te))
        return {"accuracy": acc, "C": best, "cv_accuracy": {str(c): round(v, 4) for c, v in cv.items()}, "solver": "numpy"}
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    grid = GridSearchCV(pipe, {"logisticregression__C": list(cs)}, cv=StratifiedKFold(k, shuffle=True, random_state=seed),
                        scoring="accuracy", n_jobs=1)
    grid.fit(x_tr, y_tr)
    acc = float(np.mean(grid.predict(x_te) == y_te))
    cv = {str(c): round(float(s), 4) for c, s in zip(cs, grid.cv_results_["mean_test_score"])}
    return {"accuracy": acc, "C": grid.best_params_["logisticregression__C"], "cv_accuracy": cv,
            "solver": f"scikit-learn {sklearn.__version__}"}


def frozen_probe(spec: Any, data: tuple, *, seed: int = 0) -> dict:
    """Features from ``zoo.load_backbone(spec)`` (frozen), then `fit_logistic_cv` on them.

    For example, ``frozen_probe(make_spec(enc, pre, "mean"), split(0))`` scores
    a cross-validated logistic regression on the mean-pooled MiniLM features;
    the result has ``accuracy``, ``C``, ``wall_s`` and ``features_s``.
    """
    import zoo
    from zoo.tfk import tf

    x_tr, y_tr, x_te, y_te = data
    _reset(seed)
    t0 = time.perf_counter()
    bb = zoo.load_backbone(spec)
    embed = tf.function(lambda t: bb(t, training=False), reduce_retracing=True)

    def feats(x: Any) -> Any:
        return np.concatenate([embed(tf.constant(list(x[i:i + 32]))).numpy() for i in range(0, len(x), 32)])

    f_tr, f_te = feats(x_tr), feats(x_te)
    t1 = time.perf_counter()
    out = fit_logistic_cv(f_tr.astype("float64"), y_tr, f_te.astype("float64"), y_te, seed=seed)
    t2 = time.perf_counter()
    out.update({"wall_s": round(t2 - t0, 2), "features_s": round(t1 - t0, 2), "probe_s": round(t2 - t1, 2),
                "feature_norm": round(float(np.linalg.norm(f_tr, axis=1).mean()), 4)})
    del bb
    return out


def plan() -> list[dict]:
    """The configurations `main` runs for each split, cheap (frozen) ones first.

    Each entry has ``key`` (the row label), ``pooling``, ``kind`` (``"zoo"`` or
    ``"probe"``) and, for zoo runs, ``build`` (kwargs of `zoo.build`),
    ``epochs`` and ``batch_size``. For example, ``[p["key"] for p in plan()][:2]``
    is ``['b  frozen default', 'b  frozen default']`` (one per pooling).
    """
    rows: list[dict] = []
    for pooling in POOLINGS:
        rows.append({"key": "b  frozen default", "pooling": pooling, "kind": "zoo",
                     "build": {"freeze": "frozen"}, "epochs": 20, "batch_size": 32})
    for lr in HEAD_LRS:
        for pooling in POOLINGS:
            rows.append({"key": f"c  frozen lr={lr:g}", "pooling": pooling, "kind": "zoo",
                         "build": {"freeze": "frozen", "learning_rate": lr}, "epochs": 20, "batch_size": 32})
    for pooling in POOLINGS:
        rows.append({"key": "f  frozen 100 epochs", "pooling": pooling, "kind": "zoo",
                     "build": {"freeze": "frozen"}, "epochs": 100, "batch_size": 32})
    for pooling in POOLINGS:
        rows.append({"key": "d  frozen probe (LR, CV)", "pooling": pooling, "kind": "probe"})
    for pooling in POOLINGS:
        rows.append({"key": "a  finetune default", "pooling": pooling, "kind": "zoo",
                     "build": {}, "epochs": 3, "batch_size": 16})
    for pooling in POOLINGS:
        rows.append({"key": "e  finetune head=3e-5", "pooling": pooling, "kind": "zoo",
                     "build": {"head_learning_rate": 3e-5}, "epochs": 3, "batch_size": 16})
    return rows


def summarise(results: list[dict]) -> list[dict]:
    """One row per (configuration, pooling): accuracies per seed, mean, sample sd, mean wall time.

    ``results`` are `main`'s run records (``key``, ``pooling``, ``seed``,
    ``accuracy``, ``wall_s``). For example, three seeds of ``a  finetune
    default`` / ``mean`` give one row with ``acc`` holding three values.
    """
    rows: dict[tuple, dict] = {}
    for r in results:
        if "accuracy" not in r:
            continue
        row = rows.setdefault((r["key"], r["pooling"]), {"key": r["key"], "pooling": r["pooling"], "acc": {}, "wall": []})
        row["acc"][r["seed"]] = r["accuracy"]
        row["wall"].append(r["wall_s"])
    out = []
    for row in rows.values():
        accs = list(row["acc"].values())
        out.append({"key": row["key"], "pooling": row["pooling"], "acc": row["acc"],
                    "mean": float(np.mean(accs)), "sd": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0,
                    "wall_s": float(np.mean(row["wall"]))})
    return sorted(out, key=lambda r: (r["key"], r["pooling"]))


def format_table(summary: list[dict], seeds: Sequence[int]) -> str:
    """A plain-text table of `summarise`'s rows (accuracy per seed, mean +- sd, mean wall seconds).

    For example, ``print(format_table(summarise(results), [0, 1, 2]))``.
    """
    head = f"{'configuration':<26}{'pooling':<8}" + "".join(f"{'seed ' + str(s):>8}" for s in seeds) + \
        f"{'mean':>8}{'sd':>7}{'wall s':>9}"
    lines = [head, "-" * len(head)]
    for r in summary:
        cells = "".join(f"{r['acc'][s]:>8.3f}" if s in r["acc"] else f"{'-':>8}" for s in seeds)
        lines.append(f"{r['key']:<26}{r['pooling']:<8}{cells}{r['mean']:>8.3f}{r['sd']:>7.3f}{r['wall_s']:>9.1f}")
    return "\n".join(lines)


def _estimate(entry: dict, done: list[dict]) -> float:
    same = [r["wall_s"] for r in done if r["key"] == entry["key"] and r["pooling"] == entry["pooling"] and "wall_s" in r]
    if same:
        return float(np.mean(same))
    if entry["kind"] == "probe":
        return 30.0
    return 25.0 + entry["epochs"] * 0.3 if entry["build"].get("freeze") == "frozen" else 120.0


def main(argv: Sequence[str] | None = None) -> int:
    """Run every configuration of `plan` on each split; print the table; write the JSON.

    ``--seeds 0 1 2`` (default) are `split` seeds. The frozen runs (b, c, d, f)
    go first on every split, then the fine-tuning runs (a, e) split by split; a
    run starts only while its estimated time fits ``--budget-min`` (default 24),
    so a slow machine drops the fine-tuning of later splits rather than overrunning.
    For example, ``python -m benchmarks.real_weights --seeds 0 --budget-min 10``
    runs one split; the JSON goes to ``--out`` (default
    ``benchmarks/out/real_weights.json``).
    """
    ap = argparse.ArgumentParser(prog="python -m benchmarks.real_weights", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--budget-min", type=float, default=24.0)
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = ap.parse_args(argv)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from benchmarks.pretrained_bert import make_pretrained_pair

    start = time.perf_counter()
    deadline = start + args.budget_min * 60
    enc, pre = make_pretrained_pair()
    specs = {p: make_spec(enc, pre, p) for p in POOLINGS}
    results: list[dict] = []
    skipped: list[dict] = []
    splits = {seed: split(seed) for seed in args.seeds}
    frozen = [e for e in plan() if e["kind"] == "probe" or e["build"].get("freeze") == "frozen"]
    tuned = [e for e in plan() if e not in frozen]
    # the cheap frozen runs on every split first, then fine-tuning split by split
    for seed, entries in [(s, frozen) for s in args.seeds] + [(s, tuned) for s in args.seeds]:
        data = splits[seed]
        print(f"# seed {seed}: {len(data[0])} train / {len(data[2])} test sentences, "
              f"{int(data[1].sum())}/{int(data[3].sum())} positive", flush=True)
        for entry in entries:
            tag = {"key": entry["key"], "pooling": entry["pooling"], "seed": seed}
            if time.perf_counter() + _estimate(entry, results) > deadline:
                skipped.append(tag)
                print(f"  skip {entry['key']} [{entry['pooling']}] (budget)", flush=True)
                continue
            try:
                if entry["kind"] == "probe":
                    r = frozen_probe(specs[entry["pooling"]], data, seed=seed)
                else:
                    r = run_zoo(specs[entry["pooling"]], data, build_kwargs=entry["build"], epochs=entry["epochs"],
                                batch_size=entry["batch_size"], seed=seed)
                    r.update({"build_kwargs": entry["build"], "epochs": entry["epochs"], "batch_size": entry["batch_size"]})
            except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
                import traceback

                r = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
                print(r["traceback"], file=sys.stderr, flush=True)
            r.update(tag)
            results.append(r)
            print(f"  {entry['key']:<26}{entry['pooling']:<8}"
                  + (f"acc {r['accuracy']:.3f}  {r['wall_s']:6.1f} s" if "accuracy" in r else f"ERROR {r['error']}"),
                  flush=True)
    summary = summarise(results)
    table = format_table(summary, args.seeds)
    print()
    print(table)
    payload = {
        "backbone": "sentence-transformers/all-MiniLM-L6-v2 (TF-Hub export, benchmarks.pretrained_bert)",
        "data": "VADER movie-review ground truth, load_sentences('movies', per_class=250, seed=s); first 400 train, last 100 test",
        "seeds": args.seeds, "summary": summary, "runs": results, "skipped": skipped,
        "total_s": round(time.perf_counter() - start, 1),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1, default=str))
    print(f"\nwrote {args.out} ({payload['total_s']} s)")
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    raise SystemExit(main())
