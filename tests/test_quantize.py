"""``zoo export --format tflite --quantize ...``: calibration on the run's data, and a report that can be trusted.

The report's figures are recomputed here independently: the TFLite file run with LiteRT's
interpreter and the float SavedModel over the run's validation examples, accuracy and
agreement counted by hand. ``--max-drop`` refuses an export that lost too much and
leaves nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import zoo.data as zd
from zoo.cli import main

pytestmark = pytest.mark.slow  # trains a real (tiny) TF graph

CLASSES = ("a", "b", "c")


def _cli(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("quantize")
    data = zd.make_synthetic_folder(root / "data", "vision", n_per_class=50, seed=5, classes=CLASSES)
    out = root / "run"
    assert main(["train", "starter_cnn", "--data", str(data), "--epochs", "3", "--learning-rate", "0.01",
                 "--batch-size", "16", "--val-split", "0.2", "--out", str(out), "-q"]) == 0
    return out


def _val_examples(run: Path):
    from zoo.export import read_export_meta
    from zoo.runs import RunDir, run_examples

    meta = read_export_meta(run / "model")
    xs, ys, class_names = run_examples(RunDir(run).info(), meta, "val")
    names = list(meta["class_names"])
    return xs, np.asarray([names.index(class_names[y]) for y in ys])


def test_int8_report_figures_equal_an_independent_recomputation(run, capsys):
    from ai_edge_litert.interpreter import Interpreter
    import tensorflow as tf

    code, out, err = _cli(capsys, "export", run, "--format", "tflite", "--quantize", "int8")
    assert code == 0, err
    assert "float SavedModel" in out and "TFLite int8" in out and "top-1 agreement" in out
    report = json.loads((run / "export_report.json").read_text())["exports"]["model_int8.tflite"]
    rep = report["representative"]
    assert rep["n"] == 100 and sum(rep["per_class"].values()) == 100 and len(set(rep["indices"])) == 100
    assert max(rep["per_class"].values()) - min(rep["per_class"].values()) <= 1  # 40 training examples per class

    xs, ys = _val_examples(run)
    runner = Interpreter(model_path=str(run / "model_int8.tflite")).get_signature_runner("serving_pixels")
    fn = tf.saved_model.load(str(run / "model")).signatures["serving_pixels"]
    q_scores = np.concatenate([runner(pixels=x.astype(np.float32))["scores"] for x in xs])
    f_scores = np.concatenate([fn(pixels=tf.constant(x))["scores"].numpy() for x in xs])
    q, f = q_scores.argmax(1), f_scores.argmax(1)
    # int8 keeps the model: its scores stay near the float ones (0-255 pixels quantized with one scale that
    # fits them; a data-dependent 0-255 / 0-1 guess in the graph once saturated every pixel at 1)
    assert np.abs(q_scores - f_scores).mean() < 0.05 and np.mean(f == q) >= 0.9
    assert report["n_examples"] == len(ys) == 30
    assert report["float"]["accuracy"] == pytest.approx(np.mean(f == ys))
    assert report["tflite"]["accuracy"] == pytest.approx(np.mean(q == ys))
    assert report["drop"] == pytest.approx(np.mean(f == ys) - np.mean(q == ys))
    assert report["agreement_top1"] == pytest.approx(np.mean(f == q))
    assert report["tflite"]["size_bytes"] == (run / "model_int8.tflite").stat().st_size
    assert report["tflite"]["size_bytes"] < 0.5 * report["float"]["size_bytes"]
    assert report["tflite"]["runtime"] == "ai-edge-litert" and report["tflite"]["ms_per_example"] > 0


def test_int8_full_has_integer_kernels_only(run, capsys, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    code, _, err = _cli(capsys, "export", run, "--format", "tflite", "--quantize", "int8-full",
                        "--out", tmp_path / "full.tflite")
    assert code == 0, err
    interp = Interpreter(model_path=str(tmp_path / "full.tflite"))
    ops = {d["op_name"] for d in interp._get_ops_details()}  # noqa: SLF001
    assert "CONV_2D" in ops and "QUANTIZE" in ops and "DEQUANTIZE" in ops
    convs = [d for d in interp._get_ops_details() if d["op_name"] == "CONV_2D"]  # noqa: SLF001
    tensors = {t["index"]: t for t in interp.get_tensor_details()}
    assert convs and all(tensors[c["inputs"][0]]["dtype"] == np.int8 for c in convs)


def test_max_drop_refuses_and_leaves_nothing(run, capsys, monkeypatch, tmp_path):
    import zoo.runs

    real = zoo.runs.quantization_report

    def worse(*a, **kw):  # the measured report, with the quantized accuracy 5 points lower
        r = real(*a, **kw)
        r["tflite"]["accuracy"] -= 0.05
        r["drop"] += 0.05
        return r

    monkeypatch.setattr(zoo.runs, "quantization_report", worse)
    before = sorted(p.name for p in run.iterdir())
    report_before = (run / "export_report.json").read_bytes() if (run / "export_report.json").exists() else None
    code, out, err = _cli(capsys, "export", run, "--format", "tflite", "--quantize", "dynamic", "--max-drop", "0.01")
    assert code != 0 and "more than --max-drop 0.01" in err and "nothing was written" in err
    assert sorted(p.name for p in run.iterdir()) == before  # no model_dynamic.tflite, no temporary file
    assert ((run / "export_report.json").read_bytes() if report_before is not None else None) == report_before
    monkeypatch.setattr(zoo.runs, "quantization_report", real)
    code, out, err = _cli(capsys, "export", run, "--format", "tflite", "--quantize", "dynamic", "--max-drop", "0.5")
    assert code == 0 and (run / "model_dynamic.tflite").exists(), err


def test_max_drop_needs_the_report(run, capsys):
    code, _, err = _cli(capsys, "export", run, "--format", "tflite", "--max-drop", "0.01", "--no-report")
    assert code == 2 and "--max-drop" in err
    code, _, err = _cli(capsys, "export", run, "--format", "tflite", "--max-drop", "3")
    assert code == 2 and "[0, 1]" in err
