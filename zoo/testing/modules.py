"""Tiny TF-Hub-format SavedModels with the calling contract of each real module family.

Every module is a low-level ``tf.Module`` saved with ``tf.saved_model.save`` and
exposes what ``hub.load``/``hub.KerasLayer`` expect: a traced ``__call__`` and
the attributes ``variables``, ``trainable_variables`` and
``regularization_losses``. Variable scopes, layer counts, input sizes and output
widths come from the real module's documented facts (`zoo.testing.facts`, looked up
by handle), never from the registry entry under test; a handle without facts (a
user's own module) gets a fixed generic layout.

Builds are cached per process (see `make_module`); `zoo.testing.hub_cache`
installs them under real handles.

Example:
    >>> import tempfile, zoo
    >>> path = make_module(zoo.get("mobilenet_v2"), tempfile.mkdtemp() + "/m")
    >>> tf.saved_model.load(str(path))(tf.zeros([1, 224, 224, 3])).shape
    TensorShape([1, 1280])
"""

from __future__ import annotations

import atexit
import math
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable

import numpy as np
import tensorflow as tf

from zoo.errors import ConfigurationError
from zoo.spec import BackboneSpec
from zoo.testing.facts import ModuleFacts, facts_for

__all__ = ["make_module", "make_preprocessor", "clear_build_cache", "YAMNET_NUM_CLASSES"]

YAMNET_NUM_CLASSES = 521
_CHANNELS = 8  # width of the tiny vision net
_AUDIO_HIDDEN = 16


# --------------------------------------------------------------------------- base object


class HubObject(tf.Module):
    """A ``tf.Module`` whose ``variables``/``trainable_variables``/``regularization_losses``
    are saved as plain attributes (what the TF Hub reusable-SavedModel API reads).

    Subclasses create variables with `_var` (full name, creation order kept) and
    call `_expose` once all variables exist.
    """

    # Shadow tf.Module's computed properties so instances can store saved lists.
    variables: Any = ()
    trainable_variables: Any = ()
    regularization_losses: Any = ()

    def __init__(self, name: str | None = None) -> None:
        super().__init__(name=name)
        self._created: list[tf.Variable] = []
        self._expose()

    def _var(self, full_name: str, value: Any, trainable: bool = True) -> tf.Variable:
        scope, _, leaf = full_name.rpartition("/")
        value = np.asarray(value, dtype=np.float32)
        if scope:
            with tf.name_scope(scope + "/"):  # trailing "/": absolute scope, no uniquifying
                v = tf.Variable(value, name=leaf, trainable=trainable)
        else:
            v = tf.Variable(value, name=leaf, trainable=trainable)
        self._created.append(v)
        return v

    def _expose(self) -> None:
        self.variables = list(self._created)
        self.trainable_variables = [v for v in self._created if v.trainable]
        self.regularization_losses = []


def _trace(fn: Any, *specs: Any, training_values: tuple[bool, ...] = (False, True), **kwargs: Any) -> None:
    """Trace ``fn`` for each Python value of ``training`` so the SavedModel keeps both."""
    for training in training_values:
        fn.get_concrete_function(*specs, training=training, **kwargs)


def _normal(rng: np.random.RandomState, shape: tuple[int, ...], fan_in: int | None = None) -> np.ndarray:
    fan_in = fan_in or (shape[0] if shape else 1)
    return rng.normal(0.0, 1.0 / math.sqrt(max(fan_in, 1)), size=shape)


# --------------------------------------------------------------------------- vision


def _generic_image_facts(spec: BackboneSpec) -> ModuleFacts:
    """A user's own image module (no documented facts): a fixed, neutral layout."""
    h, w, _ = spec.input_shape  # type: ignore[misc]
    return ModuleFacts(spec.handle, "image", "generic test layout", spec.output_dim, (h, w),
                       ("stem",), ("block_1", "block_2", "block_3"), ("top",))


