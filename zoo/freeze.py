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
from typing import Any, Iterable, Sequence

from zoo.errors import FreezeSpecError

__all__ = ["default_freeze", "parse_freeze", "group_blocks", "BlockGroups", "natural_key", "scope_names", "Stage",
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


def default_freeze(spec: Any) -> str:
    """The contract's default (``"full"`` for BERT-style encoders) when the module is fine-tunable,
    else ``"frozen"``.

    Example:
        >>> import zoo; default_freeze(zoo.get("bert_small")), default_freeze(zoo.get("mobilenet_v2"))
        ('full', 'frozen')
    """
    from zoo.contracts import contract_for

    return contract_for(spec).default_freeze if spec.fine_tunable else "frozen"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def natural_key(block_id: str) -> tuple:
    """Sort key that orders block ids as people count them: ``"2" < "10"``, ``"5b" < "6a"``,
    ``"block1/unit_2" < "block1/unit_10"``.

    Example:
        >>> sorted(["10", "2", "0"], key=natural_key)
        ['0', '2', '10']
        >>> sorted(["6a", "5c", "5b", "7a"], key=natural_key)
        ['5b', '5c', '6a', '7a']
    """
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.findall(r"\d+|\D+", block_id))


@dataclass(frozen=True)
class BlockGroups:
    """A module's trainable variables as zoo groups them for ``top:K`` and ``layer_decay``.

    Fields:
        blocks: the numbered blocks, bottom first. Variables listed after the last
            numbered block (a pooler, a final conv or norm) belong to the top block.
        ids: each block's id as the pattern captured it (``"3"``, ``"5b"``, ...).
        stem: variables listed before the first numbered block (embeddings, stem
            conv); they train only under ``"full"``.
        pattern: the ``block_pattern`` used, or None for the generic grouping.

    Example:
        >>> g = BlockGroups(blocks=[["a"], ["b"]], ids=["0", "1"], stem=["s"], pattern="x")
        >>> len(g), g.matched
        (2, True)
    """

    blocks: list
    ids: list
    stem: list
    pattern: str | None

    def __len__(self) -> int:
        return len(self.blocks)

    @property
    def matched(self) -> bool:
        """False when a pattern was given but matched no variable (``top:K`` is then impossible)."""
        return bool(self.blocks)

    @property
    def variables(self) -> list:
        """Every grouped variable: stem first, then the blocks bottom first."""
        return list(self.stem) + [v for b in self.blocks for v in b]

    def top(self, k: int) -> list:
        """The variables ``top:K`` trains: the K highest blocks (never the stem: only ``full`` trains it)."""
        return [v for b in self.blocks[len(self.blocks) - k:] for v in b]

    def depths(self) -> list[tuple[Any, int]]:
        """``(variable, depth from the top)`` pairs: top block 0, bottom block ``len - 1``, stem ``len``."""
        n = len(self.blocks)
        return [(v, n) for v in self.stem] + [(v, n - 1 - i) for i, b in enumerate(self.blocks) for v in b]


def _block_id(match: re.Match) -> str:
    """The captured block id; an optional group that took no part (``expanded_conv`` beside
    ``expanded_conv_1``) is block ``"0"``."""
    value = match.group(1)
    return "0" if value is None else value


def group_blocks(variables: Iterable[Any], pattern: str | None) -> BlockGroups:
    """Group variables (anything with ``.name``) into ordered blocks, bottom first.

    With ``pattern`` (a regex with one group, searched in each variable name): the
    variables it matches are grouped by the captured id, ids in natural order
    (`natural_key`); the variables listed before the first match form the stem, those
    after it that do not match join the top block. A pattern that matches nothing gives
    no blocks (``matched`` is False): zoo then refuses ``top:K`` rather than guess.
    Without a pattern (a user's own module): one block per top-level name scope, in the
    order the module lists them, no stem.

    Example:
        >>> class V:
        ...     def __init__(self, name): self.name = name
        ...     def __repr__(self): return self.name
        >>> vs = [V("emb/w:0"), V("transformer/layer_0/k:0"), V("transformer/layer_1/k:0"), V("pooler/k:0")]
        >>> g = group_blocks(vs, r"transformer/layer_(\\d+)/")
        >>> g.stem, g.blocks, g.ids
        ([emb/w:0], [[transformer/layer_0/k:0], [transformer/layer_1/k:0, pooler/k:0]], ['0', '1'])
        >>> group_blocks(vs, r"blocks_(\\d+)/").matched
        False
        >>> group_blocks(vs, None).blocks
        [[emb/w:0], [transformer/layer_0/k:0, transformer/layer_1/k:0], [pooler/k:0]]
    """
    variables = list(variables)
    if not pattern:
        scopes: dict[str, list[Any]] = {}
        for v in variables:
            scopes.setdefault(v.name.split("/", 1)[0] if "/" in v.name else v.name, []).append(v)
        return BlockGroups(blocks=list(scopes.values()), ids=list(scopes), stem=[], pattern=None)
    rx = re.compile(pattern)
    stem: list[Any] = []
    above: list[Any] = []
    groups: dict[str, list[Any]] = {}
    for v in variables:
        m = rx.search(v.name)
        if m:
            groups.setdefault(_block_id(m), []).append(v)
        elif groups:
            above.append(v)
        else:
            stem.append(v)
    if not groups:
        return BlockGroups(blocks=[], ids=[], stem=variables, pattern=pattern)
    ids = sorted(groups, key=natural_key)
    blocks = [list(groups[i]) for i in ids]
    blocks[-1].extend(above)
    return BlockGroups(blocks=blocks, ids=ids, stem=stem, pattern=pattern)


def scope_names(variables: Iterable[Any], limit: int = 6) -> list[str]:
    """The first ``limit`` distinct two-level name scopes of ``variables`` (for error messages).

    Example:
        >>> class V:
        ...     def __init__(self, name): self.name = name
        >>> scope_names([V("stem_conv2d/kernel:0"), V("stack_0/block_0/x/kernel:0"), V("stack_0/block_0/y:0")])
        ['stem_conv2d', 'stack_0/block_0']
    """
    seen: dict[str, None] = {}
    for v in variables:
        parts = v.name.split("/")
        seen.setdefault("/".join(parts[:2]) if len(parts) > 2 else parts[0], None)
        if len(seen) >= limit:
            break
    return list(seen)


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
