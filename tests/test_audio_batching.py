"""Audio backbones run a whole batch in one graph (`zoo.models._audio_batching`).

Parameters come from the registry: for every audio backbone the vectorised path
must give the embeddings that one module call per clip gives, in graph mode
(inside a model) and eagerly, for short, 1 s and long clips.
"""

from __future__ import annotations

import numpy as np
import pytest

import zoo
from zoo.models.contracts import contract_for
from zoo.tfk import tf
from tests.helpers import install

# one-clip-per-call modules, which zoo vectorises over the batch (zoo.models._audio_batching)
AUDIO = [s.name for s in zoo.list_backbones() if contract_for(s).name == "framed_audio"]


def _waves(n: int, seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.RandomState(seed)
    t = np.arange(int(seconds * 16000)) / 16000.0
    tones = np.sin(2 * np.pi * rng.uniform(200, 2000, (n, 1)) * t)
    return (0.3 * tones + 0.05 * rng.standard_normal((n, t.size))).astype(np.float32)


def _one_call_per_clip(bb, waves):
    from zoo.models import clip_embedding

    spec = bb.spec
    return np.stack([clip_embedding(bb._audio_obj, tf.constant(w), spec.output_key, spec.output_dim).numpy()
                     for w in waves])


@pytest.mark.parametrize("name", AUDIO)
@pytest.mark.parametrize("seconds", [0.3, 1.0, 2.3])
def test_batched_path_equals_one_call_per_clip(name, seconds):
    spec = install(name)
    bb = zoo.load_backbone(spec)
    waves = _waves(3, seconds)
    want = _one_call_per_clip(bb, waves)
    eager = bb(waves).numpy()
    graph = tf.function(lambda w: bb(w))(tf.constant(waves)).numpy()
    assert eager.shape == graph.shape == (3, spec.output_dim)
    tol = 1e-5 * max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(eager, want, rtol=1e-5, atol=tol)
    np.testing.assert_allclose(graph, want, rtol=1e-5, atol=tol)
    assert np.abs(eager[0] - eager[1]).max() > 1e-4  # clips do not leak into each other


def test_eager_calls_reuse_one_traced_function():
    from zoo.models.contracts.framed_audio import _EAGER as _EAGER_AUDIO

    bb = zoo.load_backbone(install("yamnet"))
    for n in (2, 3, 5):
        assert bb(_waves(n, 1.0)).shape == (n, 1024)
    fn = _EAGER_AUDIO[bb]
    assert fn.experimental_get_tracing_count() <= 2  # reduce_retracing: batch size becomes None


def test_module_that_cannot_be_vectorised_falls_back_to_per_clip(monkeypatch):
    from zoo.models import _audio_batching as audio_batching

    def refuse(*args, **kwargs):
        raise ValueError("pfor cannot convert this op")

    monkeypatch.setattr(audio_batching.tf, "vectorized_map", refuse)
    bb = zoo.load_backbone(install("yamnet"))
    waves = _waves(2, 1.2, seed=3)
    from zoo.models import InputWarning

    with pytest.warns(InputWarning, match=r"'yamnet' cannot be vectorised.*ValueError: pfor cannot convert"):
        got = tf.function(lambda w: audio_batching.batched(bb._audio_obj, w, "embeddings", 1024, "yamnet"))(
            tf.constant(waves))
    np.testing.assert_allclose(got.numpy(), _one_call_per_clip(bb, waves), rtol=1e-5, atol=1e-5)
