"""The windowed audio contract (google/bird-vocalization-classifier): 5 s windows at 32 kHz through
``infer_tf``, mean-pooled per clip; files at another rate are resampled; frozen use only."""

from __future__ import annotations

import wave

import numpy as np
import pytest
from helpers import install
from helpers import seeded  # noqa: F401  (autouse fixture: fixed seeds)

import zoo
from zoo.errors import ZooError
from zoo.tfk import tf


def _clip(seconds: float, rate: int, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_clip_embedding_is_the_mean_of_its_5_s_windows_through_infer_tf():
    spec = install("bird_vocalization")
    bb = zoo.load_backbone(spec)
    clip = _clip(7.0, 32000)  # two windows: 0-5 s and 5-7 s zero-padded to 5 s
    out = bb(clip[None]).numpy()
    module = bb.module._func.module  # the loaded SavedModel: no __call__, only infer_tf
    assert not callable(module)
    padded = np.zeros(10 * 32000, np.float32)
    padded[: clip.size] = clip
    _, emb = module.infer_tf(tf.constant(padded.reshape(2, 5 * 32000)))
    np.testing.assert_allclose(out[0], emb.numpy().mean(axis=0), rtol=1e-5, atol=1e-6)
    short = bb(_clip(1.0, 32000)[None]).numpy()  # shorter than a window: one zero-padded window
    assert short.shape == (1, spec.output_dim) and np.abs(short - out).max() > 1e-4


def test_a_16_khz_file_is_resampled_to_the_entry_rate(tmp_path):
    spec = install("bird_vocalization")
    for hz in (16000, 32000):
        with wave.open(str(tmp_path / f"{hz}.wav"), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(hz)
            w.writeframes((_clip(2.0, hz) * 32767).astype("<i2").tobytes())
    low, high = (zoo.data.read_wav(tmp_path / f"{hz}.wav", spec.sample_rate) for hz in (16000, 32000))
    assert low.shape == high.shape == (64000,)
    bb = zoo.load_backbone(spec)
    a, b = bb(low[None]).numpy(), bb(high[None]).numpy()
    assert np.abs(a - b).max() < 0.05 * np.abs(b).max()  # the same tone, whatever the file's rate


def test_fine_tuning_is_refused_with_the_reason():
    install("bird_vocalization")
    with pytest.raises(ZooError, match="not fine-tunable|fine_tunable"):
        zoo.build("bird_vocalization", task="classification", num_classes=3, freeze="full")
