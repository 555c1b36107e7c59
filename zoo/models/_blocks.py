"""Block grouping: a module's variables split into the stem, its numbered blocks (in natural order) and what lies above them.

``top:K`` and ``layer_decay`` act on these groups; the pattern is a family's real variable naming
(`zoo.testing.facts` holds the sources). `scope_names` names the scopes for messages and reports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

__all__ = ["natural_key", "BlockGroups", "group_blocks", "scope_names"]


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


def group_blocks(variables: Iterable[Any], pattern: str | None, stages: tuple[str, ...] = ()) -> BlockGroups:
    """Group variables (anything with ``.name``) into ordered blocks, bottom first.

    With ``pattern`` (a regex with one group, searched in each variable name): the
    variables it matches are grouped by the captured id, ids in natural order
    (`natural_key`), or first by the index of the first of ``stages`` (id prefixes in network
    order, a registry entry's ``block_stages``) that they start with; the variables listed before the first match form the stem, those
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
        >>> ts = [V(f"Net/{n}/w:0") for n in ("Mixed_5b", "Repeat/b35_1", "Mixed_6a", "Repeat_1/b17_1")]
        >>> group_blocks(ts, r"Net/(\\w+(?:/b\\d+_\\d+)?)/", ("Mixed_5b", "Repeat/", "Mixed_6a", "Repeat_1/")).ids
        ['Mixed_5b', 'Repeat/b35_1', 'Mixed_6a', 'Repeat_1/b17_1']
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
    ids = sorted(groups, key=lambda i: (next((n for n, p in enumerate(stages) if i.startswith(p)), len(stages)),
                                        natural_key(i)))
    blocks = [list(groups[i]) for i in ids]
    blocks[-1].extend(above)
    return BlockGroups(blocks=blocks, ids=ids, stem=stem, pattern=pattern)


def scope_names(variables: Iterable[Any], pattern: str | None = None, *, depth: int = 2, limit: int | None = None,
                sample: Iterable[Any] | None = None) -> list[str]:
    """Distinct name scopes of ``variables`` in order (for error messages and ``zoo info --module``).

    A variable that ``pattern`` matches is named by its block's scope as the pattern matches
    it (``transformer/layer_3``); the others are cut to the depth of a block scope (found on
    any variable of ``sample``, default ``variables``), else to ``depth`` levels, never
    including the variable's own leaf name. ``limit`` stops after that many scopes.

    Example:
        >>> class V:
        ...     def __init__(self, name): self.name = name
        >>> vs = [V("stem_conv2d/kernel:0"), V("stack_0/block_0/x/kernel:0"), V("stack_0/block_0/y:0")]
        >>> scope_names(vs)
        ['stem_conv2d', 'stack_0/block_0']
        >>> scope_names(vs, r"stack_\d+/block_(\d+)/", depth=1)
        ['stem_conv2d', 'stack_0/block_0']
    """
    variables = list(variables)
    rx = re.compile(pattern) if pattern else None
    for v in (sample if sample is not None else variables) if rx else ():
        m = rx.search(v.name)
        if m:
            depth = m.group(0).rstrip("/").count("/") + 1
            break
    seen: dict[str, None] = {}
    for v in variables:
        m = rx.search(v.name) if rx else None
        parts = v.name.split("/")
        seen.setdefault(v.name[:m.end()].rstrip("/") if m else "/".join(parts[:max(1, min(depth, len(parts) - 1))]))
        if limit and len(seen) >= limit:
            break
    return list(seen)
