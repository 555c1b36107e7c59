"""A run's configuration: everything ``zoo train`` needs to build, train and resume a run (saved in ``run.json``)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

__all__ = ["RunConfig"]


@dataclass
class RunConfig:
    """Every argument of a ``zoo train`` run (stored in ``run.json``; ``--resume`` rebuilds from it).

    Example:
        >>> cfg = RunConfig(backbone="starter_text", data="/d", schedule="frozen:2@1e-2,top:1:1@1e-3")
        >>> cfg.total_epochs
        3
        >>> RunConfig.from_dict(cfg.to_dict()) == cfg
        True
    """

    backbone: str
    data: str
    task: str = "classification"
    val_split: float = 0.2
    epochs: int | None = 5
    batch_size: int = 32
    freeze: str | None = None
    schedule: str | None = None
    learning_rate: float | None = None
    csv_text_column: str | None = None
    csv_image_column: str | None = None
    csv_audio_column: str | None = None
    csv_label_column: str = "label"
    seed: int = 42
    deterministic: bool = False  # TensorFlow's op determinism: bit-identical weights from the same seed and data
    teacher: str | None = None  # distillation (zoo distill): the teacher run / exported model
    temperature: float = 4.0
    alpha: float = 0.5
    unlabeled: str | None = None
    max_words: int | None = None  # token_classification / question_answering: words per sentence / context window
    text_backbone: str | None = None  # contrastive: the text tower (``backbone`` is the image / audio one)
    projection_dim: int | None = None  # contrastive: width of the shared space (default 256)
    extra: dict = field(default_factory=dict)

    @property
    def total_epochs(self) -> int:
        """Epochs of the whole run: the schedule's sum, or ``epochs``.

        Example:
            >>> RunConfig("m", "/d", epochs=4).total_epochs
            4
        """
        if self.schedule:
            from zoo.models import FreezeSchedule

            return FreezeSchedule.parse(self.schedule).total_epochs
        return int(self.epochs or 0)

    def stage_of(self, epoch: int) -> int:
        """Index of the schedule stage that trains 0-based ``epoch`` (0 without a schedule).

        Example:
            >>> RunConfig("m", "/d", schedule="frozen:2,top:1:1").stage_of(2)
            1
        """
        if not self.schedule:
            return 0
        from zoo.models import FreezeSchedule

        end = 0
        stages = FreezeSchedule.parse(self.schedule).stages
        for i, s in enumerate(stages):
            end += s.epochs
            if epoch < end:
                return i
        return len(stages) - 1

    def to_dict(self) -> dict:
        """Plain JSON-ready dict.

        Example:
            >>> RunConfig("m", "/d").to_dict()["val_split"]
            0.2
        """
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        """Inverse of `to_dict`; unknown keys are kept in ``extra``.

        Example:
            >>> RunConfig.from_dict({"backbone": "m", "data": "/d", "future_flag": 1}).extra
            {'future_flag': 1}
        """
        names = {f.name for f in dataclasses.fields(cls)}
        known = {k: v for k, v in d.items() if k in names}
        extra = dict(known.pop("extra", {}) or {})
        extra.update({k: v for k, v in d.items() if k not in names})
        return cls(**known, extra=extra)
