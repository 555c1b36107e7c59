"""Backbones as tf_keras layers that take RAW inputs.

`load_backbone` returns a layer mapping raw inputs to ``[batch, output_dim]``:

* vision: ``[B, H, W, C]`` pixels 0-255 of any size (uint8 or float); grey-scale
  and RGBA are converted to RGB, images are resized to the module's size and
  mapped to the module's ``input_range`` ([0, 1], or [-1, 1]) inside. Integer
  images are 0-255 by definition; float images already in [0, 1] are detected per
  image and not divided again (`zoo.inputs` warns about those).
* text: a batch of strings (invalid UTF-8 is replaced, not fatal); BERT-style
  backbones run their preprocessing module first (at its own default sequence
  length unless the spec sets ``seq_length``), and take ``output_key`` of the
  encoder's outputs or, with ``pooling = "mean"``, the mean of ``sequence_output``
  over the real tokens.
* audio: ``[B, T]`` float32 mono waveforms at the backbone's sample rate; the
  module (one clip per call) is vectorised over the batch (`zoo.audio_batching`)
  and its per-frame embeddings are mean-pooled per clip.

Example:
    >>> import zoo, numpy as np                                        # doctest: +SKIP
    >>> layer = zoo.load_backbone("mobilenet_v2")                       # doctest: +SKIP
    >>> layer(np.zeros((2, 300, 400, 3), "uint8")).shape                # doctest: +SKIP
    TensorShape([2, 1280])
"""

from __future__ import annotations

import warnings
import weakref
from typing import Any

import tensorflow_hub as hub

from zoo import audio_batching
from zoo import hub as zhub
from zoo.errors import BlockCountWarning, FreezeSpecError, ModuleFormatError, ModuleLoadError, OutputDimMismatchError
from zoo.freeze import BlockGroups, group_blocks, parse_freeze, scope_names
from zoo.registry import get
from zoo.spec import BackboneSpec
from zoo.taskspec import resolve_callable
from zoo.tfk import keras, tf

__all__ = ["HubModule", "Backbone", "load_backbone", "ensure_local_module", "prepare_images", "scale_pixels",
           "default_seq_length"]

_EAGER_AUDIO: "weakref.WeakKeyDictionary[Backbone, Any]" = weakref.WeakKeyDictionary()
_WARNED: set = set()


class HubModule(hub.KerasLayer):
    """``hub.KerasLayer`` whose trainable variables can be limited to some blocks.

    ``select(variables)`` restricts training to those variables (None: all);
    with ``force_inference`` the module is always called with ``training=False``
    (keeps batch-norm statistics frozen while fine-tuning). ``groups`` holds the
    trainable variables grouped into blocks (`zoo.freeze.group_blocks`).

    Example:
        >>> layer = HubModule(zoo.hub.load(handle), trainable=True)      # doctest: +SKIP
        >>> layer.select(layer.blocks[-2:])                              # doctest: +SKIP
    """

    def __init__(self, obj: Any, *, block_pattern: str | None = None, force_inference: bool = False, **kwargs: Any):
        super().__init__(obj, **kwargs)
        self._zoo_selected: set | None = None
        self.force_inference = force_inference
        self.groups: BlockGroups = group_blocks(list(self._trainable_weights), block_pattern)

    @property
    def blocks(self) -> list[list]:
        """The numbered blocks, bottom first (see `zoo.freeze.BlockGroups`)."""
        return self.groups.blocks

    def select(self, variables: list | None) -> None:
        """Train only ``variables`` (None: every trainable variable of the module)."""
        self._zoo_selected = None if variables is None else {v.ref() for v in variables}

    @property
    def trainable_weights(self) -> list:
        weights = super().trainable_weights
        if self._zoo_selected is None:
            return weights
        return [w for w in weights if w.ref() in self._zoo_selected]

    @property
    def non_trainable_weights(self) -> list:
        if not self.trainable or self._zoo_selected is None:
            return super().non_trainable_weights
        chosen = self._zoo_selected
        rest = [w for w in self._trainable_weights if w.ref() not in chosen]
        return self._dedup_weights(rest + super().non_trainable_weights)

    @tf.autograph.experimental.do_not_convert  # no tensor-dependent Python control flow: skip conversion
    def call(self, inputs: Any, training: Any = None) -> Any:
        if self.force_inference:
            training = False
        return super().call(inputs, training=training)


