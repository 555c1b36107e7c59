"""Starter backbones: small real architectures with RANDOM weights, built locally.

They let ``zoo demo`` and offline trials run the whole path with no download:
``starter_cnn`` (vision), ``starter_text`` (text) and ``starter_audio`` (audio)
follow the same TF Hub calling contracts as MobileNet, USE and YAMNet. They are
NOT pretrained: random features plus a trained head learn simple, synthetic
problems (colours and shapes, keyword sentiment, tones), nothing more.

* ``starter_cnn``: ``m(images [B, 64, 64, 3] in [0, 1], training=False) -> [B, 64]``;
  four 3x3 conv blocks (three with stride 2) then a projection of average- and
  max-pooled features.
* ``starter_text``: ``m(strings [B]) -> [B, 64]``; lower-cased words and word bigrams
  hashed into two embedding tables, mean-pooled, two dense blocks.
* ``starter_audio``: ``m(waveform [T] 16 kHz) -> (scores [N, 521], embeddings [N, 64],
  log_mel [M, 64])`` like YAMNet: 0.96 s frames with 0.48 s hop, a real log-mel front
  end (25 ms window, 10 ms hop, 64 mel bands 125-7500 Hz), three conv blocks and a
  projection that also sees the frame's mean log-mel spectrum.

Every variable lives under ``block_<i>/`` (``i`` = 1..blocks, bottom first), so that
``freeze="top:K"`` trains exactly the top K blocks. Modules are written once under
``$ZOO_HOME/starters/NAME/vSTARTER_VERSION`` (atomically, under a file lock, so
concurrent processes do not race). Embeddings are standardised per example (zero
mean, unit variance), which keeps a freshly initialised head well conditioned.

Example:
    import zoo
    build_starter(zoo.get("starter_cnn")).name
    # -> 'v3'
"""

from __future__ import annotations

import fcntl
import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from zoo.atomic import storage_errors
from zoo.registry import BackboneSpec

__all__ = ["build_starter", "make_starter_module", "STARTER_VERSION", "AUDIO_NUM_CLASSES"]

STARTER_VERSION = "v3"
AUDIO_NUM_CLASSES = 521
_SEED = 1234


def build_starter(spec: BackboneSpec) -> Path:
    """Create the starter module at ``spec.handle`` if it is not there yet; return its path.

    Example:
        build_starter(zoo.get("starter_text")).parent.name
        # -> 'starter_text'
    """
    target = Path(spec.handle)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(str(target) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "saved_model.pb").exists():
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            with storage_errors(target, f"the starter backbone {spec.name!r}", "nothing was installed"):
                make_starter_module(spec, tmp / "module", seed=_SEED)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp / "module", target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def make_starter_module(spec: BackboneSpec, path: str | os.PathLike, *, seed: int = _SEED) -> Path:
    """Save the starter module for ``spec`` (by modality) as a TF-Hub-format SavedModel at ``path``.

    Example:
        import tempfile, zoo
        p = make_starter_module(zoo.get("starter_text"), tempfile.mkdtemp() + "/m")
        tf.saved_model.load(str(p))(tf.constant(["a good film"])).shape
        # -> TensorShape([1, 64])
    """
    import tensorflow as tf

    cls = {"vision": _vision_class, "text": _text_class, "audio": _audio_class}[spec.modality]()
    obj = cls(spec, seed)
    path = Path(path)
    tf.saved_model.save(obj, str(path))
    return path


# --------------------------------------------------------------------------- shared pieces


def _base() -> Any:
    import tensorflow as tf

    class StarterModule(tf.Module):
        """tf.Module exposing ``variables`` / ``trainable_variables`` / ``regularization_losses``
        as saved attributes (the reusable-SavedModel API that ``hub.KerasLayer`` reads)."""

        variables: Any = ()
        trainable_variables: Any = ()
        regularization_losses: Any = ()

        def __init__(self, spec: BackboneSpec, seed: int) -> None:
            super().__init__(name=spec.name)
            import numpy as np

            self._rng = np.random.RandomState(seed)
            self._created: list = []
            self._trainable = spec.fine_tunable

        def var(self, name: str, shape: tuple, fan_in: int | None = None, *, value: Any = None) -> Any:
            import numpy as np

            if value is None:
                fan_in = fan_in or shape[0]
                value = self._rng.normal(0.0, math.sqrt(2.0 / max(fan_in, 1)), size=shape)
            scope, _, leaf = name.rpartition("/")
            with tf.name_scope(scope + "/"):
                v = tf.Variable(np.asarray(value, np.float32), name=leaf, trainable=self._trainable)
            self._created.append(v)
            return v

        def expose(self) -> None:
            self.variables = list(self._created)
            self.trainable_variables = [v for v in self._created if v.trainable]
            self.regularization_losses = []

    return StarterModule


