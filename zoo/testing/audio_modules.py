"""A YAMNet / VGGish-like test module: one clip per call, per-frame embeddings (the framed-audio contract).

YAMNet returns ``(scores [N, 521], embeddings [N, 1024], log_mel [M, 64])`` and has
``class_map_path()`` (its model page); VGGish returns ``embeddings [N, 128]``.

Example:
    >>> YAMNET_NUM_CLASSES
    521
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from zoo.registry import BackboneSpec
from zoo.testing.hub_object import HubObject, normal_weights

__all__ = ["AudioModule", "WindowedAudioModule", "YAMNET_NUM_CLASSES"]

YAMNET_NUM_CLASSES = 521
_AUDIO_HIDDEN = 16


def _class_names() -> list[str]:
    known = ["Speech", "Child speech, kid speaking", "Conversation", "Narration, monologue", "Babbling",
             "Speech synthesizer", "Shout", "Bellow", "Whoop", "Yell", "Children shouting", "Screaming",
             "Whispering", "Laughter", "Baby laughter", "Giggle", "Snicker", "Belly laugh", "Chuckle, chortle",
             "Crying, sobbing", "Music", "Dog", "Cat", "Silence", "Noise"]
    return known + [f"Class {i}" for i in range(len(known), YAMNET_NUM_CLASSES)]


def _write_class_map(path: Path) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        wr = csv.writer(f)
        wr.writerow(["index", "mid", "display_name"])
        for i, name in enumerate(_class_names()):
            wr.writerow([i, f"/m/zoo{i:04d}", name])


class AudioModule(HubObject):
    """YAMNet/VGGish-like: 0.96 s frames with 0.48 s hop over a 1-D waveform (YAMNet: 0.975 s of
    samples per frame, as its 96 STFT frames of 25 ms every 10 ms need), a real
    log-mel front end, mean-pooled per frame and projected.

    YAMNet: ``__call__(waveform) -> (scores [N, 521], embeddings [N, D], log_mel [M, 64])``
    plus ``class_map_path()``; VGGish (and other families): ``-> embeddings [N, D]``.
    """

    def __init__(self, spec: BackboneSpec, workdir: Path, seed: int = 0) -> None:
        super().__init__(name="audio_module")
        rng = np.random.RandomState(seed)
        sr = spec.sample_rate or 16000
        self._yamnet = spec.family == "yamnet"
        window = 0.975 if self._yamnet else 0.96
        self._frame, self._hop = int(round(window * sr)), int(round(0.48 * sr))
        self._win, self._step = int(round(0.025 * sr)), int(round(0.010 * sr))
        self._fft = 1 << (self._win - 1).bit_length()
        mel = tf.signal.linear_to_mel_weight_matrix(64, self._fft // 2 + 1, sr, 125.0, min(7500.0, sr / 2.0))
        self._mel = tf.constant(mel.numpy())
        trainable = spec.fine_tunable
        fam = re.sub(r"[^A-Za-z0-9_]", "_", spec.family or "audio")
        hid = _AUDIO_HIDDEN
        self.hidden_kernel = self._var(f"{fam}/hidden/kernel", normal_weights(rng, (64, hid), 8), trainable)
        self.hidden_bias = self._var(f"{fam}/hidden/bias", rng.normal(0, 1, hid), trainable)
        self.embedding_kernel = self._var(f"{fam}/embedding/kernel", normal_weights(rng, (hid, spec.output_dim)), trainable)
        self.embedding_bias = self._var(f"{fam}/embedding/bias", np.zeros(spec.output_dim), trainable)
        if self._yamnet:
            self.logits_kernel = self._var(f"{fam}/logits/kernel", normal_weights(rng, (hid, YAMNET_NUM_CLASSES)), trainable)
            self.logits_bias = self._var(f"{fam}/logits/bias", np.zeros(YAMNET_NUM_CLASSES), trainable)
            csv_path = workdir / "yamnet_class_map.csv"
            _write_class_map(csv_path)
            self._class_map = tf.saved_model.Asset(str(csv_path))
            self.class_map_path = tf.function(lambda: self._class_map.asset_path, input_signature=[])
        self._expose()
        self.__call__.get_concrete_function(tf.TensorSpec([None], tf.float32))

    def _log_mel(self, signal: tf.Tensor) -> tf.Tensor:
        stft = tf.signal.stft(signal, self._win, self._step, self._fft)
        return tf.math.log(tf.tensordot(tf.abs(stft), self._mel, 1) + 1e-3)

    @tf.function
    def __call__(self, waveform: tf.Tensor) -> Any:
        wav = tf.reshape(tf.convert_to_tensor(waveform, tf.float32), [-1])
        extra = tf.maximum(tf.size(wav) - self._frame, 0)
        n = 1 + (extra + self._hop - 1) // self._hop
        padded = tf.pad(wav, [[0, self._frame + (n - 1) * self._hop - tf.size(wav)]])
        frames = tf.signal.frame(padded, self._frame, self._hop)  # [N, frame]
        pooled = tf.reduce_mean(self._log_mel(frames), axis=1)  # [N, 64]
        hidden = tf.tanh(tf.matmul(pooled, self.hidden_kernel) + self.hidden_bias)
        embeddings = tf.matmul(hidden, self.embedding_kernel) + self.embedding_bias
        if not self._yamnet:
            return embeddings
        scores = tf.sigmoid(tf.matmul(hidden, self.logits_kernel) + self.logits_bias)
        return scores, embeddings, self._log_mel(padded)


class WindowedAudioModule(HubObject):
    """Perch-like (``google/bird-vocalization-classifier``, `zoo.testing.facts`): no ``__call__``;
    ``infer_tf(windows [N, 5 s at the documented rate]) -> (logits [N, 10], embeddings [N, D])``,
    variables not trainable (the page: not fine-tunable). A user's own entry without facts gets
    its registry rate and width."""

    def __init__(self, spec: BackboneSpec, seed: int = 0, window_seconds: float = 5.0) -> None:
        from zoo.models.contracts.batched_audio import HIDDEN, frame_encoder
        from zoo.testing.facts import facts_for

        super().__init__(name="windowed_audio")
        facts = facts_for(spec.handle)
        rate = (facts.sample_rate if facts else None) or spec.sample_rate
        d = facts.output_dim if facts else spec.output_dim
        rng = np.random.RandomState(seed)
        frame_encoder(self, rng, False)
        self.out_kernel = self._var("embedding/kernel", normal_weights(rng, (HIDDEN, d)), False)
        self.logit_kernel = self._var("logits/kernel", normal_weights(rng, (d, 10)), False)
        self._expose()
        self.infer_tf = tf.function(self._infer, input_signature=[
            tf.TensorSpec([None, int(round(window_seconds * rate))], tf.float32)])

    def _infer(self, windows: tf.Tensor) -> tuple:
        from zoo.models.contracts.batched_audio import encode_frames

        emb = tf.matmul(tf.reduce_mean(encode_frames(self, windows), axis=1), self.out_kernel)
        return tf.matmul(emb, self.logit_kernel), emb
