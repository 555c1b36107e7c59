"""Freeze specs, blocks of a SavedModel's variables, and gradual-unfreezing schedules.

``hub.KerasLayer`` is all-or-nothing trainable; zoo groups a module's variables
into ordered blocks (by the backbone's ``block_pattern``) so that ``"top:K"``
trains only the K blocks nearest the output.

Freeze specs: ``"frozen"`` (feature extraction), ``"full"`` (fine-tune all),
``"top:K"`` (the top K blocks).

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
from typing import Any, Iterable, Sequence

from zoo.errors import FreezeSpecError

__all__ = ["default_freeze", "parse_freeze", "group_blocks", "Stage", "FreezeSchedule", "ALIASES"]

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


def default_freeze(spec: Any) -> str:
    """``"full"`` for fine-tunable BERT-style text backbones, ``"frozen"`` otherwise.

    Example:
        >>> import zoo; default_freeze(zoo.get("bert_small")), default_freeze(zoo.get("mobilenet_v2"))
        ('full', 'frozen')
    """
    if spec.modality == "text" and spec.preprocessor and spec.fine_tunable:
        return "full"
    return "frozen"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _order_key(value: str) -> tuple[int, Any]:
    return (0, int(value)) if value.isdigit() else (1, value)


def group_blocks(variables: Iterable[Any], pattern: str | None) -> list[list[Any]]:
    """Group variables (anything with ``.name``) into ordered blocks, bottom first.

    With ``pattern``: variables whose name matches are grouped by the regex group
    (numeric groups in numeric order, others in order of appearance); unmatched
    variables before the first match form a "stem" block, unmatched ones after it
    join the "top" block. Without a pattern (or no match at all): one block per
    top-level name scope, in the order the module lists them.

    Example:
        >>> class V:
        ...     def __init__(self, name): self.name = name
        >>> vs = [V("emb/w:0"), V("transformer/layer_0/k:0"), V("transformer/layer_1/k:0"), V("pooler/k:0")]
        >>> [[v.name for v in b] for b in group_blocks(vs, r"transformer/layer_(\\d+)/")]
        [['emb/w:0'], ['transformer/layer_0/k:0'], ['transformer/layer_1/k:0'], ['pooler/k:0']]
    """
    variables = list(variables)
    if pattern:
        rx = re.compile(pattern)
        stem: list[Any] = []
        top: list[Any] = []
        groups: dict[str, list[Any]] = {}
        first_seen: dict[str, int] = {}
        for i, v in enumerate(variables):
            m = rx.search(v.name)
            if m:
                key = m.group(1)
                groups.setdefault(key, []).append(v)
                first_seen.setdefault(key, i)
            elif groups:
                top.append(v)
            else:
                stem.append(v)
        if groups:
            numeric = all(k.isdigit() for k in groups)
            keys = sorted(groups, key=_order_key) if numeric else sorted(groups, key=first_seen.__getitem__)
            return [b for b in ([stem] + [groups[k] for k in keys] + [top]) if b]
    scopes: dict[str, list[Any]] = {}
    for v in variables:
        scopes.setdefault(v.name.split("/", 1)[0] if "/" in v.name else v.name, []).append(v)
    return list(scopes.values())


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
    def gradual(cls, *, head_epochs: int = 2, head_lr: float = 1e-3, top: int = 2, top_epochs: int = 2,
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
