"""``zoo compare`` / ``zoo.compare``: ranking backbones on the user's data.

Generated data (class folders of images and of text) and real data shipped by a package
(scikit-learn's digits). A "blind" backbone whose features ignore the input must rank
last; every figure in compare.json is checked against an independent recomputation.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from helpers import install
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
import zoo.data as zd
from zoo.cli import main
from zoo.tfk import tf

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def shapes(tmp_path_factory) -> Path:
    return zd.make_synthetic_folder(tmp_path_factory.mktemp("cmp") / "shapes", "vision", n_per_class=8,
                                    classes=("red", "green", "blue"))


@pytest.fixture(scope="module")
def blind(tmp_path_factory) -> zoo.BackboneSpec:
    """A backbone whose features do not depend on the image: a probe on it can only guess."""
    class Blind(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([None, 32, 32, 3], tf.float32)])
        def __call__(self, images):
            return tf.zeros([tf.shape(images)[0], 8]) + 0.0 * tf.reduce_mean(images)

    path = tmp_path_factory.mktemp("blind") / "module"
    tf.saved_model.save(Blind(), str(path))
    return zoo.BackboneSpec(name="blind", modality="vision", handle=str(path), output_dim=8, input_shape=(32, 32, 3),
                            fine_tunable=False)


def _compare(*args, **kw):
    return zoo.compare(*args, say=None, **kw)


def test_ranks_backbones_writes_json_csv_png_and_reuses_features(shapes, blind, tmp_path, monkeypatch):
    for name in ("mobilenet_v2", "mobilenet_v3_small"):
        install(name)
    monkeypatch.setattr(zoo.registry.get_registry(), "backbones", {**zoo.registry.get_registry().backbones, "blind": blind})
    out = tmp_path / "cmp"
    result = _compare(["mobilenet_v2", "blind", "starter_cnn"], shapes, folds=3, out=out)
    rows = result.rows()
    assert [r["rank"] for r in rows] == [1, 2, 3] and rows[-1]["name"] == "blind"
    assert [r["mean"] for r in rows] == sorted((r["mean"] for r in rows), reverse=True)
    assert rows[0]["mean"] >= 0.9 and rows[-1]["mean"] <= 0.5  # three classes: the blind one guesses
    record = json.loads((out / "compare.json").read_text())
    assert record["metric"] == "accuracy" and record["folds"] == 3 and record["data"]["n_examples"] == 24
    assert record["data"]["classes"] == ["blue", "green", "red"] and len(record["data"]["fingerprint"]) == 64
    assert set(record["versions"]) >= {"zoo", "tensorflow", "tf_keras", "tensorflow_hub", "python"}
    for r in record["rows"]:
        assert len(r["per_fold"]) == 3 and r["std"] == pytest.approx(np.std(r["per_fold"]))
        assert r["latency_ms_b1"] > 0 and r["latency_ms_b32"] > 0 and r["size_bytes"] > 0
        assert (r["params"] > 0) == (r["name"] != "blind")  # the blind module holds no variable
        assert r["feature_dim"] == zoo.get(r["name"]).output_dim if r["name"] != "blind" else r["feature_dim"] == 8
        assert r["features_reused"] is False and r["macro_f1"] <= 1.0
    mnv2 = next(r for r in record["rows"] if r["name"] == "mobilenet_v2")
    assert mnv2["digest"] and mnv2["handle"] == zoo.get("mobilenet_v2").handle
    # the Pareto front: no other row is better on both accuracy and latency
    for r in record["rows"]:
        beaten = any(o["mean"] > r["mean"] and o["latency_ms_b32"] < r["latency_ms_b32"] for o in record["rows"])
        assert r["pareto"] is not beaten or not r["pareto"]
    assert record["plot"]["points"] == 3
    from PIL import Image

    assert Image.open(out / "compare.png").size[0] > 300
    csv_rows = (out / "compare.csv").read_text().splitlines()
    assert csv_rows[0].startswith("rank,name,metric") and len(csv_rows) == 4

    # one more backbone: only its features are computed, the others come from OUT/features
    again = _compare(["mobilenet_v2", "blind", "starter_cnn", "mobilenet_v3_small"], shapes, folds=3, out=out)
    reused = {r["name"]: r["features_reused"] for r in again.rows()}
    assert reused == {"mobilenet_v2": True, "blind": True, "starter_cnn": True, "mobilenet_v3_small": False}
    same = {r["name"]: r["mean"] for r in rows}
    assert all(r["mean"] == same[r["name"]] for r in again.rows() if r["name"] in same)


def test_probe_figures_equal_an_independent_recomputation_on_sklearn_digits(tmp_path):
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    digits = load_digits()
    keep = np.concatenate([np.flatnonzero(digits.target == c)[:30] for c in range(10)])
    images = np.repeat((digits.images[keep] * (255 / 16)).astype(np.uint8)[..., None], 3, axis=-1)
    labels = digits.target[keep]
    result = _compare(["starter_cnn"], (images, labels), val_split=0.25, out=tmp_path / "digits")
    row = result.rows()[0]
    assert row["mean"] > 0.5  # ten classes: chance is 0.1
    feats = np.load(next((tmp_path / "digits" / "features").glob("starter_cnn-*.npy")))
    assert feats.shape == (300, 64)
    from zoo.runs._probe import splits

    (train, test), = splits(labels, task="classification", folds=None, val_split=0.25, seed=0)
    assert len(test) == 80 and not set(train) & set(test)
    clf = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=[0.01, 0.1, 1.0, 10.0, 100.0], cv=3,
                                                               scoring="accuracy", max_iter=2000, tol=1e-3))
    want = float(np.mean(clf.fit(feats[train], labels[train]).predict(feats[test]) == labels[test]))
    assert row["mean"] == pytest.approx(want)


def test_text_folder_and_cli_json(tmp_path, capsys):
    install("use")
    data = zd.make_synthetic_folder(tmp_path / "reviews", "text", n_per_class=6, classes=("neg", "pos"))
    capsys.readouterr()
    assert main(["compare", "use", "starter_text", "--data", str(data), "--out", str(tmp_path / "c"), "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert {r["name"] for r in record["rows"]} == {"use", "starter_text"} and record["data"]["modality"] == "text"
    assert main(["compare", "use", "--data", str(data), "--out", str(tmp_path / "c")]) == 0
    assert "use" in capsys.readouterr().out.splitlines()[-2]


def test_query_skips_uncached_backbones_and_never_downloads(shapes, tmp_path, monkeypatch):
    cache = tmp_path / "empty-hub"
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(cache))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(zoo.ConfigurationError, match="zoo cache prefetch"):
        _compare(None, shapes, modality="vision", tag="imagenet-21k", out=tmp_path / "q")
    from zoo.testing import install_in_hub_cache

    install_in_hub_cache(zoo.get("bit_s_r50x1"), str(cache))
    result = _compare(None, shapes, modality="vision", tag="imagenet", out=tmp_path / "q")
    assert [r["name"] for r in result.rows()] == ["bit_s_r50x1"]
    skipped = {s["name"]: s for s in result.skipped}
    assert "mobilenet_v2" in skipped and skipped["mobilenet_v2"]["fix"] == "zoo cache prefetch mobilenet_v2"
    assert not [p for p in cache.iterdir() if not p.name.startswith(zoo.hub.module_dir(zoo.get("bit_s_r50x1").handle).name)]


@pytest.mark.parametrize("argv,match", [
    (["compare", "mobilenet_v22", "--data", "{shapes}"], "did you mean 'mobilenet_v2'"),
    (["compare", "starter_text", "--data", "{shapes}"], "holds no text files"),
    (["compare", "starter_cnn", "starter_text", "--data", "{shapes}"], "compare one modality at a time"),
    (["compare", "starter_cnn", "--data", "{one_class}"], "only one class"),
    (["compare", "starter_cnn", "--data", "{shapes}", "--budget", "soon"], "--budget must be a duration"),
    (["compare", "--data", "{shapes}"], "name the backbones to compare"),
])
def test_bad_input_is_one_line(argv, match, shapes, tmp_path, capsys):
    one = zd.make_synthetic_folder(tmp_path / "one", "vision", n_per_class=3, classes=("only",))
    argv = [a.format(shapes=shapes, one_class=one) for a in argv] + ["--out", str(tmp_path / "o")]
    capsys.readouterr()
    assert main(argv) == 2
    err = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(err) == 1 and err[0].startswith("zoo: error: ") and match in err[0], err


def test_budget_skips_backbones_it_cannot_start(shapes, tmp_path, monkeypatch):
    clock = iter(range(0, 10_000, 100))  # every look at the clock: 100 s later
    monkeypatch.setattr("zoo.runs._compare.time.perf_counter", lambda: float(next(clock)))
    result = _compare(["starter_cnn", "mobilenet_v2"], shapes, budget="150s", out=tmp_path / "b")
    assert [r["name"] for r in result.rows()] == ["starter_cnn"]
    assert result.skipped == [{"name": "mobilenet_v2", "reason": "budget of 150 s spent", "fix": "raise --budget"}]
    assert os.path.exists(tmp_path / "b" / "compare.json")


def test_without_scikit_learn_a_keras_head_probes(monkeypatch):
    from zoo.runs import _probe

    monkeypatch.setattr(_probe, "have_sklearn", lambda: False)
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1, 2], 20)
    x = rng.randn(60, 6) + np.eye(3, 6)[y] * 4.0
    result = _probe.probe(x, y, folds=3, seed=0)
    assert "keras" in result["head"] and "zoo[compare]" in result["head"] and result["mean"] >= 0.9


def test_fine_tune_top_adds_a_fine_tuned_row(tmp_path):
    rng = np.random.RandomState(0)
    y = np.repeat([0, 1], 12)
    images = np.zeros((24, 32, 32, 3), np.uint8)
    images[y == 1, :16] = 255  # class 1: bright upper half
    images = (images + rng.randint(0, 30, images.shape)).clip(0, 255).astype(np.uint8)
    mine = zoo.get("starter_cnn").replace(name="my_cnn")  # a user's own spec, not registered
    result = _compare([mine], (images, y), fine_tune_top=1, out=tmp_path / "ft")
    names = [r["name"] for r in result.rows()]
    assert set(names) == {"my_cnn", "my_cnn+fine-tuned"}
    tuned = next(r for r in result.rows() if r["name"] == "my_cnn+fine-tuned")
    assert tuned["head"].startswith("fine-tuned (") and 0.0 <= tuned["mean"] <= 1.0 and tuned["per_fold"] == [tuned["mean"]]


def test_wide_features_are_rotated_onto_their_span_without_changing_the_probe():
    """More feature dimensions than examples: the probe fits in the span of the training examples
    (PCA, all components); with an L2 penalty that is the same model as on the raw features."""
    import warnings

    from sklearn.linear_model import LogisticRegressionCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from zoo.runs import _probe

    rng = np.random.RandomState(1)
    y = np.repeat([0, 1, 2], 20)
    x = rng.randn(60, 500) + np.eye(3, 500)[y] * 1.5 + 0.3 * rng.randn(60, 1)
    xt = rng.randn(30, 500) + np.eye(3, 500)[np.repeat([0, 1, 2], 10)] * 1.5
    got = _probe._fit_predict_sklearn(x, y, xt, "classification", False, 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        raw = make_pipeline(StandardScaler(), LogisticRegressionCV(Cs=list(_probe._C_GRID), cv=3, scoring="accuracy",
                                                                   max_iter=5000, tol=1e-8)).fit(x, y)
    np.testing.assert_array_equal(got, raw.predict(xt))
