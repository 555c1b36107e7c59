"""`zoo.build`: one call from a registered backbone (or several) to a compiled model.

Example:
    import zoo
    model = zoo.build("mobilenet_v2", task="classification", num_classes=5)
    model.predict(images_0_255).shape
    # -> (n, 5)
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

from zoo.models._backbones import Backbone
from zoo.models._distribute import resolve_strategy
from zoo.errors import ConfigurationError, FreezeSpecError, StrategyError, ZooError
from zoo.models._freeze import check_freeze, default_freeze
from zoo.models._model import ZooModel
from zoo.models._optimizers import compile_model, make_optimizer, set_lr_scales
from zoo.registry import get, get_task
from zoo.registry import BackboneSpec
from zoo.registry import TaskSpec, resolve_callable
from zoo.tfk import keras, tf

__all__ = ["build", "default_freeze", "input_layer", "plan_build", "head_options", "mixed_policy"]

def input_layer(spec: BackboneSpec, name: str | None = None) -> Any:
    """The raw-input ``keras.Input`` for a backbone (pixels / strings / waveforms).

    Example:
        input_layer(zoo.get("use")).dtype
        # -> tf.string
    """
    from zoo.models.contracts import contract_for

    return contract_for(spec).keras_input(spec, name or spec.name)


def mixed_policy(mixed_precision: bool) -> str | None:
    """The head's dtype policy for ``mixed_precision``: float16 on a GPU, bfloat16 elsewhere (None: off)."""
    if not mixed_precision:
        return None
    return "mixed_float16" if tf.config.list_logical_devices("GPU") else "mixed_bfloat16"


def _fuse(features: list, names: list[str], mode: str, dim: int | None) -> Any:
    if len(features) == 1:
        return features[0]
    if mode == "concat":
        return keras.layers.Concatenate(name="fusion_concat")(features)
    if mode == "gated":
        d = dim or min(int(f.shape[-1]) for f in features)
        projected = [keras.layers.Dense(d, name=f"fusion_proj_{i}")(f) for i, f in enumerate(features)]
        gate_logits = keras.layers.Dense(len(features), name="fusion_gate")(keras.layers.Concatenate()(features))
        gates = keras.layers.Softmax(name="fusion_gate_softmax")(gate_logits)
        stacked = keras.layers.Lambda(lambda t: tf.stack(t, axis=1), name="fusion_stack")(projected)
        return keras.layers.Dot(axes=(1, 1), name="fusion_gated_sum")([gates, stacked])
    raise ConfigurationError(f"unknown fusion {mode!r}; use 'concat' or 'gated'")


def _check_num_classes(task: TaskSpec, num_classes: Any) -> int | None:
    if num_classes is None:
        if task.needs_num_classes:
            raise ConfigurationError(
                f"task {task.name!r} needs num_classes, e.g. zoo.build(name, task={task.name!r}, num_classes=5)"
            )
        return None
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
        raise ConfigurationError(f"num_classes must be a positive integer, got {num_classes!r}")
    if task.name == "classification" and num_classes < 2:
        raise ConfigurationError(f"classification needs num_classes >= 2, got {num_classes}; use task='binary' for one output")
    return num_classes


def head_options(head: Any, dropout: float, task_options: dict, k: Any = keras) -> tuple[Callable | None, dict]:
    """``(head function or None, task head options)`` from ``build``'s ``head`` argument, for Keras ``k``
    (tf_keras, or Keras 3 for ``keras=3``): a list of ``k`` layers goes before the task's output layer."""
    options = {"dropout": dropout, **task_options}
    if head is None:
        return None, options
    if callable(head) and not isinstance(head, k.layers.Layer):
        return head, options
    if isinstance(head, k.layers.Layer):
        head = [head]
    if isinstance(head, (list, tuple)) and all(isinstance(h, k.layers.Layer) for h in head):
        return None, {**options, "hidden_layers": list(head)}
    if k is keras:
        raise ConfigurationError(
            f"head must be a list of tf_keras layers or a callable features -> outputs, got {type(head).__name__}; "
            "note: Keras 3 layers (keras.layers.*) cannot be mixed with TF Hub layers in a tf_keras model: use "
            "tf_keras.layers, or zoo.build(..., keras=3) for a Keras 3 model")
    raise ConfigurationError(
        f"head must be a list of Keras 3 layers or a callable features -> outputs, got {type(head).__name__}; "
        "with keras=3 the head is Keras 3 (keras.layers.*), not tf_keras")


