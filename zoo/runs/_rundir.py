"""Run directories of ``zoo train``: layout, atomic writes, per-epoch checkpoints, resume state.

A run directory holds::

    run.json               every argument of the run (enough to rebuild it) and its status
    checkpoints/epoch-0003/  weights + optimizer after epoch 3, and state.json (history so far)
    model/                 the exported SavedModel (serving signature on raw inputs)
    labels.txt             one class name per line, in output order
    metrics.json           final metrics, per-epoch history, data summary (incl. skipped files)
    training_curve.png     loss / accuracy per epoch
    confusion_matrix.png   written by ``zoo evaluate``

Every file is written to a temporary name in the same directory and renamed into
place (``os.replace``), so a file or checkpoint is either complete or absent, even
when the process is killed. Nothing here imports TensorFlow at module level.

Example:
    >>> import tempfile
    >>> run = RunDir(tempfile.mkdtemp())
    >>> run.write_config(RunConfig(backbone="starter_cnn", data="/data"), status="running")
    >>> run.read_config().backbone, run.status()
    ('starter_cnn', 'running')
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

from zoo.atomic import atomic_write_json, json_default, replace_dir, storage_errors
from zoo.runs._checkpoints import CheckpointInfo
from zoo.errors import ConfigurationError
from zoo.runs._config import RunConfig

__all__ = ["RunDir", "RUN_FILES", "KEEP_CHECKPOINTS"]

KEEP_CHECKPOINTS = 2
RUN_FILES = ("run.json", "checkpoints", "model", "labels.txt", "metrics.json", "training_curve.png",
             "confusion_matrix.png", "evaluation.json", "export_report.json", "distill_report.json",
             "teacher_outputs.npz", "tensorboard")


# --------------------------------------------------------------------------- run directory


class RunDir:
    """A ``zoo train`` output directory (see the module docs for its layout).

    Example:
        >>> RunDir("/tmp/r").model_dir.name
        'model'
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path).expanduser()

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # -- paths
    @property
    def config_path(self) -> Path:
        """``run.json`` (e.g. ``RunDir("r").config_path.name == "run.json"``)."""
        return self.path / "run.json"

    @property
    def checkpoints_dir(self) -> Path:
        """``checkpoints/``, one ``epoch-NNNN`` folder per kept checkpoint."""
        return self.path / "checkpoints"

    @property
    def model_dir(self) -> Path:
        """``model/``, the exported SavedModel (``zoo.export.load_model(run.model_dir)``)."""
        return self.path / "model"

    @property
    def labels_path(self) -> Path:
        """``labels.txt``, one class name per line in output order."""
        return self.path / "labels.txt"

    @property
    def metrics_path(self) -> Path:
        """``metrics.json`` (``json.loads(run.metrics_path.read_text())["accuracy"]``)."""
        return self.path / "metrics.json"

    @property
    def curve_path(self) -> Path:
        """``training_curve.png``."""
        return self.path / "training_curve.png"

    @property
    def confusion_path(self) -> Path:
        """``confusion_matrix.png`` (written by ``zoo evaluate``)."""
        return self.path / "confusion_matrix.png"

    # -- run.json
    def exists(self) -> bool:
        """True if ``run.json`` is there.

        Example:
            >>> RunDir("/nonexistent").exists()
            False
        """
        return self.config_path.is_file()

    def _read_json(self) -> dict:
        try:
            return json.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(
                f"'{self.path}' is not a zoo run directory (no run.json); pass the --out folder of a `zoo train` run"
            ) from None
        except (OSError, ValueError) as exc:
            raise ConfigurationError(f"cannot read '{self.config_path}': {exc}") from None

    def read_config(self) -> RunConfig:
        """The run's `RunConfig` from ``run.json`` (`ConfigurationError` if missing or broken).

        Example:
            RunDir("runs/flowers").read_config().backbone
            # -> 'mobilenet_v2'
        """
        d = self._read_json()
        try:
            return RunConfig.from_dict(d.get("config", {}))
        except TypeError as exc:
            raise ConfigurationError(f"'{self.config_path}' has a malformed config: {exc}") from None

    def info(self) -> dict:
        """The whole ``run.json`` (config, status, class names, modality, times).

        Example:
            RunDir("runs/flowers").info()["class_names"]
            # -> ['daisy', 'rose']
        """
        return self._read_json()

    def status(self) -> str:
        """``"running"`` (or interrupted), ``"finished"``; ``"none"`` without run.json.

        Example:
            >>> RunDir("/nonexistent").status()
            'none'
        """
        return self._read_json().get("status", "running") if self.exists() else "none"

    def write_config(self, cfg: RunConfig, *, status: str, **fields: Any) -> None:
        """Write ``run.json`` atomically (keeps fields of an earlier write unless overridden).

        Example:
            >>> RunDir(tempfile.mkdtemp()).write_config(RunConfig("m", "/d"), status="running", modality="text")
        """
        self.path.mkdir(parents=True, exist_ok=True)
        d = self._read_json() if self.exists() else {"created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        from zoo import __version__

        d.update(fields)
        d.update({"config": cfg.to_dict(), "status": status, "updated": time.strftime("%Y-%m-%dT%H:%M:%S"),
                  "zoo_version": __version__})
        atomic_write_json(self.config_path, d)

    # -- checkpoints
    def checkpoints(self) -> list[CheckpointInfo]:
        """Complete checkpoints, oldest first (incomplete temp directories are ignored).

        Example:
            >>> RunDir(tempfile.mkdtemp()).checkpoints()
            []
        """
        out = []
        if not self.checkpoints_dir.is_dir():
            return out
        for d in self.checkpoints_dir.iterdir():
            if not d.name.startswith("epoch-") or not (d / "state.json").is_file():
                continue
            try:
                state = json.loads((d / "state.json").read_text(encoding="utf-8"))
                out.append(CheckpointInfo(d, int(state["epoch"]), int(state.get("stage", 0)), state.get("history", {})))
            except (OSError, ValueError, KeyError):
                continue
        return sorted(out, key=lambda c: c.epoch)

    def latest_checkpoint(self) -> CheckpointInfo | None:
        """The newest complete checkpoint, or None.

        Example:
            >>> RunDir("/nonexistent").latest_checkpoint() is None
            True
        """
        cps = self.checkpoints()
        return cps[-1] if cps else None

    def save_checkpoint(self, objects: dict, *, epoch: int, stage: int, history: dict,
                        keep: int = KEEP_CHECKPOINTS) -> CheckpointInfo:
        """Write ``tf.train.Checkpoint(**objects)`` for ``epoch`` (epochs completed) atomically; keep the newest ``keep``.

        Example:
            run.save_checkpoint(checkpoint_objects(model, model.optimizer), epoch=1, stage=0, history={})
        """
        import tensorflow as tf

        self.checkpoints_dir.mkdir(parents=True, exist_ok=True)
        final = self.checkpoints_dir / f"epoch-{epoch:04d}"
        tmp = Path(tempfile.mkdtemp(prefix=f".epoch-{epoch:04d}.tmp-", dir=self.checkpoints_dir))
        kept = "the previous checkpoints are intact: `zoo train --resume` continues from the last one"
        try:
            with storage_errors(final, f"the checkpoint of epoch {epoch}", kept):
                tf.train.Checkpoint(**objects).write(str(tmp / "ckpt"))
                state = {"epoch": epoch, "stage": stage, "history": history, "time": time.time()}
                (tmp / "state.json").write_text(json.dumps(state, default=json_default), encoding="utf-8")
                replace_dir(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        for old in self.checkpoints()[:-keep] if keep > 0 else []:
            shutil.rmtree(old.path, ignore_errors=True)
        return CheckpointInfo(final, epoch, stage, history)

    # -- lifecycle
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold ``.lock`` for the whole run; a second ``zoo train`` on the same folder fails at once.

        Example:
            >>> with RunDir(tempfile.mkdtemp()).lock():
            ...     pass
        """
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "w") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise ConfigurationError(f"another zoo process is training in '{self.path}' right now; wait for it "
                                         "or choose another --out") from None
            yield

    def clean_temp(self) -> list[Path]:
        """Remove temp files and directories a killed run left behind (call while holding `lock`).

        Example:
            >>> RunDir(tempfile.mkdtemp()).clean_temp()
            []
        """
        removed = []
        for folder in (self.path, self.checkpoints_dir):
            if not folder.is_dir():
                continue
            for p in folder.iterdir():
                if p.name.startswith(".") and (".tmp-" in p.name or ".old-" in p.name):
                    if p.is_dir() and not p.is_symlink():
                        shutil.rmtree(p, ignore_errors=True)
                    else:
                        p.unlink(missing_ok=True)
                    removed.append(p)
        return removed

    def clear(self) -> None:
        """Remove this run's files (only the ones zoo writes; anything else is left alone).

        Example:
            >>> RunDir(tempfile.mkdtemp()).clear()
        """
        for name in RUN_FILES:
            p = self.path / name
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            elif p.exists() or p.is_symlink():
                p.unlink()

    def check_fresh(self, *, force: bool) -> None:
        """Refuse to start a new run over an existing one unless ``force`` (then its files are removed).

        Example:
            >>> RunDir(tempfile.mkdtemp()).check_fresh(force=False)
        """
        if not self.path.exists():
            return
        if not self.path.is_dir():
            raise ConfigurationError(f"--out '{self.path}' is a file; pass a folder for the run")
        if self.exists():
            if force:
                self.clear()
                return
            last = self.latest_checkpoint()
            what = ("a finished run" if self.status() == "finished"
                    else f"an unfinished run (last checkpoint: epoch {last.epoch})" if last else "an unfinished run")
            raise ConfigurationError(f"'{self.path}' already holds {what}; use --resume to continue it, --force to "
                                     "overwrite it, or choose another --out")
        others = [p.name for p in self.path.iterdir() if not p.name.startswith(".")]
        if others:
            raise ConfigurationError(f"--out '{self.path}' exists and is not a zoo run directory (it holds "
                                     f"{', '.join(sorted(others)[:3])}{', ...' if len(others) > 3 else ''}); "
                                     "choose a new or empty folder")
