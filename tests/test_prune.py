"""``zoo prune``: the head reaches the requested sparsity, the pruned run exports and quantizes, and a TF Hub
backbone is refused with an error that says why and what to do instead."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import zoo
import zoo.data as zd
from zoo.cli import main

pytestmark = pytest.mark.slow  # trains real (tiny) TF graphs
pytest.importorskip("tensorflow_model_optimization")


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("prune")
    data = zd.make_synthetic_folder(root / "data", "text", n_per_class=20, seed=6)
    out = root / "run"
    assert main(["train", "starter_text", "--data", str(data), "--epochs", "6", "--learning-rate", "0.01",
                 "--val-split", "0.25", "--out", str(out), "-q"]) == 0
    return out


@pytest.mark.parametrize("sparsity", [0.5, 0.8])
def test_head_reaches_the_requested_sparsity_and_keeps_working(run, sparsity, capsys, tmp_path):
    out = tmp_path / f"pruned-{sparsity}"
    capsys.readouterr()
    assert main(["prune", str(run), "--sparsity", str(sparsity), "--epochs", "2", "--out", str(out)]) == 0
    assert "sparsity" in capsys.readouterr().out
    report = json.loads((out / "prune_report.json").read_text())
    assert report["layers"] and all(abs(v["sparsity"] - sparsity) < 0.01 for v in report["layers"].values())
    # the exported pruned model has those zeros: read its head kernel from the SavedModel's variables
    import tensorflow as tf

    ckpt = str(out / "model" / "variables" / "variables")
    head_kernels = [n for n, shape in tf.train.list_variables(ckpt) if list(shape) == [64, 3]]  # 64-d features -> 3
    reader = tf.train.load_checkpoint(ckpt)
    assert len(head_kernels) == 1
    assert float(np.mean(reader.get_tensor(head_kernels[0]) == 0)) == pytest.approx(sparsity, abs=0.01)
    assert report["accuracy_before"] is not None and report["accuracy_after"] is not None
    assert report["gzip_bytes_after"] < report["gzip_bytes_before"] * 1.01
    # a pruned run is a run: it exports (and quantizes) like any other
    capsys.readouterr()
    assert main(["export", str(out), "--format", "tflite", "--quantize", "dynamic", "--select-tf-ops"]) == 0
    assert (out / "model_dynamic.tflite").exists()
    # its text ops run through TF Select, which no interpreter here links: said, not silently skipped
    printed = capsys.readouterr().out
    assert "no accuracy report" in printed and "TF Select" in printed


def test_backbone_pruning_is_refused_with_the_reason(run, capsys):
    capsys.readouterr()
    assert main(["prune", str(run), "--backbone"]) != 0
    err = capsys.readouterr().err
    assert "SavedModel" in err and "zoo distill" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(zoo.ConfigurationError, match="sparsity"):
        zoo.runs.prune_run(run, sparsity=1.5)


def test_importing_tfmot_leaves_tf_keras_setting_alone():
    import os

    from zoo.runs import import_tfmot

    before = os.environ.get("TF_USE_LEGACY_KERAS")
    import_tfmot()
    assert os.environ.get("TF_USE_LEGACY_KERAS") == before
