"""End-to-end tests of the heavy CLI: train / evaluate / predict / export / cache / demo (offline, starter backbones).

Runs the CLI in-process through ``zoo.cli.main`` (one subprocess, for the kill-and-resume
test). Training sets are tiny, so accuracy is only asserted where the task is easy
(the demo); elsewhere the tests check files, values and consistency.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import zoo

import zoo.data as zd
from zoo.cli import main

pytestmark = pytest.mark.slow  # trains real (tiny) TF graphs

PNG = b"\x89PNG\r\n\x1a\n"
CLASSES = ["a", "b", "c"]


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """``main(argv)`` -> (status, stdout, stderr)."""
    capsys.readouterr()
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one stderr line, got: {err!r}"
    assert lines[0].startswith("zoo: error: "), lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("e2e-data")
    return {m: zd.make_synthetic_folder(root / m, m, n_per_class=8, seed=3) for m in ("vision", "text", "audio")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e-runs")


def _check_run(run: Path, *, epochs: int, n_examples: int) -> dict:
    for name in ("run.json", "labels.txt", "metrics.json", "training_curve.png", "model/saved_model.pb"):
        assert (run / name).exists(), name
    assert (run / "labels.txt").read_text() == "a\nb\nc\n"
    assert (run / "training_curve.png").read_bytes()[:8] == PNG
    info = json.loads((run / "run.json").read_text())
    assert info["status"] == "finished" and info["class_names"] == CLASSES
    metrics = json.loads((run / "metrics.json").read_text())
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert metrics["epochs"] == epochs and len(metrics["history"]["loss"]) == epochs
    assert all(np.isfinite(metrics["history"]["loss"]))
    assert metrics["data"]["n_train"] + metrics["data"]["n_val"] == n_examples
    assert metrics["data"]["class_counts"] == {c: n_examples // 3 for c in CLASSES}
    assert metrics["pretrained"] is False
    ckpts = sorted(p.name for p in (run / "checkpoints").iterdir())
    assert ckpts == [f"epoch-{e:04d}" for e in range(max(1, epochs - 1), epochs + 1)]  # the last two, complete
    assert not [p for p in run.iterdir() if ".tmp-" in p.name]
    return metrics


def _restore_in_memory(run: Path):
    """Rebuild the run's model and restore its last checkpoint (the in-memory model training ended with)."""
    import zoo
    from zoo.runs import RunDir, restore_weights

    rd = RunDir(run)
    cfg = rd.read_config()
    model = zoo.build(cfg.backbone, task=cfg.task, num_classes=3, learning_rate=cfg.learning_rate)
    restore_weights(model.variables, rd.latest_checkpoint())
    return model


# --------------------------------------------------------------------------- train, all modalities