def ensure_local_module(spec: BackboneSpec) -> None:
    """Build a starter backbone's module on first use (``spec.builder``); no-op for others.

    Example:
        >>> ensure_local_module(zoo.get("starter_cnn"))                 # doctest: +SKIP
    """
    if spec.builder is None:
        return
    import os

    if not os.path.exists(os.path.join(spec.handle, "saved_model.pb")):
        resolve_callable(spec.builder)(spec)


class Backbone(keras.layers.Layer):
    """Raw inputs -> ``[batch, output_dim]`` embedding for one registered backbone.

    Example:
        >>> bb = Backbone(zoo.get("use"))                                # doctest: +SKIP
        >>> bb(tf.constant(["hello"])).shape                              # doctest: +SKIP
        TensorShape([1, 512])
    """

    def __init__(self, spec: BackboneSpec, *, trainable: bool = False, bn_training: bool = False,
                 name: str | None = None, **kwargs: Any):
        super().__init__(name=name or _layer_name(spec.name), trainable=True, **kwargs)
        self.spec = spec
        ensure_local_module(spec)
        io_local = _localhost_io()
        obj = zhub.load(spec.handle, sha256=spec.sha256, text_ops=spec.text_ops, tpu_io=io_local)
        self.format = zhub.module_format(obj)
        self.pre = None
        self._pack = None
        self.seq_length = None
        if spec.preprocessor:
            pre_obj = zhub.load(spec.preprocessor, text_ops=True, tpu_io=io_local)
            self.pre = HubModule(pre_obj, trainable=False, name="preprocessor")
            own = default_seq_length(pre_obj)
            self.seq_length = spec.seq_length or own
            if self.seq_length != own:
                if not (hasattr(pre_obj, "tokenize") and hasattr(pre_obj, "bert_pack_inputs")):
                    raise ModuleLoadError(
                        f"backbone {spec.name!r}: seq_length = {spec.seq_length} differs from the preprocessor's own "
                        f"{own}, but {spec.preprocessor} has no tokenize/bert_pack_inputs to pack other lengths; "
                        f"drop seq_length from the registry entry"
                    )
                self._pack = pre_obj
        mean = spec.modality == "text" and spec.pooling == "mean"
        output_key = (None if mean else spec.output_key) if spec.modality == "text" else None
        if self.format == "hub":  # TF1 Hub format: only through its signature, never trainable
            obj, output_key = _SignatureCall(obj, output_key or "default"), None
        self.module = HubModule(
            obj, trainable=spec.fine_tunable and self.format != "hub", output_key=output_key,
            block_pattern=spec.block_pattern, force_inference=(spec.modality == "vision" and not bn_training),
            name="module",
        )
        self._audio_obj = obj if spec.modality == "audio" else None
        self._check_block_count()
        self.freeze_state = ("frozen", 0)
        self.set_freeze("frozen" if not trainable else "full")

    def _check_block_count(self) -> None:
        spec, groups = self.spec, self.module.groups
        if not (spec.block_pattern and spec.blocks and self.module.trainable) or len(groups) == spec.blocks:
            return
        key = (spec.name, spec.handle, len(groups))
        if key in _WARNED:
            return
        _WARNED.add(key)
        found = f"{len(groups)} blocks" if groups.matched else "no block (the pattern matches no variable)"
        warnings.warn(
            f"backbone {spec.name!r}: the registry says blocks = {spec.blocks}, but block_pattern "
            f"'{spec.block_pattern}' finds {found} in module {spec.handle}; top:K counts the {len(groups)} "
            f"found. See `zoo info {spec.name} --module` and fix the registry entry",
            BlockCountWarning, stacklevel=3,
        )

    # ---- freezing -------------------------------------------------------------------------
    @property
    def blocks(self) -> list[list]:
        """The module's trainable variables grouped into blocks, bottom first."""
        return self.module.blocks

    @property
    def groups(self) -> BlockGroups:
        """Stem and blocks of the module's trainable variables (`zoo.freeze.BlockGroups`)."""
        return self.module.groups

    def set_freeze(self, freeze: str) -> None:
        """Apply ``"frozen"``, ``"full"`` or ``"top:K"`` to this backbone's variables.

        ``top:K`` trains the K highest numbered blocks (and what lies above them, such as
        a pooler); ``full`` also trains the stem. Raises `FreezeSpecError` when the
        module's blocks cannot be found, `ModuleFormatError` for a TF1 Hub format module.

        Example:
            >>> backbone.set_freeze("top:2")                              # doctest: +SKIP
        """
        kind, k = parse_freeze(freeze, name=f"backbone {self.spec.name!r}")
        if kind != "frozen":
            self._check_trainable(freeze)
        if kind == "top":
            self._check_blocks_found(f"freeze {freeze!r}")
            parse_freeze(freeze, blocks=len(self.blocks), name=f"backbone {self.spec.name!r}")
        if kind == "frozen":
            self.module.trainable = False
            self.module.select(None)
        elif kind == "full":
            self.module.trainable = True
            self.module.select(None)
        else:
            self.module.trainable = True
            self.module.select(self.groups.top(k))
        self.freeze_state = (kind, k)

    def _check_trainable(self, freeze: str) -> None:
        spec = self.spec
        if self.format == "hub":
            raise ModuleFormatError(
                f"freeze {freeze!r} is not possible for backbone {spec.name!r}: module {spec.handle} is in the legacy "
                "TF1 Hub format ('hub'), which zoo uses frozen only (through its 'default' signature); use "
                "freeze='frozen', or a TF2 SavedModel version of the module to fine-tune"
            )
        if not spec.fine_tunable or not self.module._trainable_weights:  # noqa: SLF001
            why = "its module is not fine-tunable" if not spec.fine_tunable else "its module has no trainable variables"
            raise FreezeSpecError(f"freeze {freeze!r} is not possible for backbone {spec.name!r}: {why}; use freeze='frozen'")

    def _check_blocks_found(self, what: str) -> None:
        groups = self.groups
        if groups.matched:
            return
        raise FreezeSpecError(
            f"{what} needs the blocks of backbone {self.spec.name!r}, but its block_pattern '{groups.pattern}' matches "
            f"no variable of module {self.spec.handle}, whose variables are named like "
            f"{', '.join(scope_names(groups.stem))}; fix block_pattern in the registry entry "
            f"(`zoo info {self.spec.name} --module` lists the real names), or use freeze='full' or 'frozen'"
        )

    @property
    def freeze_spec(self) -> str:
        """The freeze state as a spec string: ``"frozen"``, ``"full"`` or ``"top:K"``."""
        kind, k = self.freeze_state
        return f"top:{k}" if kind == "top" else kind

    @property
    def is_frozen(self) -> bool:
        """True when no backbone variable is trained."""
        return self.freeze_state[0] == "frozen"

    def block_depths(self) -> dict:
        """``{variable.ref(): depth from the top}`` (top block 0, stem deepest), for layer-wise lr decay.

        Raises `FreezeSpecError` when the block pattern matches nothing (no silent guess)."""
        self._check_blocks_found("layer_decay")
        return {v.ref(): d for v, d in self.groups.depths()}

    # ---- forward -------------------------------------------------------------------------
    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: Any, training: Any = None) -> Any:
        m = self.spec.modality
        if m == "vision":
            out = self.module(prepare_images(inputs, self.spec.input_shape, self.spec.input_range), training=training)
        elif m == "text":
            encoded = self._encode_text(inputs)
            out = self.module(encoded, training=training)
            if self.spec.pooling == "mean":
                out = _masked_mean(out, encoded, self.spec)
        else:
            out = self._audio(inputs)
        out = tf.cast(out, tf.float32)
        dim = out.shape[-1]
        if dim is not None and dim != self.spec.output_dim:
            raise OutputDimMismatchError(
                f"backbone {self.spec.name!r}: module {self.spec.handle} returns {dim}-d embeddings but the registry "
                f"says output_dim = {self.spec.output_dim}; fix output_dim in the registry entry"
            )
        return out

    def _encode_text(self, inputs: Any) -> Any:
        text = tf.reshape(tf.convert_to_tensor(inputs, tf.string), [-1])
        text = tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")
        if self.pre is None:
            return text
        if self._pack is not None:
            tokens = self._pack.tokenize(text)
            return self._pack.bert_pack_inputs([tokens], seq_length=self.seq_length)
        return self.pre(text)

    def _audio(self, waves: Any) -> Any:
        obj, key, dim = self._audio_obj, self.spec.output_key, self.spec.output_dim
        waves = tf.cast(waves, tf.float32)
        if self.module.trainable:  # pfor drops the gradients to the module's variables in graph mode
            return audio_batching.per_clip(obj, waves, key, dim)
        if not tf.executing_eagerly():
            return audio_batching.batched(obj, waves, key, dim)
        fn = _EAGER_AUDIO.get(self)  # eager calls: one traced function per backbone, not one per call
        if fn is None:
            fn = _EAGER_AUDIO[self] = tf.function(lambda w: audio_batching.batched(obj, w, key, dim), reduce_retracing=True)
        return fn(waves)

    def get_config(self) -> dict:
        config = super().get_config()
        config["spec_name"] = self.spec.name
        return config


