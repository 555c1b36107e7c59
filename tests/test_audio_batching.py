"""The batched one-call path for framed audio modules (`zoo.audio_batching`).

Parameters come from the registry: every audio backbone that declares
``frame_window`` / ``frame_hop`` must give, through one module call per batch,
the embeddings that one call per clip gives; a wrong declaration must be caught
on load (FramingWarning) and fall back to per-clip calls.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import zoo
from zoo.errors import InvalidSpecError, RegistryFileError
from tests.helpers import install

FRAMED = [s.name for s in zoo.list_backbones() if s.modality == "audio" and s.frame_window is not None]
AUDIO = [s.name for s in zoo.list_backbones() if s.modality == "audio"]


def _waves(n: int, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    t = np.arange(int(seconds * 16000)) / 16000.0
    tones = np.sin(2 * np.pi * rng.uniform(200, 2000, (n, 1)) * t)
    return (0.3 * tones + 0.05 * rng.standard_normal((n, t.size))).astype(np.float32)


def test_yamnet_and_the_starter_declare_framing():
    assert {"yamnet", "starter_audio"} <= set(FRAMED)
    y = zoo.get("yamnet")
    assert (y.frame_window, y.frame_hop) == (0.975, 0.48)  # 96 STFT frames of 25 ms every 10 ms, 0.48 s hop


@pytest.mark.parametrize("name", FRAMED)
@pytest.mark.parametrize("seconds", [0.3, 1.0, 2.3])
def test_framed_path_equals_one_call_per_clip(name, seconds):
    from zoo import audio_batching as ab

    spec = install(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ab.FramingWarning)
        bb = zoo.load_backbone(spec)
    assert bb._framing == ab.framing_samples(spec.frame_window, spec.frame_hop, spec.sample_rate)
    waves = _waves(3, seconds)
    got = bb(waves).numpy()
    want = ab.per_clip(bb._audio_obj, waves, spec.output_key, spec.output_dim).numpy()
    assert got.shape == (3, spec.output_dim)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    # different clips give different embeddings: clips do not leak into each other's frames
    assert np.abs(got[0] - got[1]).max() > 1e-3


@pytest.mark.parametrize("window, hop", [(0.96, 0.48), (0.975, 0.24), (2.0, 1.0)])
def test_wrong_framing_is_caught_on_load_and_falls_back(window, hop):
    from zoo import audio_batching as ab

    spec = install("yamnet").replace(frame_window=window, frame_hop=hop)
    with pytest.warns(ab.FramingWarning, match=r"yamnet.*frame_window/frame_hop.*one module call per clip"):
        bb = zoo.load_backbone(spec)
    assert bb._framing is None
    waves = _waves(2, 1.7, seed=1)
    want = ab.per_clip(bb._audio_obj, waves, spec.output_key, spec.output_dim).numpy()
    np.testing.assert_array_equal(bb(waves).numpy(), want)


@pytest.mark.parametrize("length, frames, stride", [(100, 1, 3), (15600, 1, 3), (15601, 2, 4), (16000, 2, 4),
                                                   (160000, 20, 22)])
def test_clip_layout(length, frames, stride):
    from zoo.audio_batching import clip_layout

    assert clip_layout(length, 15600, 7680) == (frames, stride)
    # the frames a clip keeps end inside its own stretch of the concatenated waveform
    assert 15600 + (frames - 1) * 7680 <= stride * 7680 < 15600 + (frames - 1) * 7680 + 7680


@pytest.mark.parametrize("changes, match", [
    ({"frame_window": 0.975}, "both 'frame_window' and 'frame_hop'"),
    ({"frame_window": 0.975, "frame_hop": 0.0}, "'frame_hop' must be a positive number"),
    ({"frame_window": "1", "frame_hop": 0.48}, "'frame_window' must be a positive number"),
    ({"frame_window": 0.975, "frame_hop": 0.48003}, "whole number of samples"),
])
def test_framing_fields_are_validated(changes, match):
    base = dict(name="a", modality="audio", handle="/m", output_dim=8)
    with pytest.raises(InvalidSpecError, match=match):
        zoo.BackboneSpec(**base, **changes)
    with pytest.raises(InvalidSpecError, match="for audio backbones only"):
        zoo.BackboneSpec(name="v", modality="text", handle="/m", output_dim=8, frame_window=1.0, frame_hop=0.5)


def test_framing_fields_in_user_toml():
    from zoo.catalogue import parse_registry_text, spec_from_entry

    entry = parse_registry_text('[a]\nmodality = "audio"\nhandle = "/m"\noutput_dim = 8\nframe_window = 1\n'
                                'frame_hop = 0.5\n', "r.toml")["a"]
    spec = spec_from_entry("a", entry, source="r.toml")
    assert (spec.frame_window, spec.frame_hop) == (1.0, 0.5)
    with pytest.raises(RegistryFileError, match="frame_hop"):
        parse_registry_text('[a]\nframe_hop = "0.5"\n', "r.toml")
