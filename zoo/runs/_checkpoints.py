"""Per-epoch checkpoints of a ``zoo train`` run: what they hold and how they are restored.

Example:
    >>> from pathlib import Path
    >>> CheckpointInfo(Path("/r/checkpoints/epoch-0002"), 2, 0, {}).prefix.name
    'ckpt'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from zoo.errors import ConfigurationError, DataError

__all__ = ["restore_latest", "CheckpointInfo", "checkpoint_objects", "restore_weights", "checkpoint_callback"]


@dataclass
class CheckpointInfo:
    """One per-epoch checkpoint: ``epoch`` = epochs completed; ``prefix`` for ``tf.train.Checkpoint.read``.

    Example:
        >>> CheckpointInfo(Path("/r/checkpoints/epoch-0002"), 2, 0, {}).prefix.name
        'ckpt'
    """

    path: Path
    epoch: int
    stage: int
    history: dict

    @property
    def prefix(self) -> Path:
        """The checkpoint's file prefix.

        Example:
            >>> CheckpointInfo(Path("/r/c/epoch-0001"), 1, 0, {}).prefix.as_posix()
            '/r/c/epoch-0001/ckpt'
        """
        return self.path / "ckpt"


def checkpoint_objects(variables: Sequence[Any], optimizer: Any = None) -> dict:
    """What a run checkpoint holds: the model's variables (a list) and, optionally, the optimizer.

    ``variables`` must be ``list(model.variables)`` taken right after `zoo.build`, before
    any freeze change: Keras orders variables trainable-first, so the order is only
    reproducible in that state. A list rather than the model object, so that restoring
    never re-attaches optimizers Keras keeps on sub-models.

    Example:
        >>> sorted(checkpoint_objects([], "opt"))
        ['optimizer', 'variables']
    """
    objects: dict = {"variables": list(variables)}
    if optimizer is not None:
        objects["optimizer"] = optimizer
    return objects


def restore_weights(variables: Sequence[Any], checkpoint: "CheckpointInfo") -> None:
    """Load a run checkpoint into ``list(model.variables)`` of a model freshly built from the run's config.

    Raises `ConfigurationError` if the checkpoint does not fit the model (shapes or variables
    differ), `DataError` naming the file if it cannot be read at all (truncated, corrupted).

    Example:
        model = zoo.build("starter_cnn", num_classes=3)
        restore_weights(model.variables, RunDir("runs/x").latest_checkpoint())
    """
    import tensorflow as tf

    try:
        status = tf.train.Checkpoint(**checkpoint_objects(variables)).read(str(checkpoint.prefix))
        status.expect_partial()
        status.assert_existing_objects_matched()
    except (ValueError, AssertionError) as exc:  # shapes / variables differ: the model changed
        raise ConfigurationError(f"checkpoint '{checkpoint.path}' does not fit the model of run.json "
                                 f"({type(exc).__name__}: {_first_line(exc)}); start the run again with --force",
                                 path=str(checkpoint.path)) from None
    except Exception as exc:  # noqa: BLE001 - unreadable: truncated, corrupted, permissions
        raise DataError(f"checkpoint '{checkpoint.path}' cannot be read ({type(exc).__name__}: {_first_line(exc)}); "
                        "it may be truncated or corrupted: remove it to resume from the one before, or start the "
                        "run again with --force", path=str(checkpoint.path)) from None


def restore_latest(run: Any, variables: list, say: Any) -> CheckpointInfo | None:
    """Restore the newest checkpoint that can be read; an unreadable newer one (truncated, corrupted)
    is skipped with a `CheckpointWarning`. None when the run (a `RunDir`) has no checkpoint; `DataError`
    when none loads.

    Example:
        ck = restore_latest(RunDir("runs/x"), list(model.variables), print)
    """
    import warnings

    from zoo.errors import CheckpointWarning

    checkpoints, failure = run.checkpoints(), None
    for ck in reversed(checkpoints):
        try:
            restore_weights(variables, ck)
        except DataError as exc:
            failure = exc
            message = f"{exc}; resuming from the checkpoint before it"
            warnings.warn(message, CheckpointWarning, stacklevel=2)
            say(f"zoo: warning: {message}")
            continue
        return ck
    if failure is not None:
        raise DataError(f"no checkpoint of '{run.path}' can be read (the last error: {failure}); start the run "
                        "again with --force", path=str(run.path)) from None
    return None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0][:200]


def checkpoint_callback(run: Any, variables: list, cfg: Any, history: dict,
                        restore: CheckpointInfo | None, say: Callable[[str], Any]) -> Any:
    """A Keras callback checkpointing the run after every epoch (and restoring the optimizer on resume)."""
    import tensorflow as tf

    from zoo.tfk import keras

    class EpochCheckpoint(keras.callbacks.Callback):
        """Checkpoint the FULL model's variables (and the optimizer in use) after every epoch.

        With cached features Keras trains the head sub-model, so ``self.model`` may be
        the head: the full model's variables are kept here."""

        def __init__(self) -> None:
            super().__init__()
            self.run_variables, self.restore, self.history = variables, restore, history
            self.optimizer_restored = False

        def on_train_begin(self, logs: Any = None) -> None:
            ck, self.restore = self.restore, None
            if ck is None or cfg.stage_of(ck.epoch) != ck.stage:
                return  # a new stage starts with a fresh optimizer, as in an uninterrupted run
            opt = self.model.optimizer
            try:
                opt.build(self.model.trainable_variables)
                status = tf.train.Checkpoint(**checkpoint_objects(self.run_variables, opt)).read(str(ck.prefix))
                status.expect_partial()
                self.optimizer_restored = True
            except Exception as exc:  # noqa: BLE001 - weights are already restored; the optimizer restarts
                say(f"zoo: note: optimizer state not restored ({type(exc).__name__}); continuing with a fresh optimizer")

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            for k, v in (logs or {}).items():
                self.history.setdefault(k, []).append(float(v))
            run.save_checkpoint(checkpoint_objects(self.run_variables, self.model.optimizer), epoch=epoch + 1,
                                stage=cfg.stage_of(epoch), history=self.history)

    return EpochCheckpoint()