class _SignatureCall(tf.Module):
    """A TF1 Hub format module called through its ``default`` signature (one input, the
    ``output_key`` output): what ``hub.KerasLayer`` does for such modules, as a callable
    that keeps the module (and its variables) tracked for export."""

    def __init__(self, obj: Any, output_key: str):
        super().__init__(name="tf1_hub_module")
        self.module = obj
        self._fn = obj.signatures["default"]
        self._input = next(iter(self._fn.structured_input_signature[1]))
        self._output_key = output_key

    def __call__(self, inputs: Any) -> Any:
        return self._fn(**{self._input: inputs})[self._output_key]


def _localhost_io() -> bool:
    """Whether modules may be read through ``/job:localhost`` (what TPU hosts need): that job
    does not exist in a multi-worker cluster (TF_CONFIG), where the local job is ``/job:worker``."""
    return any(d.name.startswith("/job:localhost/") for d in tf.config.list_logical_devices("CPU"))


def scale_pixels(x: Any, input_range: tuple[float, float] | None = (0.0, 1.0), *, integer: bool = False) -> Any:
    """Float pixels -> the module's ``input_range``: 0-255 images are divided by 255, float
    images already in [0, 1] are kept (decided per image); with ``integer`` (the input was an
    integer tensor, 0-255 by definition) every image is divided.

    Example:
        >>> scale_pixels(tf.constant([[[[1.0, 0.0, 1.0]]]]), integer=True).numpy().max() < 0.01  # doctest: +SKIP
        True
    """
    x = tf.cast(x, tf.float32)
    if integer:
        x = x / 255.0
    else:
        peak = tf.reduce_max(x, axis=[1, 2, 3], keepdims=True)
        x = tf.where(peak > 1.0, x / 255.0, x)
    x = tf.clip_by_value(x, 0.0, 1.0)
    lo, hi = input_range or (0.0, 1.0)
    return x if (lo, hi) == (0.0, 1.0) else x * (hi - lo) + lo


