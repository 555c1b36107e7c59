"""The batched-audio family (TRILLsson: ``[B, T]`` 16 kHz -> ``{"embedding": [B, D]}``) end to end:
build, fit, freeze, export with its serving signature, TFLite and ``zoo predict``.

The family is one contract file (`zoo/contracts/batched_audio.py`) plus registry entries;
this test checks that everything else works for it unchanged.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from helpers import backbone_variables, changed, install, snapshot
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
import zoo.data as zd
from zoo.cli import main
from zoo.tfk import tf

NAME = "trillsson3"


def _waves(n=8, seconds=1.0, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    freqs = np.array([220.0, 3000.0])[np.arange(n) % 2]
    x = 0.4 * np.sin(2 * np.pi * freqs[:, None] * t[None]) + 0.05 * rng.randn(n, t.size)
    return np.clip(x, -1, 1).astype(np.float32), (np.arange(n) % 2).astype(np.int64)


def test_contract_and_entries():
    spec = zoo.get(NAME)
    from zoo.models.contracts import contract_for

    assert contract_for(spec).name == "batched_audio"
    assert {s.name for s in zoo.list_backbones(pattern="trillsson*")} == {f"trillsson{i}" for i in range(1, 6)}


def test_build_fit_freeze_predict():
    spec = install(NAME)
    x, y = _waves()
    bb = zoo.load_backbone(NAME)
    emb = bb(x).numpy()
    assert emb.shape == (8, 1024) and np.abs(emb[0] - emb[1]).max() > 1e-4
    np.testing.assert_allclose(bb(x[:1]).numpy(), emb[:1], rtol=1e-5, atol=1e-6)  # one call per batch, no leaks
    model = zoo.build(NAME, task="classification", num_classes=4, freeze="full", learning_rate=1e-3)
    variables = backbone_variables(model)
    before = snapshot(variables)
    zoo.fit(model, (x, y), epochs=1, batch_size=4, verbose=0)
    assert changed(before, variables) == set(variables)  # every module variable trained
    assert model.predict(x, verbose=0).shape == (8, 4)
    frozen = zoo.build(spec.name, task="classification", num_classes=4)
    variables = backbone_variables(frozen)
    before = snapshot(variables)
    zoo.fit(frozen, (x, y), epochs=2, batch_size=4, verbose=0)
    assert changed(before, variables) == set()


def test_export_serving_signature_tflite_and_cli_predict(tmp_path, capsys):
    install(NAME)
    data = zd.make_synthetic_folder(tmp_path / "data", "audio", n_per_class=4, classes=["low", "high"], seed=1)
    run = tmp_path / "run"
    assert main(["train", NAME, "--task", "classification", "--data", str(data), "--out", str(run),
                 "--epochs", "1", "--batch-size", "4"]) == 0
    meta = json.loads((run / "model" / "assets.extra" / "zoo_export.json").read_text())
    assert meta["contract"] == "batched_audio"
    loaded = tf.saved_model.load(str(run / "model"))
    sig = loaded.signatures["serving_default"]
    assert set(sig.structured_input_signature[1]) == {"waveforms"}
    x, _ = _waves(2)
    scores = sig(waveforms=tf.constant(x))["scores"].numpy()
    assert scores.shape == (2, 2) and np.allclose(scores.sum(1), 1.0, atol=1e-5)
    capsys.readouterr()
    assert main(["export", str(run), "--format", "tflite"]) == 0
    out = capsys.readouterr().out
    assert (run / "model.tflite").stat().st_size > 0 and "max |score difference|" in out, out
    wav = sorted((data / "high").iterdir())[0]
    assert main(["predict", str(run), str(wav), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result[0]["predictions"][0]["label"] in ("low", "high")
    want = sig(waveforms=tf.constant(zd.read_wav(wav, 16000)[None]))["scores"].numpy()[0]
    got = {p["label"]: p["score"] for p in result[0]["predictions"]}
    assert got["high"] == pytest.approx(float(want[meta["class_names"].index("high")]), abs=1e-5)