def _standardise(x: Any) -> Any:
    import tensorflow as tf

    mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
    return (x - mean) * tf.math.rsqrt(var + 1e-6)


# --------------------------------------------------------------------------- vision


def _vision_class() -> type:
    import tensorflow as tf

    base = _base()

    class StarterCNN(base):
        """Conv net over 64x64 RGB in [0, 1]: block_1..4 convs, block_5 projection."""

        def __init__(self, spec: BackboneSpec, seed: int) -> None:
            super().__init__(spec, seed)
            h, w, _ = spec.input_shape or (64, 64, 3)
            widths = [(3, 16, 2), (16, 32, 2), (32, 64, 2), (64, 64, 1)]
            self.convs = []
            for i, (cin, cout, stride) in enumerate(widths, 1):
                k = self.var(f"block_{i}/conv/kernel", (3, 3, cin, cout), 9 * cin)
                b = self.var(f"block_{i}/conv/bias", (cout,), value=[0.0] * cout)
                self.convs.append((k, b, stride))
            self.proj_kernel = self.var("block_5/projection/kernel", (2 * 64 + 3, spec.output_dim), 2 * 64 + 3)
            self.proj_bias = self.var("block_5/projection/bias", (spec.output_dim,), value=[0.0] * spec.output_dim)
            self.expose()
            for training in (False, True):
                self.__call__.get_concrete_function(tf.TensorSpec([None, h, w, 3], tf.float32), training=training)

        @tf.function
        def __call__(self, images: Any, training: bool = False) -> Any:
            x = tf.convert_to_tensor(images, tf.float32)
            colour = tf.reduce_mean(x, axis=[1, 2]) * 2.0 - 1.0
            x = x * 2.0 - 1.0
            for i, (k, b, stride) in enumerate(self.convs):
                y = tf.nn.relu(tf.nn.conv2d(x, k, stride, "SAME") + b)
                x = x + y if stride == 1 and i > 0 else y
            pooled = tf.concat([tf.reduce_mean(x, axis=[1, 2]), tf.reduce_max(x, axis=[1, 2]), colour], axis=-1)
            return _standardise(tf.matmul(pooled, self.proj_kernel) + self.proj_bias)

    return StarterCNN


# --------------------------------------------------------------------------- text


def _text_class() -> type:
    import tensorflow as tf

    base = _base()

    class StarterText(base):
        """Hashed word (block_1) and bigram (block_2) embeddings, dense block_3, projection block_4."""

        buckets = 4096
        embed = 64

        def __init__(self, spec: BackboneSpec, seed: int) -> None:
            super().__init__(spec, seed)
            e = self.embed
            self.words = self.var("block_1/word_embeddings", (self.buckets, e), value=self._rng.normal(0, 1, (self.buckets, e)))
            self.bigrams = self.var("block_2/bigram_embeddings", (self.buckets, e),
                                    value=self._rng.normal(0, 1, (self.buckets, e)))
            self.hidden_kernel = self.var("block_3/dense/kernel", (2 * e, 2 * e), 2 * e)
            self.hidden_bias = self.var("block_3/dense/bias", (2 * e,), value=[0.0] * (2 * e))
            self.proj_kernel = self.var("block_4/projection/kernel", (2 * e, spec.output_dim), 2 * e)
            self.proj_bias = self.var("block_4/projection/bias", (spec.output_dim,), value=[0.0] * spec.output_dim)
            self.expose()
            self.__call__.get_concrete_function(tf.TensorSpec([None], tf.string))

        def _pool(self, table: Any, ids: Any) -> Any:
            vectors = tf.ragged.map_flat_values(tf.gather, table, ids)
            counts = tf.cast(ids.row_lengths(), tf.float32)[:, None]
            return tf.reduce_sum(vectors, axis=1) / tf.maximum(counts, 1.0)

        @tf.function
        def __call__(self, strings: Any) -> Any:
            text = tf.strings.lower(tf.reshape(tf.convert_to_tensor(strings, tf.string), [-1]))
            text = tf.strings.regex_replace(text, r"[^\p{L}\p{N}']+", " ")
            words = tf.strings.split(text)
            ids = tf.ragged.map_flat_values(tf.strings.to_hash_bucket_fast, words, self.buckets)
            # word bigrams, hashed from the two word ids (no StringNGrams op: TFLite's Flex delegate lacks it)
            bigrams = (ids[:, :-1] * 1000003 + ids[:, 1:]) % self.buckets
            x = tf.concat([self._pool(self.words, ids), self._pool(self.bigrams, bigrams)], axis=-1)
            x = x + tf.nn.relu(tf.matmul(x, self.hidden_kernel) + self.hidden_bias)
            return _standardise(tf.matmul(x, self.proj_kernel) + self.proj_bias)

    return StarterText