@pytest.fixture(scope="module")
def text_run(data, runs) -> Path:
    out = runs / "text"
    code = main(["train", "starter_text", "--data", str(data["text"]), "--schedule", "frozen:2@1e-2,top:1:1@1e-3",
                 "--val-split", "0.25", "--batch-size", "8", "--out", str(out), "-q"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def vision_run(data, runs) -> Path:
    out = runs / "vision"
    code = main(["train", "starter_cnn", "--data", str(data["vision"]), "--epochs", "2", "--learning-rate", "0.01",
                 "--batch-size", "8", "--out", str(out), "-q"])
    assert code == 0
    return out


@pytest.fixture(scope="module")
def audio_run(data, runs) -> Path:
    out = runs / "audio"
    code = main(["train", "starter_audio", "--data", str(data["audio"]), "--epochs", "2", "--learning-rate", "0.01",
                 "--batch-size", "8", "--val-split", "0", "--out", str(out), "-q"])
    assert code == 0
    return out


def test_train_text_with_schedule(text_run):
    m = _check_run(text_run, epochs=3, n_examples=24)
    assert m["data"]["n_val"] == 6 and "val_accuracy" in m["history"]
    assert m["accuracy_split"] == "val"
    assert json.loads((text_run / "run.json").read_text())["config"]["schedule"] == "frozen:2@1e-2,top:1:1@1e-3"


def test_train_vision(vision_run):
    _check_run(vision_run, epochs=2, n_examples=24)


def test_train_audio_without_validation(audio_run):
    m = _check_run(audio_run, epochs=2, n_examples=24)
    assert m["data"]["n_val"] == 0 and m["accuracy_split"] == "train"


# --------------------------------------------------------------------------- exported signatures


def test_serving_signature_takes_raw_inputs_and_matches_in_memory(vision_run, text_run, audio_run, data):
    import tensorflow as tf

    from zoo.export import load_model

    # vision: encoded PNG/JPEG bytes, decoded and resized inside
    files = sorted(data["vision"].glob("*/*"))[:4]
    loaded = load_model(vision_run / "model")
    got = loaded.signatures["serving_default"](images=tf.constant([f.read_bytes() for f in files]))
    pixels = tf.stack([tf.clip_by_value(tf.image.resize(tf.io.decode_image(f.read_bytes(), channels=3,
                                                                          expand_animations=False),
                                                        (64, 64), antialias=True), 0, 255) for f in files])
    want = _restore_in_memory(vision_run)(pixels, training=False).numpy()
    np.testing.assert_allclose(got["scores"].numpy(), want, atol=1e-4)
    np.testing.assert_allclose(got["scores"].numpy().sum(axis=1), 1.0, atol=1e-5)
    labels = [[s.decode() for s in row] for row in got["top_labels"].numpy()]
    assert labels[0][0] == CLASSES[int(want[0].argmax())] and len(labels[0]) == 3
    same = loaded.signatures["serving_pixels"](pixels=tf.cast(pixels, tf.float32))["scores"].numpy()
    np.testing.assert_allclose(same, want, atol=1e-4)
    assert [s.decode() for s in loaded.labels().numpy()] == CLASSES

    # text: strings
    texts = ["Today sunny and warm, really bright.", "gloomy wet day", ""]
    got = load_model(text_run / "model").signatures["serving_default"](text=tf.constant(texts))["scores"].numpy()
    want = _restore_in_memory(text_run)(tf.constant(texts), training=False).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)

    # audio: float32 waveforms [B, T] at 16 kHz
    wave = zd.read_wav(sorted(data["audio"].glob("b/*.wav"))[0], 16000)[None]
    got = load_model(audio_run / "model").signatures["serving_default"](waveforms=tf.constant(wave))["scores"].numpy()
    want = _restore_in_memory(audio_run)(wave, training=False).numpy()
    np.testing.assert_allclose(got, want, atol=1e-5)


# --------------------------------------------------------------------------- resume


def test_interrupt_and_resume_continues_history(data, runs, capsys, monkeypatch):
    out = runs / "resume"
    args = ["train", "starter_text", "--data", data["text"], "--schedule", "frozen:2@1e-2,top:1:1@1e-3",
            "--batch-size", "8", "--out", out, "-q"]
    from zoo.runs import RunDir

    save = RunDir.save_checkpoint

    def save_then_interrupt(self, objects, *, epoch, **kw):  # Ctrl-C right after epoch 1's checkpoint
        save(self, objects, epoch=epoch, **kw)
        if epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunDir, "save_checkpoint", save_then_interrupt)
    code, _, err = run_cli(capsys, *args)
    assert code == 130 and "interrupted" in err
    assert [p.name for p in (out / "checkpoints").iterdir() if not p.name.startswith(".")] == ["epoch-0001"]
    assert not (out / "model").exists()
    assert json.loads((out / "run.json").read_text())["status"] == "running"
    first = json.loads((out / "checkpoints" / "epoch-0001" / "state.json").read_text())["history"]
    monkeypatch.setattr(RunDir, "save_checkpoint", save)

    code, _, err = run_cli(capsys, *args)  # neither --resume nor --force: refused
    assert code == 2 and "--resume" in one_line_error(err)

    code, out_text, _ = run_cli(capsys, "train", "--resume", "--out", out, "-q")
    assert code == 0 and "resuming" in out_text
    m = json.loads((out / "metrics.json").read_text())
    assert m["resumed_from_epoch"] == 1 and m["optimizer_restored"] is True
    assert m["epochs"] == 3 and len(m["history"]["loss"]) == 3
    assert m["history"]["loss"][0] == pytest.approx(first["loss"][0])
    _check_run(out, epochs=3, n_examples=24)

    code, out_text, _ = run_cli(capsys, "train", "--resume", "--out", out)
    assert code == 0 and "already finished" in out_text