def build(name: str | Sequence[str], task: str = "classification", *, num_classes: int | None = None,
          freeze: str | dict | None = None, head: Any = None, strategy: Any = None,
          learning_rate: float | None = None, layer_decay: float | None = None, fusion: str = "concat",
          fusion_dim: int | None = None, dropout: float = 0.2, mixed_precision: bool = False,
          bn_training: bool = False, class_names: Sequence[str] | None = None,
          head_learning_rate: float | None = None, pooling: str | None = None, keras: int = 2,
          **task_options: Any) -> Any:
    """Build a compiled tf_keras model (``keras=3``: a Keras 3 model): raw inputs -> backbone(s) -> task head.

    Args:
        name: a registered backbone, or a list of them (fusion: inputs become a dict keyed by name).
        task: a registered task (`zoo.list_tasks()`): classification, sentiment, binary,
            multilabel, regression, embedding, pair_classification / pair_regression (inputs
            ``{"text_a", "text_b"}``), token_classification (one tag per word), or one from a plugin.
        num_classes: classes (classification, multilabel) or outputs (regression).
        freeze: ``"frozen"``, ``"full"``, ``"top:K"``, or a dict per backbone name.
            Default: ``"full"`` for BERT-style text, ``"frozen"`` otherwise.
        head: list of tf_keras layers put before the task's output layer, or a callable
            ``features -> outputs`` replacing the whole head.
        strategy: ``tf.distribute`` strategy object or ``"auto"|"cpu"|"mirrored"|"multiworker"|"tpu"``.
        learning_rate: the backbone's rate when it fine-tunes (default: the task's ``default_lr`` if it
            sets one, else 1e-4; 3e-5 AdamW + warm-up for
            BERT-style text); with frozen backbones, the head's rate (default 3e-3).
        head_learning_rate: the new head's rate while a backbone fine-tunes (default 1e-3): a freshly
            initialised head needs a far larger rate than pretrained weights.
        pooling: text encoders: ``"output"`` (the entry's ``output_key``, e.g. ``pooled_output``) or
            ``"mean"`` (mean of ``sequence_output`` over the real tokens); default: the registry entry's.
        layer_decay: scale each backbone block's learning rate by ``layer_decay ** depth_from_top``.
        fusion: ``"concat"`` or ``"gated"`` for several backbones.
        mixed_precision: compute the head in float16/bfloat16; the SavedModel backbone keeps the dtype it
            was saved with (TF Hub modules are float32), so only the head benefits.
        bn_training: update batch-norm statistics while fine-tuning (default: kept in inference mode).
        keras: 2 (default) for a tf_keras `ZooModel` (what ``zoo.fit``, ``zoo train`` and ``zoo export`` take),
            3 for a Keras 3 ``keras.Model`` (``model.fit``, ``model.save("m.keras")``, ``model.export``;
            see `zoo.keras3` for what differs).
        **task_options: passed to the task head (e.g. ``projection_dim`` for ``embedding``).

    Example:
        model = zoo.build("bert_small", task="sentiment")
        model.predict(["a wonderful film"]).shape
        # -> (1, 1)
    """
    if keras not in (2, 3) and not (isinstance(keras, str) and keras in ("2", "3")):
        raise ConfigurationError(f"keras must be 2 (tf_keras) or 3, got {keras!r}", keras=keras)
    plan = plan_build(name, task, num_classes=num_classes, freeze=freeze, learning_rate=learning_rate,
                      layer_decay=layer_decay, head_learning_rate=head_learning_rate, class_names=class_names,
                      pooling=pooling)
    if int(keras) == 3:
        from zoo.models._keras3_build import build3

        if plan["task"].inputs or plan["task"].features:
            raise ConfigurationError(f"task {plan['task'].name!r} is built with tf_keras only; drop keras=3",
                                     task=plan["task"].name)

        return build3(plan, head=head, strategy=strategy, fusion=fusion, fusion_dim=fusion_dim, dropout=dropout,
                      mixed_precision=mixed_precision, bn_training=bn_training, **task_options)
    return _build2(plan, head=head, strategy=strategy, fusion=fusion, fusion_dim=fusion_dim, dropout=dropout,
                   mixed_precision=mixed_precision, bn_training=bn_training, **task_options)


