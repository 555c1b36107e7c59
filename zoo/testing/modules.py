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
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable

import numpy as np
import tensorflow as tf

from zoo.errors import ConfigurationError
from zoo.registry import BackboneSpec
from zoo.testing.facts import ModuleFacts, facts_for
from zoo.testing.hub_object import HubObject, normal_weights, trace_call

__all__ = ["make_module", "make_preprocessor", "clear_build_cache", "VisionModule", "image_facts"]

_CHANNELS = 8  # width of the tiny vision net


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
        self.stem_kernels = [self._var(f"{scope}/weights", normal_weights(rng, (3, 3, 3 if i == 0 else c, c), 27) * 2.0,
                                       trainable) for i, scope in enumerate(facts.stem)]
        self.block_kernels: list[tf.Variable] = []
        for i, scope in enumerate(facts.blocks):
            self.block_kernels.append(self._var(f"{scope}/project/weights", normal_weights(rng, (1, 1, c, c), c), trainable))
            if i == 0:
                self.bn_gamma = self._var(f"{scope}/project/BatchNorm/gamma", np.ones(c), trainable)
                self.bn_beta = self._var(f"{scope}/project/BatchNorm/beta", np.zeros(c), trainable)
                self.bn_moving_mean = self._var(f"{scope}/project/BatchNorm/moving_mean", np.zeros(c), False)
                self.bn_moving_variance = self._var(f"{scope}/project/BatchNorm/moving_variance", np.ones(c), False)
        top = facts.top or (facts.blocks[-1] + "/projection",)
        self.top_kernel = self._var(f"{top[0]}/weights", normal_weights(rng, (c, d), c), trainable)
        self.top_biases = [self._var(f"{scope}/biases", np.zeros(d), trainable) for scope in top[1:]]
        self._expose()
        trace_call(self.__call__, tf.TensorSpec([None, h, w, 3], tf.float32))

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
    from zoo.models.contracts import contract_for

    _check_not_starter(spec)
    contract = contract_for(spec)
    return (contract.name, seed) + tuple(contract.test_module_key(spec))


def _build_obj(spec: BackboneSpec, workdir: Path, seed: int) -> tf.Module:
    from zoo.models.contracts import contract_for

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