class VisionModule(HubObject):
    """Tiny conv net with a real module's variable scopes (`zoo.testing.facts`): one conv per
    stem scope, one residual 1x1 conv per numbered block (the first also with batch norm),
    a projection to ``output_dim`` in the first top scope and a bias in the others.
    ``__call__(images in [0, 1], training=False)``; batch-norm moving statistics are
    updated only when ``training=True``."""

    def __init__(self, facts: ModuleFacts, trainable: bool = True, seed: int = 0) -> None:
        super().__init__(name="vision_module")
        rng = np.random.RandomState(seed)
        h, w = facts.input_size  # type: ignore[misc]
        self._pool = max(1, min(h, w) // 16)
        c, d = _CHANNELS, facts.output_dim
        self.stem_kernels = [self._var(f"{scope}/weights", _normal(rng, (3, 3, 3 if i == 0 else c, c), 27) * 2.0,
                                       trainable) for i, scope in enumerate(facts.stem)]
        self.block_kernels: list[tf.Variable] = []
        for i, scope in enumerate(facts.blocks):
            self.block_kernels.append(self._var(f"{scope}/project/weights", _normal(rng, (1, 1, c, c), c), trainable))
            if i == 0:
                self.bn_gamma = self._var(f"{scope}/project/BatchNorm/gamma", np.ones(c), trainable)
                self.bn_beta = self._var(f"{scope}/project/BatchNorm/beta", np.zeros(c), trainable)
                self.bn_moving_mean = self._var(f"{scope}/project/BatchNorm/moving_mean", np.zeros(c), False)
                self.bn_moving_variance = self._var(f"{scope}/project/BatchNorm/moving_variance", np.ones(c), False)
        top = facts.top or (facts.blocks[-1] + "/projection",)
        self.top_kernel = self._var(f"{top[0]}/weights", _normal(rng, (c, d), c), trainable)
        self.top_biases = [self._var(f"{scope}/biases", np.zeros(d), trainable) for scope in top[1:]]
        self._expose()
        _trace(self.__call__, tf.TensorSpec([None, h, w, 3], tf.float32))

    def _batch_norm(self, y: tf.Tensor, training: bool) -> tf.Tensor:
        if training:
            mean, var = tf.nn.moments(y, axes=[0, 1, 2])
            momentum = 0.9
            self.bn_moving_mean.assign(momentum * self.bn_moving_mean + (1.0 - momentum) * mean)
            self.bn_moving_variance.assign(momentum * self.bn_moving_variance + (1.0 - momentum) * var)
        else:
            mean, var = self.bn_moving_mean, self.bn_moving_variance
        return tf.nn.batch_normalization(y, mean, var, self.bn_beta, self.bn_gamma, 1e-3)

    @tf.function
    def __call__(self, images: tf.Tensor, training: bool = False) -> tf.Tensor:
        x = tf.convert_to_tensor(images, tf.float32) - 0.5
        if self._pool > 1:
            x = tf.nn.avg_pool2d(x, self._pool, self._pool, "VALID")
        for i, k in enumerate(self.stem_kernels):
            y = tf.nn.relu(tf.nn.conv2d(x, k, 1, "SAME"))
            x = y if i == 0 else x + y / 4.0
        n_blocks = float(max(len(self.block_kernels), 1))
        for i, k in enumerate(self.block_kernels):
            y = tf.nn.conv2d(x, k, 1, "SAME")
            if i == 0:
                y = self._batch_norm(y, training)
            x = x + tf.nn.relu(y) / n_blocks  # scaled residual: features stay O(1) however deep
        out = tf.matmul(tf.reduce_mean(x, axis=[1, 2]), self.top_kernel)
        for b in self.top_biases:
            out = out + b
        return out


# --------------------------------------------------------------------------- audio


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
        self.hidden_kernel = self._var(f"{fam}/hidden/kernel", _normal(rng, (64, hid), 8), trainable)
        self.hidden_bias = self._var(f"{fam}/hidden/bias", rng.normal(0, 1, hid), trainable)
        self.embedding_kernel = self._var(f"{fam}/embedding/kernel", _normal(rng, (hid, spec.output_dim)), trainable)
        self.embedding_bias = self._var(f"{fam}/embedding/bias", np.zeros(spec.output_dim), trainable)
        if self._yamnet:
            self.logits_kernel = self._var(f"{fam}/logits/kernel", _normal(rng, (hid, YAMNET_NUM_CLASSES)), trainable)
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


# --------------------------------------------------------------------------- build + cache

_LOCK = threading.RLock()
_BUILT: dict[tuple, Path] = {}
_ROOT: list[Path] = []


def _cache_root() -> Path:
    if not _ROOT:
        root = Path(tempfile.mkdtemp(prefix="zoo-testing-modules-"))
        atexit.register(shutil.rmtree, root, True)
        _ROOT.append(root)
    return _ROOT[0]


def clear_build_cache() -> None:
    """Forget (and delete) the process-level cache of built modules.

    Example:
        >>> clear_build_cache()
    """
    with _LOCK:
        for p in _BUILT.values():
            shutil.rmtree(p.parent, ignore_errors=True)
        _BUILT.clear()


def _check_not_starter(spec: BackboneSpec) -> None:
    if spec.builder is not None:
        raise ConfigurationError(
            f"backbone {spec.name!r} is a starter backbone (builder {spec.builder!r}); "
            "build it with its builder, not zoo.testing.make_module"
        )


def image_facts(spec: BackboneSpec) -> ModuleFacts:
    """The real image module's facts for ``spec.handle``, or the generic layout for a user's module."""
    facts = facts_for(spec.handle)
    return facts if facts is not None and facts.kind == "image" else _generic_image_facts(spec)


def _module_key(spec: BackboneSpec, seed: int) -> tuple:
    from zoo.contracts import contract_for

    _check_not_starter(spec)
    contract = contract_for(spec)
    return (contract.name, seed) + tuple(contract.test_module_key(spec))


def _build_obj(spec: BackboneSpec, workdir: Path, seed: int) -> tf.Module:
    from zoo.contracts import contract_for

    return contract_for(spec).test_module(spec, workdir, seed)


def _cached_build(key: tuple, build: Callable[[Path], tf.Module]) -> Path:
    """Return a private directory holding the SavedModel for ``key`` (building it once)."""
    with _LOCK:
        hit = _BUILT.get(key)
        if hit is not None and (hit / "saved_model.pb").exists():
            return hit
        slot = Path(tempfile.mkdtemp(dir=_cache_root(), prefix="m-"))
        work = slot / "work"
        work.mkdir()
        obj = build(work)
        out = slot / "module"
        # skip_saver: no embedded saver ops (loading restores through the object graph,
        # eagerly and in tf.compat.v1 graph mode alike); makes saving ~4x faster.
        tf.saved_model.save(obj, str(out), options=tf.saved_model.SaveOptions(experimental_skip_saver=True))
        shutil.rmtree(work, ignore_errors=True)
        _BUILT[key] = out
        return out


def _place(src: Path, dst: Path) -> Path:
    """Copy SavedModel dir ``src`` to ``dst`` (replacing an earlier SavedModel there)."""
    dst = Path(dst).expanduser()
    if dst.exists():
        if dst.is_dir() and not any(dst.iterdir()):
            dst.rmdir()
        elif (dst / "saved_model.pb").exists():
            shutil.rmtree(dst)
        else:
            raise FileExistsError(f"{dst} exists and is not a SavedModel directory; refusing to overwrite it")
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dst)
    return dst