def plan_build(name: Any, task: Any, *, num_classes: Any, freeze: Any, learning_rate: Any, layer_decay: Any,
               head_learning_rate: Any, class_names: Any, pooling: Any) -> dict:
    """Check ``build``'s arguments (the same for both Keras versions) and resolve them: specs, task,
    classes, one freeze per backbone, rates. Raises the `ZooError` naming what is wrong."""
    names = [name] if isinstance(name, (str, BackboneSpec)) else list(name)
    if not names:
        raise ConfigurationError("build() needs at least one backbone name")
    specs = [n if isinstance(n, BackboneSpec) else get(n) for n in names]
    if pooling is not None:
        from zoo.models.contracts import contract_for

        bad = [s.name for s in specs if pooling not in contract_for(s).poolings]
        if bad:
            raise ConfigurationError(f"pooling={pooling!r} is not supported by {', '.join(map(repr, bad))}; "
                                     "'mean' pooling is for encoders with a sequence_output (BERT-style)")
        try:
            specs = [s.replace(pooling=pooling) for s in specs]
        except ZooError as exc:
            raise ConfigurationError(f"pooling={pooling!r}: {exc}") from None
    if len({s.name for s in specs}) != len(specs):
        raise ConfigurationError(f"backbone names must be distinct, got {[s.name for s in specs]}")
    task_spec = task if isinstance(task, TaskSpec) else get_task(task)
    if task_spec.inputs and len(specs) != 1:
        raise ConfigurationError(f"task {task_spec.name!r} takes one backbone (its inputs {list(task_spec.inputs)} "
                                 f"go through it), got {[s.name for s in specs]}", task=task_spec.name)
    for s in specs:
        if task_spec.modalities and s.modality not in task_spec.modalities:
            raise ConfigurationError(
                f"task {task_spec.name!r} is for {'/'.join(task_spec.modalities)} backbones, but {s.name!r} is {s.modality}; "
                f"use task='classification' or 'binary'"
            )
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        if num_classes is None and task_spec.needs_num_classes:
            num_classes = len(class_names)
    num_classes = _check_num_classes(task_spec, num_classes)
    if task_spec.name in ("sentiment", "binary") and num_classes not in (None, 1, 2):
        raise ConfigurationError(f"task {task_spec.name!r} has one sigmoid output; num_classes must be 2 (or None), got {num_classes}")
    if isinstance(freeze, dict):
        unknown = [k for k in freeze if k not in {s.name for s in specs}]
        if unknown:
            raise FreezeSpecError(f"freeze dict names {unknown}, which are not backbones of this model {[s.name for s in specs]}")
        freezes = [freeze.get(s.name, default_freeze(s)) for s in specs]
    else:
        freezes = [freeze if freeze is not None else default_freeze(s) for s in specs]
    for s, f in zip(specs, freezes):
        check_freeze(s, f)
    if layer_decay is not None and not (isinstance(layer_decay, (int, float)) and 0 < layer_decay <= 1):
        raise ConfigurationError(f"layer_decay must be in (0, 1], got {layer_decay!r}")
    if learning_rate is None:
        learning_rate = task_spec.default_lr  # the task's own default, else the per-backbone default
    for label, value in (("learning_rate", learning_rate), ("head_learning_rate", head_learning_rate)):
        if value is not None and not (isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0):
            raise ConfigurationError(f"{label} must be a positive number, got {value!r}")
    return dict(specs=specs, task=task_spec, num_classes=num_classes, freezes=freezes, learning_rate=learning_rate,
                layer_decay=layer_decay, head_learning_rate=head_learning_rate, class_names=class_names)


