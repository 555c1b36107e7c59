"""Backbones as tf_keras layers that take RAW inputs.

`load_backbone` returns a layer mapping raw inputs to ``[batch, output_dim]``:

* vision: ``[B, H, W, C]`` pixels 0-255 of any size (uint8 or float); grey-scale
  and RGBA are converted to RGB, images are resized to the module's size and
  rescaled to [0, 1] inside. Float images already in [0, 1] are detected per
  image and not divided again.
* text: a batch of strings (invalid UTF-8 is replaced, not fatal); BERT-style
  backbones run their preprocessing module first.
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

import weakref
from typing import Any

import tensorflow_hub as hub

from zoo import audio_batching
from zoo import hub as zhub
from zoo.errors import FreezeSpecError, OutputDimMismatchError
from zoo.freeze import group_blocks, parse_freeze
from zoo.registry import get
from zoo.spec import BackboneSpec
from zoo.taskspec import resolve_callable
from zoo.tfk import keras, tf

__all__ = ["HubModule", "Backbone", "load_backbone", "ensure_local_module"]

_EAGER_AUDIO: "weakref.WeakKeyDictionary[Backbone, Any]" = weakref.WeakKeyDictionary()


class HubModule(hub.KerasLayer):
    """``hub.KerasLayer`` whose trainable variables can be limited to some blocks.

    ``select(variables)`` restricts training to those variables (None: all);
    with ``force_inference`` the module is always called with ``training=False``
    (keeps batch-norm statistics frozen while fine-tuning).

    Example:
        >>> layer = HubModule(zoo.hub.load(handle), trainable=True)      # doctest: +SKIP
        >>> layer.select(layer.blocks[-2:])                              # doctest: +SKIP
    """

    def __init__(self, obj: Any, *, block_pattern: str | None = None, force_inference: bool = False, **kwargs: Any):
        super().__init__(obj, **kwargs)
        self._zoo_selected: set | None = None
        self.force_inference = force_inference
        self.blocks = group_blocks(list(self._trainable_weights), block_pattern)

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
        self.pre = None
        self._pack = None
        if spec.preprocessor:
            pre_obj = zhub.load(spec.preprocessor, text_ops=True, tpu_io=io_local)
            self.pre = HubModule(pre_obj, trainable=False, name="preprocessor")
            self._pack = pre_obj if (spec.seq_length or 128) != 128 else None
        output_key = spec.output_key if spec.modality == "text" else None
        self.module = HubModule(
            obj, trainable=spec.fine_tunable, output_key=output_key, block_pattern=spec.block_pattern,
            force_inference=(spec.modality == "vision" and not bn_training), name="module",
        )
        self._audio_obj = obj if spec.modality == "audio" else None
        self.freeze_state = ("frozen", 0)
        self.set_freeze("frozen" if not trainable else "full")

    # ---- freezing -------------------------------------------------------------------------
    @property
    def blocks(self) -> list[list]:
        """The module's trainable variables grouped into blocks, bottom first."""
        return self.module.blocks

    def set_freeze(self, freeze: str) -> None:
        """Apply ``"frozen"``, ``"full"`` or ``"top:K"`` to this backbone's variables.

        Example:
            >>> backbone.set_freeze("top:2")                              # doctest: +SKIP
        """
        kind, k = parse_freeze(freeze, blocks=len(self.blocks) or None, name=f"backbone {self.spec.name!r}")
        if kind != "frozen" and (not self.spec.fine_tunable or not self.blocks):
            why = "its module is not fine-tunable" if not self.spec.fine_tunable else "its module has no trainable variables"
            raise FreezeSpecError(
                f"freeze {freeze!r} is not possible for backbone {self.spec.name!r}: {why}; use freeze='frozen'"
            )
        if kind == "frozen":
            self.module.trainable = False
            self.module.select(None)
        elif kind == "full":
            self.module.trainable = True
            self.module.select(None)
        else:
            self.module.trainable = True
            self.module.select([v for block in self.blocks[-k:] for v in block])
        self.freeze_state = (kind, k)

    @property
    def is_frozen(self) -> bool:
        """True when no backbone variable is trained."""
        return self.freeze_state[0] == "frozen"

    def block_depths(self) -> dict:
        """``{variable.ref(): depth from the top}`` (top block = 0), for layer-wise lr decay."""
        n = len(self.blocks)
        return {v.ref(): n - 1 - i for i, block in enumerate(self.blocks) for v in block}

    # ---- forward -------------------------------------------------------------------------
    @tf.autograph.experimental.do_not_convert
    def call(self, inputs: Any, training: Any = None) -> Any:
        m = self.spec.modality
        if m == "vision":
            out = self.module(_prepare_images(inputs, self.spec.input_shape), training=training)
        elif m == "text":
            out = self.module(self._encode_text(inputs), training=training)
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
            return self._pack.bert_pack_inputs([tokens], seq_length=self.spec.seq_length)
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


def _localhost_io() -> bool:
    """Whether modules may be read through ``/job:localhost`` (what TPU hosts need): that job
    does not exist in a multi-worker cluster (TF_CONFIG), where the local job is ``/job:worker``."""
    return any(d.name.startswith("/job:localhost/") for d in tf.config.list_logical_devices("CPU"))


def _prepare_images(images: Any, input_shape: tuple[int, int, int]) -> Any:
    x = tf.convert_to_tensor(images)
    x = tf.cast(x, tf.float32)
    channels = tf.shape(x)[-1]
    x = tf.cond(channels < 3, lambda: tf.tile(x[..., :1], [1, 1, 1, 3]), lambda: x[..., :3])
    x = tf.ensure_shape(x, [None, None, None, 3])
    # images already in [0, 1] are kept; 0-255 images are rescaled (per image)
    peak = tf.reduce_max(x, axis=[1, 2, 3], keepdims=True)
    x = tf.where(peak > 1.0, x / 255.0, x)
    h, w = input_shape[0], input_shape[1]
    same_size = tf.reduce_all(tf.equal(tf.shape(x)[1:3], [h, w]))
    x = tf.cond(same_size, lambda: x, lambda: tf.image.resize(x, (h, w), antialias=True))
    x = tf.ensure_shape(x, [None, h, w, 3])
    return tf.clip_by_value(x, 0.0, 1.0)


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
