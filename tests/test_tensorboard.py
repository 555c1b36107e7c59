"""TensorBoard logs: ``zoo train`` writes them into the run folder, ``zoo.fit(..., tensorboard=DIR)`` where asked.

The event files are read back with TensorBoard's own ``EventAccumulator``: per-epoch loss and
accuracy for training and validation, the learning rate of every epoch (it changes where the
freeze schedule's stages change it), one stage marker per stage, and the confusion-matrix image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers import install, toy_data

import zoo
import zoo.data as zd
from zoo.cli import main

pytestmark = pytest.mark.slow  # trains real (tiny) TF graphs

def _events(folder: Path) -> dict:
    """``{tag: [(step, value)]}`` of every event file in ``folder`` (TensorFlow's own reader: the
    ``tensorboard`` package is not needed to write or to read them)."""
    import tensorflow as tf

    out: dict = {}
    for f in sorted(folder.glob("events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(str(f)):
            for v in event.summary.value:
                value = tf.make_ndarray(v.tensor) if v.HasField("tensor") else v.simple_value
                out.setdefault(v.tag, []).append((event.step, value))
    return out


def _scalar(events: dict, tag: str) -> list[tuple[int, float]]:
    return [(step, float(v)) for step, v in events[tag]]


def test_zoo_train_logs_epochs_learning_rate_stages_and_confusion_matrix(tmp_path):
    data = zd.make_synthetic_folder(tmp_path / "reviews", "text", n_per_class=8, seed=2)
    run = tmp_path / "run"
    assert main(["train", "starter_text", "--data", str(data), "--schedule", "frozen:2@1e-2,top:1:1@1e-3",
                 "--val-split", "0.25", "--batch-size", "8", "--out", str(run), "-q"]) == 0
    train, val = _events(run / "tensorboard" / "train"), _events(run / "tensorboard" / "validation")
    assert [s for s, _ in _scalar(train, "epoch_loss")] == [0, 1, 2]
    assert [s for s, _ in _scalar(val, "epoch_accuracy")] == [0, 1, 2]
    lr = _scalar(train, "learning_rate")
    assert [s for s, _ in lr] == [0, 1, 2]
    assert lr[0][1] == pytest.approx(1e-2) and lr[1][1] == pytest.approx(1e-2) and lr[2][1] == pytest.approx(1e-3)
    assert _scalar(train, "stage") == [(0, 1.0), (2, 2.0)]
    assert [(step, v.item()) for step, v in train["stage_description"]] == [
        (0, b"stage 1: freeze frozen, 2 epochs"), (2, b"stage 2: freeze top:1, 1 epochs")]
    (step, image), = val["confusion_matrix"]  # [width, height, encoded PNG]
    assert step == 3 and image[2][:4] == b"\x89PNG" and (run / "tensorboard" / "confusion_matrix.png").read_bytes()[:4] == b"\x89PNG"


def test_zoo_fit_writes_logs_where_asked(tmp_path):
    spec = install("starter_cnn")
    d = toy_data(spec, "classification", n=8)
    model = zoo.build(spec.name, num_classes=3)
    zoo.fit(model, (d.x, d.y), epochs=2, batch_size=4, verbose=0, tensorboard=tmp_path / "tb")
    train = _events(tmp_path / "tb" / "train")
    assert [s for s, _ in _scalar(train, "epoch_loss")] == [0, 1]
    assert all(np.isfinite(v) for _, v in _scalar(train, "learning_rate"))
