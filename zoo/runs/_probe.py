"""Probes for `zoo.compare`: a linear (or small MLP) head fitted on frozen features, scored over folds.

scikit-learn does the fitting when it is installed (``pip install "zoo[compare]"``):
``LogisticRegressionCV`` (L2 strength ``C`` from 0.01 to 100 tuned by inner cross-validation, L-BFGS to a
gradient tolerance of 1e-3, on
standardised features; rotated onto the span of the examples when wider than their
number, which leaves the solution unchanged) for classification, ``RidgeCV`` for regression, ``MLPClassifier`` /
``MLPRegressor`` for ``mlp=True``. Without it a plain Keras head is fitted instead (softmax
or linear layer with a fixed L2, or one hidden layer), and the result says which.

Example:
    >>> import numpy as np
    >>> rng = np.random.RandomState(0); y = np.repeat([0, 1], 20)
    >>> x = rng.randn(40, 5) + y[:, None] * 3.0
    >>> r = probe(x, y, task="classification", folds=4, seed=0)
    >>> r["metric"], r["mean"] > 0.9, len(r["per_fold"])
    ('accuracy', True, 4)
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from zoo.errors import DataError

__all__ = ["probe", "splits", "macro_f1", "have_sklearn"]

_C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)
_TOL = 1e-3  # L-BFGS stopping tolerance: half the iterations of the default 1e-4 for the same choice of C


def have_sklearn() -> bool:
    """Whether scikit-learn is importable (the ``compare`` extra)."""
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:
        return False
    return True


def splits(y: np.ndarray, *, task: str, folds: int | None, val_split: float, seed: int) -> list[tuple]:
    """``(train_idx, test_idx)`` pairs: stratified K folds (``folds``), else one stratified hold-out of
    ``val_split``. Every class needs at least as many examples as there are folds (two for a hold-out).

    Example:
        >>> [len(t) for _, t in splits(np.repeat([0, 1], 5), task="classification", folds=5, val_split=0.2, seed=0)]
        [2, 2, 2, 2, 2]
    """
    rng = np.random.default_rng(seed)
    n = len(y)
    if task != "classification":
        perm = rng.permutation(n)
        if folds:
            parts = np.array_split(perm, folds)
            return [(np.sort(np.concatenate(parts[:i] + parts[i + 1:])), np.sort(parts[i])) for i in range(folds)]
        cut = max(1, round(n * val_split))
        return [(np.sort(perm[cut:]), np.sort(perm[:cut]))]
    classes, counts = np.unique(y, return_counts=True)
    need = folds or 2
    if counts.min() < need:
        small = classes[counts.argmin()]
        raise DataError(f"class {small!r} has {counts.min()} example(s); {need} are needed for "
                        f"{f'{folds} folds' if folds else 'a hold-out split'}: use fewer --folds or add data",
                        class_=str(small), count=int(counts.min()))
    by_class = [rng.permutation(np.flatnonzero(y == c)) for c in classes]
    if folds:
        parts = [np.concatenate([np.array_split(idx, folds)[i] for idx in by_class]) for i in range(folds)]
        return [(np.sort(np.concatenate(parts[:i] + parts[i + 1:])), np.sort(parts[i])) for i in range(folds)]
    test = np.concatenate([idx[:max(1, min(len(idx) - 1, round(len(idx) * val_split)))] for idx in by_class])
    return [(np.setdiff1d(np.arange(n), test), np.sort(test))]


def macro_f1(y: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    """Unweighted mean of the per-class F1 scores (scikit-learn's ``f1_score(average="macro")``).

    Example:
        >>> macro_f1(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]), 2)
        0.7333333333333334
    """
    f1 = []
    for c in range(n_classes):
        tp = np.sum((pred == c) & (y == c))
        p, t = np.sum(pred == c), np.sum(y == c)
        f1.append(0.0 if tp == 0 else 2 * tp / (p + t))
    return float(np.mean(f1))


def _fit_predict_sklearn(x: np.ndarray, y: np.ndarray, xt: np.ndarray, task: str, mlp: bool, seed: int) -> np.ndarray:
    import warnings

    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegressionCV, RidgeCV
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if task == "classification":
        inner = int(max(2, min(3, np.bincount(y).min())))
        head = (MLPClassifier((256,), alpha=1e-3, max_iter=300, random_state=seed) if mlp
                else LogisticRegressionCV(Cs=list(_C_GRID), cv=inner, scoring="accuracy", max_iter=2000, tol=_TOL))
    else:
        head = MLPRegressor((256,), alpha=1e-3, max_iter=300, random_state=seed) if mlp else RidgeCV(alphas=_C_GRID)
    steps = [StandardScaler()]
    if x.shape[1] > x.shape[0] and not mlp:
        # wider than there are examples: rotate onto the span of the training examples first. An L2
        # penalty does not see rotations and the solution lies in that span, so the fitted model and
        # its predictions are the same, found in min(n, d) dimensions instead of d.
        steps.append(PCA(svd_solver="full"))
    model = make_pipeline(*steps, head)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # scikit-learn 1.9's notices of changing defaults
        model.fit(x, y)
    return model.predict(xt)


def _fit_predict_keras(x: np.ndarray, y: np.ndarray, xt: np.ndarray, task: str, mlp: bool, seed: int) -> np.ndarray:
    from zoo.tfk import keras

    keras.utils.set_random_seed(seed)
    mean, std = x.mean(0), x.std(0) + 1e-6
    x, xt = (x - mean) / std, (xt - mean) / std
    n_out = int(y.max()) + 1 if task == "classification" else 1
    layers = [keras.layers.Dense(256, activation="relu")] if mlp else []
    layers.append(keras.layers.Dense(n_out, kernel_regularizer=keras.regularizers.l2(1e-3),
                                     activation="softmax" if task == "classification" else None))
    model = keras.Sequential(layers)
    loss = "sparse_categorical_crossentropy" if task == "classification" else "mse"
    model.compile(keras.optimizers.Adam(1e-2), loss)
    model.fit(x.astype(np.float32), y, epochs=100, batch_size=min(256, len(x)), verbose=0)
    out = model.predict(xt.astype(np.float32), verbose=0)
    return out.argmax(1) if task == "classification" else out[:, 0]


def probe(features: np.ndarray, y: np.ndarray, *, task: str = "classification", folds: int | None = None,
          val_split: float = 0.2, seed: int = 0, mlp: bool = False) -> dict:
    """Fit the head on each training split and score it on the held-out one.

    Returns ``metric`` (``accuracy``; ``r2`` for regression), its ``mean`` / ``std`` / ``per_fold``,
    ``macro_f1`` / ``macro_f1_std`` (classification), ``head`` (what was fitted) and ``n_folds``.
    """
    fit = _fit_predict_sklearn if have_sklearn() else _fit_predict_keras
    head = ("mlp" if mlp else ("logistic" if task == "classification" else "ridge")) + (
        " (scikit-learn)" if have_sklearn() else " (keras; pip install 'zoo[compare]' for scikit-learn)")
    scores, f1s = [], []
    n_classes = int(y.max()) + 1 if task == "classification" else 0
    parts = splits(y, task=task, folds=folds, val_split=val_split, seed=seed)
    from concurrent.futures import ThreadPoolExecutor

    workers = max(1, min(len(parts), os.cpu_count() or 1)) if fit is _fit_predict_sklearn else 1  # Keras: one at a time
    with ThreadPoolExecutor(workers) as pool:  # folds in parallel (NumPy frees the GIL)
        preds = list(pool.map(lambda p: fit(features[p[0]], y[p[0]], features[p[1]], task, mlp, seed), parts))
    for (train, test), pred in zip(parts, preds):
        if task == "classification":
            scores.append(float(np.mean(pred == y[test])))
            f1s.append(macro_f1(y[test], pred, n_classes))
        else:
            resid = np.sum((y[test] - pred) ** 2)
            scores.append(float(1 - resid / max(np.sum((y[test] - y[test].mean()) ** 2), 1e-12)))
    result: dict[str, Any] = {"metric": "accuracy" if task == "classification" else "r2",
                              "mean": float(np.mean(scores)), "std": float(np.std(scores)), "per_fold": scores,
                              "head": head, "n_folds": len(scores)}
    if f1s:
        result.update(macro_f1=float(np.mean(f1s)), macro_f1_std=float(np.std(f1s)))
    return result