def test_kill_mid_training_then_resume(data, runs, capsys):
    out = runs / "killed"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    cmd = [sys.executable, "-m", "zoo", "train", "starter_text", "--data", str(data["text"]), "--epochs", "40",
           "--learning-rate", "0.01", "--batch-size", "2", "--out", str(out), "-q"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            if (out / "checkpoints" / "epoch-0001" / "state.json").exists():
                break
            time.sleep(0.02)
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stderr.close()
    done = [json.loads((p / "state.json").read_text())["epoch"] for p in (out / "checkpoints").glob("epoch-*")]
    assert done and max(done) < 40  # every visible checkpoint is complete
    assert not (out / "model").exists() or (out / "model" / "saved_model.pb").exists()
    code, _, _ = run_cli(capsys, "train", "--resume", "--out", out)
    assert code == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["resumed_from_epoch"] == max(done) and len(m["history"]["loss"]) == 40


# --------------------------------------------------------------------------- evaluate / predict


def test_evaluate_writes_confusion_matrix_and_per_class_metrics(text_run, data, capsys, tmp_path):
    code, out, _ = run_cli(capsys, "evaluate", text_run, "--data", data["text"], "--json")
    assert code == 0
    report = json.loads(out)
    assert report["n_examples"] == 24 and 0 <= report["accuracy"] <= 1
    assert [c["class"] for c in report["per_class"]] == CLASSES
    assert all({"precision", "recall", "f1", "support"} <= set(c) for c in report["per_class"])
    cm = np.array(report["confusion_matrix"])
    assert cm.shape == (3, 3) and cm.sum() == 24 and (cm.sum(axis=1) == 8).all()
    assert report["accuracy"] == pytest.approx(np.trace(cm) / 24)
    assert (text_run / "confusion_matrix.png").read_bytes()[:8] == PNG

    png = tmp_path / "cm.png"
    code, out, _ = run_cli(capsys, "evaluate", text_run, "--data", data["text"], "--out", png)
    assert code == 0 and png.read_bytes()[:8] == PNG
    assert "precision" in out and "accuracy" in out and all(c in out for c in CLASSES)


def test_predict_json_top_k(text_run, vision_run, audio_run, data, capsys):
    code, out, _ = run_cli(capsys, "predict", text_run, "sunny warm bright day", "a gloomy rainy evening",
                           "--top-k", "2", "--json")
    assert code == 0
    res = json.loads(out)
    assert [r["input"] for r in res] == ["sunny warm bright day", "a gloomy rainy evening"]
    for r in res:
        scores = [p["score"] for p in r["predictions"]]
        assert len(scores) == 2 and scores == sorted(scores, reverse=True) and sum(scores) <= 1 + 1e-6
        assert {p["label"] for p in r["predictions"]} <= set(CLASSES)

    img = sorted(data["vision"].glob("c/*.png"))[0]
    wav = sorted(data["audio"].glob("a/*.wav"))[0]
    for run, item in ((vision_run, img), (audio_run, wav)):
        code, out, _ = run_cli(capsys, "predict", run, item, "--json", "--top-k", "5")
        assert code == 0
        (r,) = json.loads(out)
        assert len(r["predictions"]) == 3  # top-k capped at the number of classes
        assert sum(p["score"] for p in r["predictions"]) == pytest.approx(1.0, abs=1e-4)

    code, out, _ = run_cli(capsys, "predict", text_run, "bright and warm")
    assert code == 0 and "NOT pretrained" in out and "->" in out

    code, _, err = run_cli(capsys, "predict", vision_run, "no_such_image.png")
    assert code == 2 and "no_such_image.png" in one_line_error(err)


# --------------------------------------------------------------------------- export


def test_export_savedmodel_and_tflite(vision_run, text_run, capsys, tmp_path):
    import tensorflow as tf

    code, out, _ = run_cli(capsys, "export", vision_run, "--format", "savedmodel", "--out", tmp_path / "sm")
    assert code == 0 and "serving_default(images: string[None])" in out
    loaded = tf.saved_model.load(str(tmp_path / "sm"))
    png = tf.io.encode_png(tf.zeros([10, 10, 3], tf.uint8))
    assert loaded.signatures["serving_default"](images=tf.reshape(png, [1]))["scores"].shape == (1, 3)

    code, out, err = run_cli(capsys, "export", vision_run, "--format", "tflite", "--out", tmp_path / "v.tflite")
    assert code == 0, err
    interp = tf.lite.Interpreter(model_path=str(tmp_path / "v.tflite"))
    runner = interp.get_signature_runner("serving_pixels")
    x = np.random.default_rng(1).uniform(0, 255, (1, 64, 64, 3)).astype(np.float32)
    want = tf.saved_model.load(str(vision_run / "model")).signatures["serving_pixels"](pixels=x)["scores"].numpy()
    np.testing.assert_allclose(runner(pixels=x)["scores"], want, atol=1e-4)

    code, _, err = run_cli(capsys, "export", text_run, "--format", "tflite", "--out", tmp_path / "t.tflite")
    assert code == 2
    line = one_line_error(err)
    assert "StringToHashBucketFast" in line and "--select-tf-ops" in line
    assert not (tmp_path / "t.tflite").exists()

    code, _, err = run_cli(capsys, "export", vision_run, "--format", "savedmodel", "--quantize", "int8")
    assert code == 2 and "tflite" in one_line_error(err)


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("case", ["missing_data", "unknown_backbone", "val_split", "empty_folder", "one_class",
                                  "bad_schedule", "freeze_too_deep", "epochs_and_schedule", "no_name",
                                  "resume_nothing", "evaluate_not_a_run", "regression_task", "csv_flag_on_folder"])
def test_bad_input_is_one_line_exit_2(case, data, tmp_path, capsys):
    empty = tmp_path / "empty"
    (empty / "x").mkdir(parents=True)
    (empty / "y").mkdir()
    one = tmp_path / "one"
    (one / "x").mkdir(parents=True)
    (one / "x" / "a.txt").write_text("hi")
    t = str(data["text"])
    argv = {
        "missing_data": ["train", "starter_text", "--data", tmp_path / "nope"],
        "unknown_backbone": ["train", "starter_txet", "--data", t],
        "val_split": ["train", "starter_text", "--data", t, "--val-split", "2"],
        "empty_folder": ["train", "starter_text", "--data", empty],
        "one_class": ["train", "starter_text", "--data", one],
        "bad_schedule": ["train", "starter_text", "--data", t, "--schedule", "frozen@1e-3"],
        "freeze_too_deep": ["train", "starter_text", "--data", t, "--freeze", "top:99"],
        "epochs_and_schedule": ["train", "starter_text", "--data", t, "--epochs", "2", "--schedule", "frozen:1"],
        "no_name": ["train", "--data", t],
        "resume_nothing": ["train", "--resume", "--out", tmp_path / "none"],
        "evaluate_not_a_run": ["evaluate", tmp_path, "--data", t],
        "regression_task": ["train", "starter_text", "--task", "regression", "--data", t],
        "csv_flag_on_folder": ["train", "starter_text", "--data", t, "--csv-text-column", "review"],
    }[case]
    code, out, err = run_cli(capsys, *argv, "--out", tmp_path / "run") if argv[0] == "train" and "--out" not in argv \
        else run_cli(capsys, *argv)
    assert code == 2
    line = one_line_error(err)
    assert "Traceback" not in err and out == ""
    expected = {"missing_data": "does not exist", "unknown_backbone": "starter_txet", "val_split": "val-split",
                "empty_folder": "empty", "one_class": "class", "bad_schedule": "FREEZE:EPOCHS",
                "freeze_too_deep": "top:99", "epochs_and_schedule": "not both", "no_name": "NAME",
                "resume_nothing": "nothing to resume", "evaluate_not_a_run": "run.json",
                "regression_task": "regression", "csv_flag_on_folder": "csv"}[case]
    assert expected in line
    assert not (tmp_path / "run" / "model").exists()


def test_help_has_examples(capsys):
    for command in ("train", "evaluate", "predict", "export", "cache", "demo"):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        assert "examples:" in capsys.readouterr().out


def test_heavy_parser_does_not_import_tensorflow():
    code = ("import sys; from zoo.cli import build_parser; build_parser(); "
            "from zoo.cli import main; main(['list']); assert 'tensorflow' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)


def test_cache_commands(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("TFHUB_CACHE_DIR", str(tmp_path / "hub"))  # independent of what other tests cached
    code, out, _ = run_cli(capsys, "cache", "ls")
    assert code == 0 and out.startswith("cache ")
    code, out, _ = run_cli(capsys, "cache", "verify", "mobilenet_v2", "--no-load")
    assert code == 1 and "failed" in out
    from zoo.testing import install_in_hub_cache

    install_in_hub_cache(zoo.get("mobilenet_v2"), tmp_path / "hub")
    code, out, _ = run_cli(capsys, "cache", "verify", "mobilenet_v2")
    assert code == 0 and "failed" not in out.lower().replace("0 failed", "")
    code, out, _ = run_cli(capsys, "cache", "ls")
    assert code == 0 and "mobilenet_v2" in out
    code, _, err = run_cli(capsys, "cache", "clear")
    assert code == 2 and "--all" in one_line_error(err)


# --------------------------------------------------------------------------- demo


def test_demo_quick_learns_every_modality(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "demo", "--quick", "--out", tmp_path, "--json")
    assert code == 0
    report = json.loads(out)
    assert report["ok"] and report["quick"]
    assert [r["modality"] for r in report["modalities"]] == ["vision", "text", "audio"]
    for r in report["modalities"]:
        assert r["pretrained"] is False
        assert r["test_accuracy"] >= 0.8, r
        assert r["test_examples"] == 30
        assert sum(p["predicted"] == p["true"] for p in r["predictions"]) >= 2
        assert Path(r["model"], "saved_model.pb").exists()
        assert Path(r["files"]["confusion_matrix"]).read_bytes()[:8] == PNG