def prepare_images(images: Any, input_shape: tuple[int, int, int], input_range: tuple[float, float] | None = None) -> Any:
    """Raw pixels ``[B, H, W, 1|3|4]`` (any size, uint8 or float 0-255) -> ``[B, h, w, 3]`` in ``input_range``.

    Example:
        >>> prepare_images(np.zeros((2, 300, 400, 3), "uint8"), (224, 224, 3)).shape   # doctest: +SKIP
        TensorShape([2, 224, 224, 3])
    """
    x = tf.convert_to_tensor(images)
    integer = x.dtype.is_integer
    x = tf.cast(x, tf.float32)
    channels = tf.shape(x)[-1]
    x = tf.cond(channels < 3, lambda: tf.tile(x[..., :1], [1, 1, 1, 3]), lambda: x[..., :3])
    x = tf.ensure_shape(x, [None, None, None, 3])
    x = scale_pixels(x, (0.0, 1.0), integer=integer)
    h, w = input_shape[0], input_shape[1]
    same_size = tf.reduce_all(tf.equal(tf.shape(x)[1:3], [h, w]))
    x = tf.cond(same_size, lambda: x, lambda: tf.image.resize(x, (h, w), antialias=True))
    x = tf.ensure_shape(x, [None, h, w, 3])
    return scale_pixels(x, input_range, integer=False)