def make_module(spec: BackboneSpec, path: str | os.PathLike, *, seed: int = 0) -> Path:
    """Save a tiny module with the calling contract of ``spec``'s family at ``path``.

    Vision: ``m(images[B,H,W,3] in [0,1], training=False) -> [B, output_dim]``.
    BERT/ELECTRA: ``m({"input_word_ids","input_mask","input_type_ids"}, training=False)``
    -> dict with ``pooled_output``, ``sequence_output``, ``encoder_outputs``, ``default``.
    USE/NNLM (text without preprocessor): ``m(strings[B]) -> [B, output_dim]``.
    YAMNet: ``m(waveform[T]) -> (scores, embeddings, log_mel)``; VGGish: ``-> embeddings``.
    Builds are cached per process by the spec fields that matter and ``seed``; a
    second call copies the directory. ``path`` must be missing, empty or hold a
    SavedModel (which is replaced). Raises ConfigurationError for starter specs.

    Example:
        >>> import tempfile, zoo
        >>> p = make_module(zoo.get("nnlm_en_50"), tempfile.mkdtemp() + "/nnlm")
        >>> tf.saved_model.load(str(p))(tf.constant(["a good movie"])).shape
        TensorShape([1, 50])
    """
    return _place(_built_module(spec, seed), Path(path))


def _built_module(spec: BackboneSpec, seed: int) -> Path:
    return _cached_build(_module_key(spec, seed), lambda work: _build_obj(spec, work, seed))


def _built_preprocessor(spec: BackboneSpec, seed: int) -> Path:
    from zoo.testing import text_modules

    lengths = tuple(sorted({64, 128, spec.seq_length or 128}))  # the real module packs any length
    key = ("preprocessor", lengths, seed)
    return _cached_build(key, lambda work: text_modules.BertPreprocessorModule(128, work, lengths))


def make_preprocessor(spec: BackboneSpec, path: str | os.PathLike, *, seed: int = 0) -> Path:
    """Save a BERT-style text preprocessor (for ``spec.preprocessor``) at ``path``.

    ``p(strings[B]) -> {"input_word_ids","input_mask","input_type_ids"}`` int32
    ``[B, 128]`` (the real preprocessors' default); ``p.tokenize(strings)`` ->
    int32 RaggedTensor ``[B, (words), (wordpieces)]``; ``p.bert_pack_inputs(segments,
    seq_length=128)`` packs a list of 1 or 2 such tensors. Uses ``tensorflow_text``
    ops (BertTokenizer with lower_case=True), so loading needs ``import tensorflow_text``.

    Example:
        >>> import tempfile, zoo, tensorflow_text
        >>> p = tf.saved_model.load(str(make_preprocessor(zoo.get("bert_small"), tempfile.mkdtemp() + "/pre")))
        >>> p(tf.constant(["a great film"]))["input_word_ids"].shape
        TensorShape([1, 128])
    """
    return _place(_built_preprocessor(spec, seed), Path(path))
