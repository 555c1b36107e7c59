"""Backbones as tf_keras layers that take RAW inputs.

`load_backbone` returns a layer mapping raw inputs to ``[batch, output_dim]``.
What the raw input is, how it is preprocessed and how the module is called is the
backbone's calling contract (`zoo.models.contracts`): images 0-255 of any size for image
feature vectors, strings for text encoders, ``[B, T]`` waveforms for audio. This
module holds what every contract shares: loading, the block grouping behind
``freeze="top:K"``, the freeze state, the output-width check.

Example:
    import zoo, numpy as np
    layer = zoo.load_backbone("mobilenet_v2")
    layer(np.zeros((2, 300, 400, 3), "uint8")).shape
    # -> TensorShape([2, 1280])
"""

from __future__ import annotations

import warnings
from typing import Any

import tensorflow_hub as hub

from zoo import hub as zhub
from zoo.models.contracts import contract_for
from zoo.errors import BlockCountWarning, ConfigurationError, FreezeSpecError, ModuleFormatError, OutputDimMismatchError
from zoo.models._blocks import BlockGroups, group_blocks, scope_names
from zoo.models._freeze import parse_freeze, require_block_naming, require_fine_tunable
from zoo.registry import get
from zoo.registry import BackboneSpec
from zoo.registry import resolve_callable
from zoo.tfk import keras, tf

__all__ = ["HubModule", "Backbone", "load_backbone", "ensure_local_module"]

_WARNED: set = set()


