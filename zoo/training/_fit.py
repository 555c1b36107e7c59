"""`zoo.fit`: freeze schedules, and fast frozen-backbone training by feature caching.

When every backbone is frozen and the input pipeline has no random ops, the
backbone's features are computed once (in memory, or on disk past
``ZOO_FEATURE_CACHE_MB``, default 2048) and the head is trained on them; the
full raw-input model shares the head's weights, so it is trained too.

Example:
    model = zoo.build("mobilenet_v2", num_classes=3)
    history = zoo.fit(model, (images, labels), epochs=5)
    sorted(history.history)
    # -> ['accuracy', 'loss']
"""

from __future__ import annotations

import os

from typing import Any, Sequence


from zoo.models import compile_model, make_optimizer, set_lr_scales
from zoo.errors import ConfigurationError
from zoo.models import FreezeSchedule, Stage, parse_freeze
from zoo.data import as_dataset
from zoo.models import check_inputs
from zoo.models import ZooModel
from zoo.tfk import keras, tf
from zoo.training._features import has_random_ops, SpillDir, extract_features, _batch_size_of, _known_batches

__all__ = ["fit"]


def _one_pass_per_epoch(ds: Any, strategy: Any) -> tuple[Any, dict]:
    """``(dataset, fit kwargs)`` that keep ONE iterator for the whole run.

    Keras re-creates the iterator of a finite dataset at every epoch; on a busy
    CPU that has cost up to 8 s per epoch (measured: benchmark case 2). With a
    known number of batches ``n``, ``ds.repeat()`` and ``steps_per_epoch=n``
    give the same batches (re-shuffled every pass) from one iterator. Not under
    multi-worker training, where each worker's shard is smaller than ``n``.
    """
    n = _known_batches(ds)
    multi_worker = getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)()
    if n is None or multi_worker:
        return ds, {}
    return ds.repeat(), {"steps_per_epoch": n}


def _merge(total: dict, history: Any, epochs_seen: list) -> None:
    for k, v in history.history.items():
        total.setdefault(k, []).extend(v)
    epochs_seen.extend(e for e in history.epoch)


def fit(model: ZooModel, data: Any, *, epochs: int | None = None, schedule: FreezeSchedule | Sequence[Stage] | None = None,
        validation_data: Any = None, cache_features: bool | None = None, batch_size: int = 32,
        callbacks: Sequence[Any] | None = None, verbose: Any = "auto", initial_epoch: int = 0,
        tensorboard: str | os.PathLike | None = None) -> Any:
    """Train a `zoo.build` model; returns one ``keras.callbacks.History`` over all stages.

    Args:
        data: ``tf.data.Dataset`` of ``(inputs, labels)`` batches, a zoo ``data.Dataset``,
            or an ``(inputs, labels)`` tuple of arrays / lists.
        epochs: epochs with the model's own freeze setting (when no schedule).
        schedule: a `zoo.FreezeSchedule` (or list of `zoo.Stage`): e.g. head only, then ``top:2``, then ``full``.
        cache_features: None (auto: when every backbone is frozen and the pipeline has no random ops),
            True or False.
        initial_epoch: resume from this epoch (stages before it are skipped).
        tensorboard: a folder for TensorBoard logs (epoch losses and metrics, learning rate, stage boundaries).

    Example:
        sched = zoo.FreezeSchedule([zoo.Stage("frozen", 2, 1e-3), zoo.Stage("top:2", 1, 1e-4)])
        zoo.fit(model, train_ds, schedule=sched, validation_data=val_ds)
    """
    if not isinstance(model, ZooModel):
        raise ConfigurationError(f"zoo.fit takes a model from zoo.build, got {type(model).__name__}; use model.fit for others")
    parts = model.zoo
    if isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], tf.data.Dataset):
        check_inputs([b.spec for b in parts.backbones], data[0], fused=len(parts.backbones) > 1,
                     names=parts.config.get("inputs"))
    ds = as_dataset(data, batch_size, shuffle=True)
    val = as_dataset(validation_data, batch_size) if validation_data is not None else None
    if val is None:
        val = getattr(data, "val", None)  # a zoo.data Dataset brings its validation split
    if schedule is None:
        if epochs is None:
            raise ConfigurationError("zoo.fit needs epochs=N or schedule=zoo.FreezeSchedule([...])")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ConfigurationError(f"epochs must be a positive integer, got {epochs!r}")
        stages: list[Stage | None] = [None]
        stage_epochs = [epochs]
    else:
        sched = schedule if isinstance(schedule, FreezeSchedule) else FreezeSchedule(list(schedule))
        stages = list(sched.stages)
        stage_epochs = [s.epochs for s in sched.stages]

    if tensorboard is not None:
        from zoo.training._tensorboard import tensorboard_callbacks

        callbacks = list(callbacks or []) + tensorboard_callbacks(tensorboard, [s for s in stages if s is not None])
    spill = SpillDir()
    try:
        total, seen = _run_stages(model, ds, val, stages, stage_epochs, cache_features=cache_features,
                                  initial_epoch=initial_epoch, callbacks=callbacks, verbose=verbose, spill=spill)
    finally:  # features spilled to disk are removed however fit ends (error, Ctrl-C)
        spill.close()
    history = keras.callbacks.History()
    history.set_model(model)
    history.history, history.epoch = total, seen
    return history


