"""Freeze specs, blocks of a SavedModel's variables, and gradual-unfreezing schedules.

``hub.KerasLayer`` is all-or-nothing trainable; zoo groups a module's variables
into ordered, numbered blocks (by the backbone's ``block_pattern``: transformer
layers, EfficientNet blocks, MobileNet ``expanded_conv`` blocks, ...) so that
``"top:K"`` trains only the K blocks nearest the output. Variables above the last
numbered block (pooler, final conv/norm) train with the top block; the stem
(embeddings, first conv) trains only under ``"full"``.

Freeze specs: ``"frozen"`` (feature extraction), ``"full"`` (fine-tune all),
``"top:K"`` (the top K numbered blocks).

Example:
    >>> parse_freeze("top:2")
    ('top', 2)
    >>> FreezeSchedule([Stage("frozen", epochs=2, learning_rate=1e-3), Stage("top:2", epochs=1)]).total_epochs
    3
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

from zoo.errors import FreezeSpecError
from zoo.models._blocks import natural_key, BlockGroups, group_blocks, scope_names

__all__ = ["default_freeze", "parse_freeze", "check_freeze", "require_fine_tunable", "require_block_naming", "group_blocks", "BlockGroups", "natural_key", "scope_names", "Stage",
           "FreezeSchedule", "ALIASES"]

ALIASES = {
    "frozen": "frozen", "freeze": "frozen", "feature_extraction": "frozen", "none": "frozen",
    "full": "full", "all": "full", "fine_tune": "full", "finetune": "full",
}


def parse_freeze(spec: Any, *, blocks: int | None = None, name: str = "backbone") -> tuple[str, int]:
    """Parse a freeze spec into ``("frozen", 0)``, ``("full", 0)`` or ``("top", K)``.

    With ``blocks`` given, ``top:K`` must satisfy ``1 <= K <= blocks``.

    Example:
        >>> parse_freeze("frozen")
        ('frozen', 0)
        >>> parse_freeze("top:3", blocks=6)
        ('top', 3)
    """
    if not isinstance(spec, str):
        raise FreezeSpecError(f"freeze spec must be a string like 'frozen', 'full' or 'top:2', got {spec!r}")
    text = spec.strip().lower()
    if text in ALIASES:
        return ALIASES[text], 0
    m = re.fullmatch(r"top\s*[:=]\s*(\d{1,6})", text)
    if not m:
        raise FreezeSpecError(
            f"unknown freeze spec {spec!r}; use 'frozen' (feature extraction), 'full' (fine-tune everything) "
            f"or 'top:K' (train the top K blocks)"
        )
    k = int(m.group(1))
    if k < 1:
        raise FreezeSpecError(f"freeze spec {spec!r}: K must be at least 1; use 'frozen' to train no block")
    if blocks is not None and k > blocks:
        raise FreezeSpecError(
            f"freeze spec {spec!r} asks for {k} blocks but {name} has {blocks}; use 'top:{blocks}' or 'full'"
        )
    return "top", k


def check_freeze(spec: Any, freeze: Any, *, what: str = "freeze") -> tuple[str, int]:
    """The one validation of a freeze for a backbone, before anything is built: ``parse_freeze``
    against the entry's block count, and a non-frozen freeze only for a fine-tunable module.

    Returns ``(kind, k)``; raises `FreezeSpecError` naming the backbone, the freeze and the fix
    (``what`` names where the freeze came from, e.g. ``"--schedule stage"``).

    Example:
        >>> import zoo
        >>> check_freeze(zoo.get("bert_small"), "top:2")
        ('top', 2)
        >>> check_freeze(zoo.get("yamnet"), "full")
        Traceback (most recent call last):
        ...
        zoo.errors.FreezeSpecError: freeze 'full' is not possible for backbone 'yamnet': its module is not fine-tunable; use freeze='frozen'
    """
    kind, k = parse_freeze(freeze, blocks=spec.blocks if spec.block_pattern else None, name=f"backbone {spec.name!r}")
    if kind != "frozen":
        require_fine_tunable(spec, freeze, what=what)
    if kind == "top":
        require_block_naming(spec, f"{what} {freeze!r}")
    return kind, k


def require_block_naming(spec: Any, what: str) -> None:
    """`FreezeSpecError` for a built-in catalogue entry whose module's block naming is not published
    (no ``block_pattern``): ``top:K`` and ``layer_decay`` would have to guess which variables are
    the top blocks. A user's own entry without a pattern gets the documented generic grouping.

    Example:
        >>> import zoo
        >>> require_block_naming(zoo.get("bert_small"), "freeze 'top:1'")  # pattern known: fine
    """
    if spec.block_pattern or getattr(spec, "source", "") != "registry.toml":
        return
    from zoo.registry import get_registry

    if get_registry().backbones.get(spec.name) != spec:  # a spec derived by the user is the user's own
        return
    raise FreezeSpecError(
        f"{what} needs the numbered blocks of backbone {spec.name!r}, but how module {spec.handle} names its "
        "variables is not published (model page or exporter), so zoo will not guess which are the top blocks; "
        f"use freeze='full' or 'frozen', or give the entry a block_pattern in your registry file (`zoo info "
        f"{spec.name} --module` lists the module's variables)", backbone=spec.name, handle=spec.handle)


def require_fine_tunable(spec: Any, freeze: Any, *, what: str = "freeze") -> None:
    """`FreezeSpecError` unless the entry's module is fine-tunable (the check `check_freeze` and the
    backbone layer share)."""
    if not spec.fine_tunable:
        raise FreezeSpecError(f"{what} {freeze!r} is not possible for backbone {spec.name!r}: its module is not "
                              "fine-tunable; use freeze='frozen'", backbone=spec.name, freeze=freeze)


def default_freeze(spec: Any) -> str:
    """The contract's default (``"full"`` for BERT-style encoders) when the module is fine-tunable,
    else ``"frozen"``.

    Example:
        >>> import zoo; default_freeze(zoo.get("bert_small")), default_freeze(zoo.get("mobilenet_v2"))
        ('full', 'frozen')
    """
    from zoo.models.contracts import contract_for

    return contract_for(spec).default_freeze if spec.fine_tunable else "frozen"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class Stage:
    """One stage of a gradual-unfreezing schedule.

    Example:
        >>> Stage("top:2", epochs=2, learning_rate=1e-4).freeze
        'top:2'
    """

    freeze: str = "frozen"
    epochs: int = 1
    learning_rate: float | None = None
    layer_decay: float | None = None

    def __post_init__(self) -> None:
        parse_freeze(self.freeze)
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or self.epochs < 1:
            raise FreezeSpecError(f"stage {self.freeze!r}: epochs must be a positive integer, got {self.epochs!r}")
        if self.learning_rate is not None and not (_is_number(self.learning_rate) and 0 < self.learning_rate < math.inf):
            raise FreezeSpecError(f"stage {self.freeze!r}: learning_rate must be a finite number > 0, got {self.learning_rate!r}")
        if self.layer_decay is not None and not (_is_number(self.layer_decay) and 0 < self.layer_decay <= 1):
            raise FreezeSpecError(f"stage {self.freeze!r}: layer_decay must be in (0, 1], got {self.layer_decay!r}")


@dataclass(frozen=True)
class FreezeSchedule:
    """Stages run one after another by `zoo.fit` (recompiling between stages).

    Example:
        >>> s = FreezeSchedule.gradual(head_epochs=2, top=2, top_epochs=1, full_epochs=1)
        >>> [st.freeze for st in s.stages]
        ['frozen', 'top:2', 'full']
    """

    stages: Sequence[Stage] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        raw = self.stages
        if isinstance(raw, (str, bytes, dict)) or not hasattr(raw, "__iter__"):
            raise FreezeSpecError(f"a FreezeSchedule needs a list of zoo.Stage(freeze, epochs, learning_rate), got {raw!r}")
        try:
            stages = tuple(Stage(**s) if isinstance(s, dict) else s for s in raw)
        except TypeError as exc:  # a dict with unknown keys
            raise FreezeSpecError(f"schedule stage: {exc}; use keys freeze, epochs, learning_rate, layer_decay") from None
        if not stages or not all(isinstance(s, Stage) for s in stages):
            raise FreezeSpecError("a FreezeSchedule needs at least one zoo.Stage(freeze, epochs, learning_rate)")
        object.__setattr__(self, "stages", stages)

    @property
    def total_epochs(self) -> int:
        """Sum of the stages' epochs."""
        return sum(s.epochs for s in self.stages)

    @classmethod
    def gradual(cls, *, head_epochs: int = 2, head_lr: float = 3e-3, top: int = 2, top_epochs: int = 2,
                top_lr: float = 1e-4, full_epochs: int = 0, full_lr: float = 1e-5) -> "FreezeSchedule":
        """The classic recipe: head only, then the top blocks, then (optionally) everything.

        Example:
            >>> FreezeSchedule.gradual(full_epochs=0).total_epochs
            4
        """
        stages = [Stage("frozen", head_epochs, head_lr), Stage(f"top:{top}", top_epochs, top_lr)]
        if full_epochs:
            stages.append(Stage("full", full_epochs, full_lr))
        return cls(stages)

    @classmethod
    def parse(cls, text: str) -> "FreezeSchedule":
        """Parse ``"frozen:2@1e-3,top:2:1@1e-4"`` (spec:epochs@lr, comma separated; for the CLI).

        Example:
            >>> [s.epochs for s in FreezeSchedule.parse("frozen:2@1e-3,top:2:1@1e-4").stages]
            [2, 1]
        """
        stages = []
        for part in str(text).split(","):
            part = part.strip()
            lr = None
            if "@" in part:
                part, lr_text = part.rsplit("@", 1)
                try:
                    lr = float(lr_text)
                except ValueError:
                    raise FreezeSpecError(f"schedule stage {part!r}: learning rate {lr_text!r} is not a number") from None
            head, sep, epochs_text = part.rpartition(":")
            if not sep or not re.fullmatch(r"[0-9]{1,9}", epochs_text) or not head:  # not isdigit(): "²" is a digit
                raise FreezeSpecError(
                    f"schedule stage {part!r}: write FREEZE:EPOCHS[@LR], e.g. 'frozen:2@1e-3' or 'top:2:1@1e-4'"
                )
            stages.append(Stage(head, int(epochs_text), lr))
        return cls(stages)
