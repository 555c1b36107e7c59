"""Per-epoch checkpoints of a ``zoo train`` run: what they hold and how they are restored.

Example:
    >>> from pathlib import Path
    >>> CheckpointInfo(Path("/r/checkpoints/epoch-0002"), 2, 0, {}).prefix.name
    'ckpt'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from zoo.errors import ConfigurationError, DataError

__all__ = ["restore_latest", "CheckpointInfo", "checkpoint_objects", "restore_weights"]


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