def _run_stages(model: ZooModel, ds: Any, val: Any, stages: list, stage_epochs: list, *, cache_features: Any,
                initial_epoch: int, callbacks: Any, verbose: Any, spill: SpillDir) -> tuple[dict, list]:
    parts = model.zoo
    total: dict = {}
    seen: list = []
    epoch = 0
    random_pipeline = has_random_ops(ds) if cache_features is None else False
    cached = {}
    steps = _known_batches(ds)
    for stage, n_epochs in zip(stages, stage_epochs):
        start, end = epoch, epoch + n_epochs
        epoch = end
        if end <= initial_epoch:
            continue
        if stage is not None:
            _apply_stage(model, stage, total_steps=(steps * n_epochs) if steps else None)
        else:
            _fit_warmup(model, (steps * n_epochs) if steps else None)
        if not model.trainable_weights:
            raise ConfigurationError(
                "nothing to train: every backbone is frozen and the head has no weights of its own (e.g. task "
                "'embedding' without projection_dim); pass projection_dim=128, a head, or freeze='full'/'top:K'"
            )
        frozen = all(b.is_frozen for b in parts.backbones)
        use_cache = frozen and (cache_features or (cache_features is None and not random_pipeline))
        if cache_features and not frozen:
            raise ConfigurationError("cache_features=True needs every backbone frozen in this stage; use freeze='frozen'")
        first = max(start, initial_epoch)
        if use_cache:
            if "train" not in cached:
                cached["train"] = extract_features(model, ds, verbose=1 if verbose else 0, spill=spill)
                cached["bs"] = _batch_size_of(ds)
                if val is not None:
                    cached["val"] = extract_features(model, val, verbose=0, spill=spill).batch(cached["bs"])
            hm = parts.head_model
            with parts.strategy.scope():
                hm.compile(optimizer=model.optimizer, loss=model.loss, metrics=_fresh_metrics(model))
            train_feats = cached["train"].shuffle(100_000, seed=first, reshuffle_each_iteration=True).batch(cached["bs"])
            train_feats, per_epoch = _one_pass_per_epoch(train_feats, parts.strategy)
            h = hm.fit(train_feats, epochs=end, initial_epoch=first, validation_data=cached.get("val"),
                       callbacks=callbacks, verbose=verbose, **per_epoch)
        else:
            train, per_epoch = _one_pass_per_epoch(ds, parts.strategy)
            h = model.fit(train, epochs=end, initial_epoch=first, validation_data=val, callbacks=callbacks,
                          verbose=verbose, **per_epoch)
        _merge(total, h, seen)
    return total, seen


def _fit_warmup(model: ZooModel, total_steps: int | None) -> None:
    # a BERT-style default schedule learns the run's length once it is known
    from zoo.models import WarmupLinear

    lr = getattr(model.optimizer, "_learning_rate", None)
    if isinstance(lr, WarmupLinear) and lr.total_steps is None and total_steps and model.train_function is None:
        lr.total_steps, lr.warmup_steps = total_steps, max(1, total_steps // 10)


def _fresh_metrics(model: ZooModel) -> list:
    from zoo.models import loss_and_metrics

    return loss_and_metrics(model.zoo)[1]


def _apply_stage(model: ZooModel, stage: Stage, *, total_steps: int | None) -> None:
    parts = model.zoo
    kind, _ = parse_freeze(stage.freeze)
    freezes = []
    for bb in parts.backbones:
        if kind != "frozen" and not bb.spec.fine_tunable:
            freezes.append("frozen")  # a non-fine-tunable module in a fusion stays frozen
        else:
            freezes.append(stage.freeze)
        bb.set_freeze(freezes[-1])
    parts.config["freeze"] = {bb.spec.name: f for bb, f in zip(parts.backbones, freezes)}
    lr = stage.learning_rate or parts.config.get("learning_rate")
    decay = stage.layer_decay if stage.layer_decay is not None else parts.config.get("layer_decay")
    base = set_lr_scales(model, decay, lr)
    opt = make_optimizer([b.spec for b in parts.backbones], freezes, base, total_steps=total_steps)
    compile_model(model, opt, mixed_precision=bool(parts.config.get("mixed_precision_policy")))