# --------------------------------------------------------------------------- audio


def _audio_class() -> type:
    import tensorflow as tf

    base = _base()

    class StarterAudio(base):
        """YAMNet-like: log-mel patches [96, 64] per 0.96 s frame, conv block_1..3, projection + scores block_4."""

        def __init__(self, spec: BackboneSpec, seed: int) -> None:
            super().__init__(spec, seed)
            sr = spec.sample_rate or 16000
            self._frame, self._hop = int(round(0.96 * sr)), int(round(0.48 * sr))
            self._win, self._step = int(round(0.025 * sr)), int(round(0.010 * sr))
            self._fft = 1 << (self._win - 1).bit_length()
            mel = tf.signal.linear_to_mel_weight_matrix(64, self._fft // 2 + 1, sr, 125.0, min(7500.0, sr / 2.0))
            self._mel = tf.constant(mel.numpy())
            self.convs = []
            for i, (cin, cout) in enumerate([(1, 16), (16, 32), (32, 64)], 1):
                k = self.var(f"block_{i}/conv/kernel", (3, 3, cin, cout), 9 * cin)
                b = self.var(f"block_{i}/conv/bias", (cout,), value=[0.0] * cout)
                self.convs.append((k, b))
            d = spec.output_dim
            self.proj_kernel = self.var("block_4/embedding/kernel", (2 * 64 + 64, d), 2 * 64 + 64)
            self.proj_bias = self.var("block_4/embedding/bias", (d,), value=[0.0] * d)
            self.logits_kernel = self.var("block_4/logits/kernel", (d, AUDIO_NUM_CLASSES), d)
            self.logits_bias = self.var("block_4/logits/bias", (AUDIO_NUM_CLASSES,), value=[0.0] * AUDIO_NUM_CLASSES)
            self.expose()
            self.__call__.get_concrete_function(tf.TensorSpec([None], tf.float32))

        def _log_mel(self, signal: Any) -> Any:
            stft = tf.signal.stft(signal, self._win, self._step, self._fft, pad_end=False)
            return tf.math.log(tf.tensordot(tf.abs(stft), self._mel, 1) + 1e-3)

        @tf.function
        def __call__(self, waveform: Any) -> Any:
            wav = tf.reshape(tf.convert_to_tensor(waveform, tf.float32), [-1])
            extra = tf.maximum(tf.size(wav) - self._frame, 0)
            n = 1 + (extra + self._hop - 1) // self._hop
            padded = tf.pad(wav, [[0, self._frame + (n - 1) * self._hop - tf.size(wav)]])
            log_mel = self._log_mel(padded)  # [M, 64]
            frames = tf.signal.frame(padded, self._frame, self._hop)  # [N, frame]
            patches = self._log_mel(frames)  # [N, 96, 64]
            spectrum = tf.reduce_mean(patches, axis=1)  # [N, 64]
            x = (tf.expand_dims(patches, -1) + 3.0) / 3.0
            for k, b in self.convs:
                x = tf.nn.relu(tf.nn.conv2d(x, k, 2, "SAME") + b)
            pooled = tf.concat([tf.reduce_mean(x, axis=[1, 2]), tf.reduce_max(x, axis=[1, 2]),
                                _standardise(spectrum)], axis=-1)
            embeddings = _standardise(tf.matmul(pooled, self.proj_kernel) + self.proj_bias)
            scores = tf.sigmoid(tf.matmul(embeddings, self.logits_kernel) + self.logits_bias)
            return scores, embeddings, log_mel

    return StarterAudio