class HubModule(hub.KerasLayer):
    """``hub.KerasLayer`` whose trainable variables can be limited to some blocks.

    ``select(variables)`` restricts training to those variables (None: all);
    with ``force_inference`` the module is always called with ``training=False``
    (keeps batch-norm statistics frozen while fine-tuning). ``groups`` holds the
    trainable variables grouped into blocks (`zoo.models.group_blocks`).

    Example:
        layer = HubModule(zoo.hub.load(handle), trainable=True)
        layer.select(layer.blocks[-2:])
    """

    def __init__(self, obj: Any, *, block_pattern: str | None = None, block_stages: tuple = (),
                 force_inference: bool = False, **kwargs: Any):
        super().__init__(obj, **kwargs)
        self._zoo_selected: set | None = None
        self.force_inference = force_inference
        self.groups: BlockGroups = group_blocks(list(self._trainable_weights), block_pattern, block_stages)

    @property
    def blocks(self) -> list[list]:
        """The numbered blocks, bottom first (see `zoo.models.BlockGroups`)."""
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
        ensure_local_module(zoo.get("starter_cnn"))
    """
    if spec.builder is None:
        return
    import os

    if not os.path.exists(os.path.join(spec.handle, "saved_model.pb")):
        resolve_callable(spec.builder)(spec)


class Backbone(keras.layers.Layer):
    """Raw inputs -> ``[batch, output_dim]`` embedding for one registered backbone.

    Example:
        bb = Backbone(zoo.get("use"))
        bb(tf.constant(["hello"])).shape
        # -> TensorShape([1, 512])
    """

    def __init__(self, spec: BackboneSpec, *, trainable: bool = False, bn_training: bool = False,
                 name: str | None = None, **kwargs: Any):
        super().__init__(name=name or _layer_name(spec.name), trainable=True, **kwargs)
        self.spec = spec
        self.contract = contract_for(spec)
        if spec.pooling not in self.contract.poolings:
            raise ConfigurationError(f"backbone {spec.name!r}: pooling = {spec.pooling!r} is not supported by its contract "
                                     f"{self.contract.name!r} (supported: {', '.join(self.contract.poolings)})",
                                     backbone=spec.name, pooling=spec.pooling)
        self.bn_training = bn_training
        ensure_local_module(spec)
        self.io_local = _localhost_io()
        obj = zhub.load(spec.handle, sha256=spec.sha256, text_ops=spec.text_ops, tpu_io=self.io_local)
        self.format = zhub.module_format(obj)
        self.pre = self._pack = self._pair_pack = self._audio_obj = self.seq_length = None  # set by contracts that use them
        layer_kwargs = {"output_key": None, **self.contract.setup(self, obj)}
        if arguments := self.contract.module_arguments(spec):
            layer_kwargs["arguments"] = arguments
        if self.format == "hub":  # TF1 Hub format: only through its signature, never trainable
            obj, layer_kwargs["output_key"] = _SignatureCall(obj, layer_kwargs["output_key"] or "default"), None
        self.module = HubModule(self.contract.module_callable(self, obj), trainable=spec.fine_tunable and self.format != "hub",
                                block_pattern=spec.block_pattern, block_stages=spec.block_stages, name="module",
                                **layer_kwargs)
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
        """Stem and blocks of the module's trainable variables (`zoo.models.BlockGroups`)."""
        return self.module.groups

    def set_freeze(self, freeze: str) -> None:
        """Apply ``"frozen"``, ``"full"`` or ``"top:K"`` to this backbone's variables.

        ``top:K`` trains the K highest numbered blocks (and what lies above them, such as
        a pooler); ``full`` also trains the stem. Raises `FreezeSpecError` when the
        module's blocks cannot be found, `ModuleFormatError` for a TF1 Hub format module.

        Example:
            backbone.set_freeze("top:2")
        """
        kind, k = parse_freeze(freeze, name=f"backbone {self.spec.name!r}")
        if kind != "frozen":
            self._check_trainable(freeze)
        if kind == "top":
            self._check_blocks_found(f"freeze {freeze!r}")
            parse_freeze(freeze, blocks=len(self.blocks), name=f"backbone {self.spec.name!r}")
        self.module.trainable = kind != "frozen"
        self.module.select(self.groups.top(k) if kind == "top" else None)
        self.freeze_state = (kind, k)

    def _check_trainable(self, freeze: str) -> None:
        spec = self.spec
        if self.format == "hub":
            raise ModuleFormatError(
                f"freeze {freeze!r} is not possible for backbone {spec.name!r}: module {spec.handle} is in the legacy "
                "TF1 Hub format ('hub'), which zoo uses frozen only (through its 'default' signature); use "
                "freeze='frozen', or a TF2 SavedModel version of the module to fine-tune",
                backbone=spec.name, handle=spec.handle, format="hub", freeze=freeze,
            )
        require_fine_tunable(spec, freeze)
        if not self.module._trainable_weights:  # noqa: SLF001 - the module itself may hold none
            raise FreezeSpecError(f"freeze {freeze!r} is not possible for backbone {spec.name!r}: its module has no "
                                  "trainable variables; use freeze='frozen'", backbone=spec.name, freeze=freeze)

    def _check_blocks_found(self, what: str) -> None:
        require_block_naming(self.spec, what)
        groups = self.groups
        if groups.matched:
            return
        raise FreezeSpecError(
            f"{what} needs the blocks of backbone {self.spec.name!r}, but its block_pattern '{groups.pattern}' matches "
            f"no variable of module {self.spec.handle}, whose variables are named like "
            f"{', '.join(scope_names(groups.stem))}; fix block_pattern in the registry entry "
            f"(`zoo info {self.spec.name} --module` lists the real names), or use freeze='full' or 'frozen'",
            backbone=self.spec.name, handle=self.spec.handle, pattern=groups.pattern, scopes=scope_names(groups.stem),
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
        out = tf.cast(self.contract.call(self, inputs, training), tf.float32)
        dim = out.shape[-1]
        if dim is not None and dim != self.spec.output_dim:
            raise OutputDimMismatchError(
                f"backbone {self.spec.name!r}: module {self.spec.handle} returns {dim}-d embeddings but the registry "
                f"says output_dim = {self.spec.output_dim}; fix output_dim in the registry entry",
                backbone=self.spec.name, handle=self.spec.handle, expected=self.spec.output_dim, actual=dim,
            )
        return out

    def export_objects(self) -> list:
        """The loaded objects an export of this backbone must keep: its module(s) and what its contract calls."""
        objs = [self.module._func] + ([self.pre._func] if self.pre is not None else [])  # noqa: SLF001
        return objs + self.contract.export_objects(self)

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


def _layer_name(name: str) -> str:
    return "backbone_" + "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def load_backbone(name: str | BackboneSpec, trainable: bool = False, *, bn_training: bool = False) -> Backbone:
    """The backbone ``name`` as a tf_keras layer taking raw inputs (see module docs).

    Loads through ``tensorflow_hub``'s resolver and cache (``TFHUB_CACHE_DIR``),
    imports ``tensorflow_text`` when the module needs its ops.

    Example:
        import zoo, tensorflow as tf
        zoo.load_backbone("bert_small")(tf.constant(["a good movie"])).shape
        # -> TensorShape([1, 512])
    """
    spec = name if isinstance(name, BackboneSpec) else get(name)
    return Backbone(spec, trainable=trainable, bn_training=bn_training)