def _build2(plan: dict, *, head: Any, strategy: Any, fusion: str, fusion_dim: Any, dropout: float,
            mixed_precision: bool, bn_training: bool, **task_options: Any) -> ZooModel:
    specs, task_spec, num_classes, freezes = plan["specs"], plan["task"], plan["num_classes"], plan["freezes"]
    learning_rate, layer_decay, class_names = plan["learning_rate"], plan["layer_decay"], plan["class_names"]
    head_learning_rate = plan["head_learning_rate"]
    head_fn, options = head_options(head, dropout, task_options)
    strat = resolve_strategy(strategy)
    if layer_decay and strat.num_replicas_in_sync > 1:
        raise StrategyError("layer_decay is not supported with several replicas yet; drop layer_decay or use one device")

    policy = mixed_policy(mixed_precision)

    with strat.scope():
        backbones = [Backbone(s, bn_training=bn_training) for s in specs]
        for bb, f in zip(backbones, freezes):
            bb.set_freeze(f)
        if task_spec.features:  # the task makes the features: a text pair joined, one vector per word
            inputs = ({n: input_layer(specs[0], n) for n in task_spec.inputs} if task_spec.inputs
                      else {s.name: input_layer(s) for s in specs})
            features = [resolve_callable(task_spec.features)(backbones, inputs, options)]
            feat_inputs = [keras.Input(shape=features[0].shape[1:], name=f"{task_spec.name}_features")]
        else:
            inputs = {s.name: input_layer(s) for s in specs}
            features = [bb(inputs[s.name]) for s, bb in zip(specs, backbones)]
            feat_inputs = [keras.Input(shape=(s.output_dim,), name=f"{s.name}_features") for s in specs]
        feature_model = keras.Model(inputs if task_spec.inputs else list(inputs.values()), features, name="features")
        fused = _fuse(feat_inputs, [s.name for s in specs], fusion, fusion_dim)
        if policy:
            fused = keras.layers.Activation("linear", dtype=policy, name="to_compute_dtype")(fused)
        if head_fn is not None:
            outputs = head_fn(fused)
        else:
            build_head = resolve_callable(task_spec.head)
            outputs = build_head(fused, num_classes=num_classes, options={**options, "policy": policy})
        head_model = keras.Model(feat_inputs if len(feat_inputs) > 1 else feat_inputs[0], outputs, name="head")
        raw_inputs = list(inputs.values())
        # the head on the backbone outputs already traced (one symbolic pass through each module)
        outputs = head_model(features if len(features) > 1 else features[0])
        model_inputs = inputs if len(inputs) > 1 else raw_inputs[0]
        model = ZooModel(inputs=model_inputs, outputs=outputs, name=f"zoo_{task_spec.name}")

    parts = model.zoo
    parts.backbones, parts.feature_model, parts.head_model = backbones, feature_model, head_model
    parts.task, parts.strategy = task_spec, strat
    parts.config = {
        "backbones": [s.name for s in specs], "task": task_spec.name, "num_classes": num_classes,
        "freeze": dict(zip([s.name for s in specs], freezes)), "learning_rate": learning_rate,
        "layer_decay": layer_decay, "head_learning_rate": head_learning_rate, "fusion": fusion, "class_names": list(class_names) if class_names else None,
        "mixed_precision_policy": policy, "task_options": {k: v for k, v in options.items() if k != "hidden_layers"},
        "inputs": list(task_spec.inputs) or None,
    }
    base = set_lr_scales(model, layer_decay, learning_rate)
    compile_model(model, make_optimizer(specs, freezes, base), mixed_precision=bool(policy))
    return model
