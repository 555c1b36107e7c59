"""Learning rates, optimizers and compiling: the defaults zoo trains with, in one place.

With frozen backbones the head trains at `FROZEN_LEARNING_RATE`; while a backbone
fine-tunes, it trains at its contract's rate (AdamW with linear warm-up for BERT-style
encoders) and the new head at `HEAD_LEARNING_RATE`, applied as per-variable scales
(`set_lr_scales`, with layer-wise decay) by `zoo.models._model.ZooModel.train_step`.

Example:
    >>> round(float(WarmupLinear(1e-3, 10)(4)), 6)
    0.0005
"""

from __future__ import annotations

from typing import Any, Sequence

from zoo.errors import ConfigurationError
from zoo.models._freeze import parse_freeze
from zoo.models._model import ZooModel
from zoo.registry import BackboneSpec
from zoo.registry import TaskSpec, resolve_callable
from zoo.tfk import keras, tf

__all__ = ["HEAD_LEARNING_RATE", "FROZEN_LEARNING_RATE", "WarmupLinear", "WarmupLinearBody", "warmup_linear", "adamw_recipe", "learning_rates", "make_optimizer",
           "compile_model", "loss_and_metrics", "set_lr_scales"]

HEAD_LEARNING_RATE = 1e-3  # a freshly initialised head while the backbone fine-tunes at a far smaller rate
FROZEN_LEARNING_RATE = 3e-3  # the head alone on frozen features (measured on a real pretrained encoder: README)


class WarmupLinearBody:
    """What the tf_keras and the Keras 3 warm-up schedules share (arguments, rate, config); each Keras
    version's class puts this before its own ``LearningRateSchedule`` base."""

    def __init__(self, peak: float, warmup_steps: int, total_steps: int | None = None):
        self.peak, self.warmup_steps, self.total_steps = float(peak), int(warmup_steps), total_steps

    def __call__(self, step: Any) -> Any:
        return warmup_linear(step, self.peak, self.warmup_steps, self.total_steps)

    def get_config(self) -> dict:
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps}


