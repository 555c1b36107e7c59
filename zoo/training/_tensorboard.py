"""TensorBoard logs of a training run: per-epoch losses and metrics, the learning rate, the stages of a
freeze schedule, and (``zoo train``) the validation confusion matrix as an image.

Keras' own ``TensorBoard`` callback writes the losses and metrics (``train/`` and ``validation/``);
`StageLog` adds, under ``train/``, the learning rate at the end of every epoch and one ``stage``
text and scalar at the first epoch of every stage (a freeze schedule trains each stage with its own
``fit`` call, so the boundaries are where ``on_train_begin`` fires). View with
``tensorboard --logdir RUN/tensorboard``.

Example (prose: it trains)::

    zoo.fit(model, data, schedule=sched, tensorboard="runs/r/tensorboard")
"""

from __future__ import annotations

import os
from typing import Any

from zoo.tfk import keras, tf

__all__ = ["tensorboard_callbacks", "StageLog", "log_image", "write_projector"]


class StageLog(keras.callbacks.Callback):
    """Learning rate per epoch and freeze-stage boundaries, into ``logdir/train``."""

    def __init__(self, logdir: str | os.PathLike, stages: list | None = None):
        super().__init__()
        self.writer = tf.summary.create_file_writer(os.path.join(str(logdir), "train"))
        self.stages, self.stage = list(stages or []), -1
        self.epoch = 0

    def on_train_begin(self, logs: Any = None) -> None:
        self.stage += 1
        stage = self.stages[self.stage] if self.stage < len(self.stages) else None
        what = f"stage {self.stage + 1}: " + (f"freeze {stage.freeze}, {stage.epochs} epochs" if stage is not None
                                              else "one stage")
        with self.writer.as_default():
            tf.summary.text("stage_description", what, step=self.epoch)
            tf.summary.scalar("stage", self.stage + 1, step=self.epoch)
        self.writer.flush()

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch = epoch

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        opt = self.model.optimizer
        lr = opt.learning_rate
        value = lr(opt.iterations) if callable(lr) else lr
        with self.writer.as_default():
            tf.summary.scalar("learning_rate", float(tf.convert_to_tensor(value)), step=epoch)
        self.writer.flush()
        self.epoch = epoch + 1


def tensorboard_callbacks(logdir: str | os.PathLike, stages: list | None = None) -> list:
    """Keras' ``TensorBoard`` (epoch metrics; no graph, no profiling) and a `StageLog`, writing to ``logdir``."""
    return [keras.callbacks.TensorBoard(log_dir=str(logdir), write_graph=False, profile_batch=0, update_freq="epoch"),
            StageLog(logdir, stages)]


def log_image(logdir: str | os.PathLike, name: str, png: bytes, step: int) -> None:
    """Write a PNG into ``logdir/validation`` as an image summary (e.g. the confusion matrix at the end of a run)."""
    writer = tf.summary.create_file_writer(os.path.join(str(logdir), "validation"))
    with writer.as_default():
        tf.summary.image(name, tf.io.decode_png(png)[None], step=step)
    writer.flush()


def write_projector(logdir: str | os.PathLike, records: list[dict], vectors: Any) -> str:
    """A TensorBoard projector for embeddings: ``vectors.tsv``, ``metadata.tsv`` (path, line) and
    ``projector_config.pbtxt`` in ``logdir`` (view with ``tensorboard --logdir LOGDIR``). Returns the config path.

    Example:
        write_projector("out/projector", *zoo.runs.read_batch_output("out/emb"))
        # -> 'out/projector/projector_config.pbtxt'
    """
    import numpy as np
    from tensorboard.plugins import projector

    from zoo.atomic import atomic_write_text

    os.makedirs(logdir, exist_ok=True)
    vectors = np.asarray(vectors, np.float32)
    atomic_write_text(os.path.join(logdir, "vectors.tsv"),
                      "".join("\t".join(f"{v:.7g}" for v in row) + "\n" for row in vectors))
    clean = [str(r.get("path", "")).replace("\t", " ").replace("\n", " ") for r in records]
    atomic_write_text(os.path.join(logdir, "metadata.tsv"), "path\tline\n" + "".join(
        f"{p}\t{r.get('line', '')}\n" for p, r in zip(clean, records)))
    config = projector.ProjectorConfig()
    emb = config.embeddings.add()
    emb.tensor_name = "embeddings"
    emb.tensor_path = "vectors.tsv"
    emb.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(str(logdir), config)
    return os.path.join(str(logdir), "projector_config.pbtxt")
