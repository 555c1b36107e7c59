"""``zoo distill`` / ``zoo.distill``: a student learns a trained teacher's outputs, and it pays off.

The acceptance case is one a bad implementation fails: with 2 labels per class and 120
unlabeled texts, the distilled student must beat the same student trained on the labels
alone (given as many gradient steps) on held-out data, measured with ``zoo.runs.evaluate_export``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import zoo
import zoo.data as zd
from zoo.cli import main

pytestmark = pytest.mark.slow  # trains real (tiny) TF graphs


def _accuracy(run: Path, test: Path) -> float:
    from zoo.export import read_export_meta
    from zoo.runs import RunDir, evaluate_export

    r = RunDir(run)
    return evaluate_export(r.model_dir, read_export_meta(r.model_dir), r.info(), test)["accuracy"]


@pytest.fixture(scope="module")
def setting(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("distill")
    paths = {name: zd.make_synthetic_folder(root / name, "text", n_per_class=n, seed=seed)
             for name, n, seed in (("big", 60, 1), ("scarce", 2, 2), ("pool", 40, 3), ("test", 30, 4))}
    assert main(["train", "starter_text", "--data", str(paths["big"]), "--epochs", "8", "--learning-rate", "0.01",
                 "--out", str(root / "teacher"), "-q"]) == 0
    return {"root": root, "teacher": root / "teacher", **paths}


def test_distillation_beats_labels_alone_when_labels_are_scarce(setting, capsys):
    root, epochs = setting["root"], 5
    capsys.readouterr()
    assert main(["distill", str(setting["teacher"]), "--student", "starter_text", "--data", str(setting["scarce"]),
                 "--unlabeled", str(setting["pool"]), "--val-split", "0", "--epochs", str(epochs),
                 "--learning-rate", "0.01", "--out", str(root / "student"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "unlabeled: 120 examples" in out and "teacher starter_text" in out and "student starter_text" in out
    # the same student on the 6 labels alone, with as many gradient steps (126 vs 6 examples a batch-32 epoch: 4 vs 1)
    assert main(["train", "starter_text", "--data", str(setting["scarce"]), "--val-split", "0", "--epochs",
                 str(4 * epochs), "--learning-rate", "0.01", "--out", str(root / "alone"), "-q"]) == 0
    teacher, student, alone = (_accuracy(root / r, setting["test"]) for r in ("teacher", "student", "alone"))
    assert teacher >= 0.9
    assert student >= 0.8 and student >= alone + 0.1, (teacher, student, alone)

    report = json.loads((root / "student" / "distill_report.json").read_text())
    assert report["n_unlabeled"] == 120 and report["teacher"]["backbone"] == report["student"]["backbone"] == "starter_text"
    for side in ("teacher", "student"):
        assert report[side]["params"] > 0 and report[side]["size_bytes"] > 0
        assert report[side]["ms_per_example_b1"] > 0 and report[side]["ms_per_example_b32"] > 0
    meta = json.loads((root / "student" / "model" / "assets.extra" / "zoo_export.json").read_text())
    assert meta["task"] == "classification" and meta["distilled_from"] == str(setting["teacher"])


def test_teacher_outputs_are_computed_once_and_reused_on_resume(setting, capsys):
    root = setting["root"]
    out = root / "resumed"
    assert main(["distill", str(setting["teacher"]), "--student", "starter_text", "--data", str(setting["big"]),
                 "--epochs", "2", "--out", str(out), "-q"]) == 0
    cache = out / "teacher_outputs.npz"
    with np.load(cache) as first:
        train = first["train"].copy()
    assert train.shape[1] == 3 and np.allclose(train.sum(1), 1, atol=1e-5)
    report = json.loads((out / "distill_report.json").read_text())
    assert report["teacher"]["accuracy"] >= 0.9 and report["n_examples"] > 0  # on the run's validation split
    stamp = cache.stat().st_mtime_ns
    run = json.loads((out / "run.json").read_text())  # pretend it was interrupted after epoch 1
    run["status"] = "running"
    (out / "run.json").write_text(json.dumps(run))
    for ck in sorted((out / "checkpoints").glob("epoch-0002*")):
        ck.unlink() if ck.is_file() else None
    assert main(["distill", str(setting["teacher"]), "--resume", "--out", str(out), "-q"]) == 0
    assert cache.stat().st_mtime_ns == stamp  # not recomputed


def test_python_api_and_bad_arguments(setting, tmp_path):
    result = zoo.distill(setting["teacher"], "starter_text", setting["big"], out=tmp_path / "api", epochs=1,
                         temperature=2.0, alpha=0.3, verbose=0, say=lambda _m: None)
    cfg = result.run.read_config()
    assert (cfg.teacher, cfg.temperature, cfg.alpha) == (str(setting["teacher"]), 2.0, 0.3)
    with pytest.raises(zoo.ConfigurationError, match="same modality"):
        zoo.distill(setting["teacher"], "starter_cnn", setting["big"], out=tmp_path / "x", epochs=1, verbose=0,
                    say=lambda _m: None)
    with pytest.raises(zoo.ConfigurationError, match="--alpha"):
        zoo.distill(setting["teacher"], "starter_text", setting["big"], out=tmp_path / "y", alpha=2, verbose=0)
    with pytest.raises(zoo.ConfigurationError, match="not a finished zoo run"):
        zoo.distill(tmp_path, "starter_text", setting["big"], out=tmp_path / "z", verbose=0)