@keras.utils.register_keras_serializable(package="zoo")
class WarmupLinear(WarmupLinearBody, keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup_steps``, then linear decay to 0 at ``total_steps`` (if set).

    Example:
        float(WarmupLinear(1e-3, 10)(4))
        # -> 0.0005
    """


def warmup_linear(step: Any, peak: float, warmup_steps: int, total_steps: int | None) -> Any:
    """The rate of `WarmupLinear` at ``step`` (shared by the Keras 3 schedule).

    Example:
        float(warmup_linear(9, 1e-3, 10, 20))
        # -> 0.001
    """
    step = tf.cast(step, tf.float32)
    warm = tf.cast(max(warmup_steps, 1), tf.float32)
    lr = peak * tf.minimum(1.0, (step + 1.0) / warm)
    if total_steps:
        total = tf.cast(max(total_steps, warmup_steps + 1), tf.float32)
        decay = tf.clip_by_value((total - step) / (total - warm), 0.0, 1.0)
        lr = tf.where(step < warm, lr, peak * decay)
    return lr


def adamw_recipe(specs: Sequence[BackboneSpec], freezes: Sequence[str]) -> bool:
    """Whether a backbone that trains asks for AdamW with warm-up (its contract's recipe).

    Example:
        adamw_recipe([zoo.get("bert_small")], ["full"])
        # -> True
    """
    return _adamw([s for s, f in zip(specs, freezes) if parse_freeze(f)[0] != "frozen"])


def _adamw(specs: Sequence[BackboneSpec]) -> bool:
    """Whether a backbone being trained asks for AdamW with warm-up (its contract's recipe)."""
    from zoo.models.contracts import contract_for

    return any(contract_for(s).fine_tune_adamw for s in specs)


def _fine_tune_rate(specs: Sequence[BackboneSpec]) -> float:
    from zoo.models.contracts import contract_for

    return min(contract_for(s).fine_tune_rate for s in specs)


def learning_rates(specs: Sequence[BackboneSpec], freezes: Sequence[str], learning_rate: float | None = None,
                   head_learning_rate: float | None = None) -> tuple[float, float]:
    """``(backbone rate, head rate)``. Frozen backbones: the head alone trains, at ``head_learning_rate``
    or ``learning_rate`` or `FROZEN_LEARNING_RATE` (3e-3). Fine-tuning: the backbone at ``learning_rate`` or the default (3e-5
    for BERT-style text, the peak of AdamW's warm-up schedule; 1e-4 otherwise), the new head at
    ``head_learning_rate`` or `HEAD_LEARNING_RATE`: the backbone's rate is far too small for it.

    Example:
        learning_rates([zoo.get("bert_small")], ["full"])
        # -> (3e-05, 0.001)
    """
    training = [s for s, f in zip(specs, freezes) if parse_freeze(f)[0] != "frozen"]
    if not training:
        lr = head_learning_rate or learning_rate or FROZEN_LEARNING_RATE
        return lr, lr
    base = learning_rate or _fine_tune_rate(training)
    return base, head_learning_rate or HEAD_LEARNING_RATE


def make_optimizer(specs: Sequence[BackboneSpec], freezes: Sequence[str], learning_rate: float | None = None,
                   *, total_steps: int | None = None) -> Any:
    """The default optimizer at ``learning_rate`` (the backbone's rate, see `learning_rates`): Adam 3e-3
    for frozen backbones, Adam 1e-4 for fine-tuning vision/audio, AdamW 3e-5 with linear warm-up (10%)
    for BERT-style text. The head's own rate is applied by `set_lr_scales`.

    Example:
        type(make_optimizer([zoo.get("bert_small")], ["full"])).__name__
        # -> 'AdamW'
    """
    training = [s for s, f in zip(specs, freezes) if parse_freeze(f)[0] != "frozen"]
    if training and _adamw(training):
        peak = learning_rate or _fine_tune_rate(training)
        warmup = max(1, int(0.1 * total_steps)) if total_steps else 10
        return keras.optimizers.AdamW(learning_rate=WarmupLinear(peak, warmup, total_steps), weight_decay=0.01)
    lr = learning_rate or (_fine_tune_rate(training) if training else FROZEN_LEARNING_RATE)
    return keras.optimizers.Adam(learning_rate=lr)


def compile_model(model: ZooModel, optimizer: Any, *, mixed_precision: bool = False) -> None:
    """(Re)compile a zoo model and its head sub-model with the task's loss and metrics.

    Example:
        compile_model(model, keras.optimizers.Adam(1e-3))
    """
    parts = model.zoo
    if mixed_precision and parts.config.get("mixed_precision_policy") == "mixed_float16":
        optimizer = keras.mixed_precision.LossScaleOptimizer(optimizer)
    with parts.strategy.scope():
        loss, metrics = loss_and_metrics(parts)
        model.compile(optimizer=optimizer, loss=loss, metrics=metrics)


def loss_and_metrics(parts: Any) -> tuple[Any, list]:
    task: TaskSpec = parts.task
    if task.compile is None:
        raise ConfigurationError(f"task {task.name!r} defines no loss; give its TaskSpec a compile function")
    fn = resolve_callable(task.compile)
    return fn(num_classes=parts.config.get("num_classes"), options=parts.config.get("task_options", {}))



def set_lr_scales(model: ZooModel, layer_decay: float | None, learning_rate: float | None = None) -> float:
    """Per-variable learning-rate scales for the current freeze state; returns the backbone's rate.

    Backbone blocks get ``layer_decay ** depth`` (top block 1, stem deepest); while a backbone
    fine-tunes, the head's variables get ``head rate / backbone rate`` (`learning_rates`).

    Example:
        set_lr_scales(model, 0.8)
        # -> 0.0001
    """
    parts = model.zoo
    freezes = [bb.freeze_spec for bb in parts.backbones]
    base, head = learning_rates([bb.spec for bb in parts.backbones], freezes, learning_rate,
                                parts.config.get("head_learning_rate"))
    scales = {}
    if layer_decay and layer_decay != 1:
        for bb in parts.backbones:
            if not bb.is_frozen:
                for ref, depth in bb.block_depths().items():
                    scales[ref] = float(layer_decay) ** depth
    if head != base and parts.head_model is not None:
        for v in parts.head_model.trainable_variables:
            scales[v.ref()] = head / base
    parts.lr_scales = scales
    return base

