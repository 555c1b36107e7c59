"""The batched speech families end to end: build, fit, freeze, export with its serving
signature, TFLite and ``zoo predict``.

* TRILLsson (``[B, T]`` 16 kHz -> ``{"embedding": [B, D]}``): `zoo/models/contracts/batched_audio.py`;
* TRILL v3 (``module(samples=[B, T], sample_rate=16000)`` -> per-frame ``{"embedding": [B, N, D]}``,
  averaged per clip): `zoo/models/contracts/speech_frames.py`.

Each family is one contract file plus registry entries; these tests check that everything
else works for it unchanged.
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

CASES = {"trillsson3": ("batched_audio", 1024), "trill": ("speech_frames", 512),
         "trill_distilled": ("speech_frames", 2048)}


def _waves(n=8, seconds=1.0, seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(int(16000 * seconds)) / 16000
    freqs = np.array([220.0, 3000.0])[np.arange(n) % 2]
    x = 0.4 * np.sin(2 * np.pi * freqs[:, None] * t[None]) + 0.05 * rng.randn(n, t.size)
    return np.clip(x, -1, 1).astype(np.float32), (np.arange(n) % 2).astype(np.int64)


@pytest.mark.parametrize("name", sorted(CASES))
def test_contract_and_entries(name):
    from zoo.models.contracts import contract_for

    assert contract_for(zoo.get(name)).name == CASES[name][0]
    assert {s.name for s in zoo.list_backbones(pattern="trillsson*")} == {f"trillsson{i}" for i in range(1, 6)}
    assert {s.name for s in zoo.list_backbones(pattern="trill_*")} | {"trill"} <= {s.name for s in zoo.list_backbones(tag="speech")}


@pytest.mark.parametrize("name", sorted(CASES))
def test_build_fit_freeze_predict(name):
    NAME = name
    spec = install(NAME)
    x, y = _waves()
    bb = zoo.load_backbone(NAME)
    emb = bb(x).numpy()
    assert emb.shape == (8, CASES[name][1]) and np.abs(emb[0] - emb[1]).max() > 1e-4
    np.testing.assert_allclose(bb(x[:1]).numpy(), emb[:1], rtol=1e-5, atol=1e-6)  # one call per batch, no leaks
    model = zoo.build(NAME, task="classification", num_classes=4, freeze="full", learning_rate=1e-3)
    variables = backbone_variables(model)
    before = snapshot(variables)
    zoo.fit(model, (x, y), epochs=1, batch_size=4, verbose=0)
    unused = {v for v in variables if "layer19/" in v}  # TRILL's other output: no gradient through 'embedding'
    assert changed(before, variables) == set(variables) - unused  # every module variable on the path trained
    assert model.predict(x, verbose=0).shape == (8, 4)
    frozen = zoo.build(spec.name, task="classification", num_classes=4)
    variables = backbone_variables(frozen)
    before = snapshot(variables)
    zoo.fit(frozen, (x, y), epochs=2, batch_size=4, verbose=0)
    assert changed(before, variables) == set()


@pytest.mark.parametrize("name", ["trillsson3", "trill"])
def test_export_serving_signature_tflite_and_cli_predict(name, tmp_path, capsys):
    NAME = name
    install(NAME)
    data = zd.make_synthetic_folder(tmp_path / "data", "audio", n_per_class=4, classes=["low", "high"], seed=1)
    run = tmp_path / "run"
    assert main(["train", NAME, "--task", "classification", "--data", str(data), "--out", str(run),
                 "--epochs", "1", "--batch-size", "4"]) == 0
    meta = json.loads((run / "model" / "assets.extra" / "zoo_export.json").read_text())
    assert meta["contract"] == CASES[name][0]
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


def test_trill_is_called_at_16_khz_and_averages_its_frames():
    """The TRILL test module refuses any sample_rate but 16000 (as the exporter does) and returns one
    embedding per frame: the backbone's output is the mean of the module's frames."""
    install("trill")
    x, _ = _waves(2, seconds=0.5)
    bb = zoo.load_backbone("trill")
    frames = bb.module(tf.constant(x))  # the module call, as the contract makes it: sample_rate=16000
    assert frames.shape[0] == 2 and frames.shape[1] > 1 and frames.shape[2] == 512
    np.testing.assert_allclose(bb(x).numpy(), tf.reduce_mean(frames, axis=1).numpy(), rtol=1e-5, atol=1e-6)