def _masked_mean(outputs: Any, encoded: Any, spec: BackboneSpec) -> Any:
    """Mean of ``sequence_output`` over the tokens where ``input_mask`` is 1."""
    if not isinstance(outputs, dict) or "sequence_output" not in outputs or not isinstance(encoded, dict):
        raise ModuleLoadError(
            f"backbone {spec.name!r}: pooling = 'mean' needs an encoder returning a dict with 'sequence_output' "
            f"and a preprocessor giving 'input_mask'; module {spec.handle} does not; use pooling = 'output'"
        )
    seq = tf.cast(outputs["sequence_output"], tf.float32)
    mask = tf.cast(encoded["input_mask"], tf.float32)[..., None]
    return tf.reduce_sum(seq * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)


def default_seq_length(preprocessor: Any) -> int:
    """The sequence length a BERT-style preprocessing module packs to when called on strings.

    Read from the traced ``__call__``'s output shape (``input_word_ids [B, S]``), else by
    calling it on one empty string.

    Example:
        >>> default_seq_length(zoo.hub.load(zoo.get("bert_small").preprocessor))   # doctest: +SKIP
        128
    """
    fn = getattr(preprocessor, "__call__", None)
    for cf in getattr(fn, "concrete_functions", None) or []:
        out = cf.structured_outputs
        if isinstance(out, dict) and "input_word_ids" in out and out["input_word_ids"].shape[-1]:
            return int(out["input_word_ids"].shape[-1])
    return int(preprocessor(tf.constant([""]))["input_word_ids"].shape[-1])


def _layer_name(name: str) -> str:
    return "backbone_" + "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def load_backbone(name: str | BackboneSpec, trainable: bool = False, *, bn_training: bool = False) -> Backbone:
    """The backbone ``name`` as a tf_keras layer taking raw inputs (see module docs).

    Loads through ``tensorflow_hub``'s resolver and cache (``TFHUB_CACHE_DIR``),
    imports ``tensorflow_text`` when the module needs its ops.

    Example:
        >>> import zoo, tensorflow as tf                                   # doctest: +SKIP
        >>> zoo.load_backbone("bert_small")(tf.constant(["a good movie"])).shape  # doctest: +SKIP
        TensorShape([1, 512])
    """
    spec = name if isinstance(name, BackboneSpec) else get(name)
    return Backbone(spec, trainable=trainable, bn_training=bn_training)
