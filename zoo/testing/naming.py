"""Variable-name helpers for ``block_pattern`` regexes (pure Python, no TensorFlow).

``names_for_pattern`` makes concrete variable-scope names that a spec's
``block_pattern`` matches (used to build the test modules);
``group_variable_names`` applies the block convention of ``registry.toml``:
names before the first match form a "stem" block, matching names are grouped
by the value of the pattern's group, unmatched names after the first match form
a "top" block.

Example:
    >>> names_for_pattern(r'blocks_(\\d+)/', 2)
    ['blocks_1/', 'blocks_2/']
    >>> group_variable_names(['stem/k', 'blocks_1/k', 'blocks_2/k', 'top/k'], r'blocks_(\\d+)/')
    [['stem/k'], ['blocks_1/k'], ['blocks_2/k'], ['top/k']]
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable

__all__ = ["names_for_pattern", "group_variable_names"]

_DIGITS = string.digits
_LOWER = string.ascii_lowercase
_WORD = string.ascii_lowercase + string.ascii_uppercase + string.digits + "_"
_CLASS_ESCAPES = {"d": _DIGITS, "w": _WORD, "s": " "}
_MAX_REPEAT = 1 << 30


class _Slot:
    """One character class with a repetition count: the variable part of a pattern."""

    def __init__(self, alphabet: str, lo: int, hi: int) -> None:
        self.alphabet = "".join(dict.fromkeys(alphabet))  # de-duplicated, ordered
        self.lo, self.hi = lo, hi

    @property
    def unbounded(self) -> bool:
        return self.hi > 1

    def fixed(self) -> str:
        """Shortest string this slot accepts."""
        return self.alphabet[0] * self.lo

    def encode(self, k: int) -> str:
        """The k-th (k >= 1) distinct string of this unbounded slot."""
        if set(_DIGITS) <= set(self.alphabet):
            s = str(k)
        else:  # bijective base-N over the alphabet
            s, base = "", len(self.alphabet)
            while k > 0:
                k, r = divmod(k - 1, base)
                s = self.alphabet[r] + s
        return s.rjust(max(self.lo, 1), self.alphabet[0])


def _parse_class(pattern: str, i: int) -> tuple[str, int]:
    """Parse ``[...]`` starting at ``pattern[i] == '['``; return (alphabet, next index)."""
    i += 1
    negate = i < len(pattern) and pattern[i] == "^"
    if negate:
        i += 1
    chars: list[str] = []
    first = True
    while i < len(pattern) and (pattern[i] != "]" or first):
        first = False
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            e = pattern[i + 1]
            chars.extend(_CLASS_ESCAPES.get(e, e))
            i += 2
            continue
        if i + 2 < len(pattern) and pattern[i + 1] == "-" and pattern[i + 2] != "]":
            chars.extend(chr(o) for o in range(ord(c), ord(pattern[i + 2]) + 1))
            i += 3
            continue
        chars.append(c)
        i += 1
    if i >= len(pattern):
        raise ValueError(f"unterminated character class in {pattern!r}")
    if negate:
        chars = [c for c in _WORD if c not in chars]
    if not chars:
        raise ValueError(f"empty character class in {pattern!r}")
    return "".join(chars), i + 1


def _tokenize(pattern: str) -> list[tuple[str, object, bool]]:
    """Split a simple regex into ('lit', str) and ('slot', _Slot) items, flagged in/out of group 1."""
    items: list[tuple[str, object, bool]] = []
    depth, in_group, groups = 0, False, 0
    i = 0
    while i < len(pattern):
        c = pattern[i]
        atom: object
        if c == "^" and i == 0 or c == "$" and i == len(pattern) - 1:
            i += 1
            continue
        if c == "(":
            if pattern.startswith("(?:", i):
                i += 3
            elif pattern.startswith("(?", i):
                raise ValueError(f"names_for_pattern: unsupported group syntax in {pattern!r}")
            else:
                groups += 1
                in_group = True
                i += 1
            depth += 1
            continue
        if c == ")":
            depth -= 1
            if depth == 0:
                in_group = False
            i += 1
            continue
        if c == "|":
            raise ValueError(f"names_for_pattern: alternation '|' is not supported in {pattern!r}")
        if c == "[":
            alphabet, i = _parse_class(pattern, i)
            atom = _Slot(alphabet, 1, 1)
        elif c == "\\":
            if i + 1 >= len(pattern):
                raise ValueError(f"trailing backslash in {pattern!r}")
            e = pattern[i + 1]
            atom = _Slot(_CLASS_ESCAPES[e], 1, 1) if e in _CLASS_ESCAPES else e
            i += 2
        elif c == ".":
            atom = _Slot(_LOWER, 1, 1)
            i += 1
        else:
            atom = c
            i += 1
        # quantifier
        lo, hi = 1, 1
        if i < len(pattern) and pattern[i] in "+*?{":
            q = pattern[i]
            if q == "{":
                m = re.match(r"\{(\d*)(,?)(\d*)\}", pattern[i:])
                if not m:
                    raise ValueError(f"bad quantifier in {pattern!r}")
                lo = int(m.group(1) or 0)
                hi = lo if not m.group(2) else int(m.group(3) or _MAX_REPEAT)
                i += m.end()
            else:
                lo, hi = {"+": (1, _MAX_REPEAT), "*": (0, _MAX_REPEAT), "?": (0, 1)}[q]
                i += 1
            if i < len(pattern) and pattern[i] in "?+":  # lazy / possessive
                i += 1
        if isinstance(atom, str):
            if (lo, hi) != (1, 1):
                atom = _Slot(atom, lo, hi)
            else:
                items.append(("lit", atom, in_group))
                continue
        else:
            atom.lo, atom.hi = lo, hi
        items.append(("slot", atom, in_group))
    if groups != 1:
        raise ValueError(f"names_for_pattern: pattern needs exactly one capturing group, got {pattern!r}")
    return items


def names_for_pattern(pattern: str, n: int, *, start: int = 1) -> list[str]:
    """``n`` distinct strings that ``re.search(pattern, ...)`` matches with distinct group values.

    The group is filled with a counter (``start``, ``start+1``, ... for ``\\d+``);
    letter classes inside the group cycle through ``a``-``c`` under the counter;
    regex escapes outside it are unescaped. The strings are scope prefixes: if
    the pattern does not end with ``/`` one is appended, so ``name + "kernel"``
    is a valid variable name that still matches. Supports literals, escapes,
    ``[...]`` classes, ``\\d \\w .``, quantifiers, ``(?:...)`` and one capturing
    group; raises ValueError for alternation and other constructs.

    Example:
        >>> names_for_pattern(r'MobilenetV2/expanded_conv_(\\d+)/', 3)
        ['MobilenetV2/expanded_conv_1/', 'MobilenetV2/expanded_conv_2/', 'MobilenetV2/expanded_conv_3/']
        >>> names_for_pattern(r'InceptionV3/(Mixed_\\d+[a-z])/', 4)
        ['InceptionV3/Mixed_1a/', 'InceptionV3/Mixed_1b/', 'InceptionV3/Mixed_1c/', 'InceptionV3/Mixed_2a/']
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rx = re.compile(pattern)
    items = _tokenize(pattern)
    group_slots = [it[1] for it in items if it[0] == "slot" and it[2]]
    if not group_slots:
        if n > 1:
            raise ValueError(f"names_for_pattern: the group of {pattern!r} is a constant; cannot make {n} distinct names")
    counter = next((s for s in group_slots if s.unbounded), None)  # type: ignore[union-attr]
    others = [s for s in group_slots if s is not counter]
    radices = [min(len(s.alphabet), 3) if counter is not None else len(s.alphabet) for s in others]  # type: ignore[union-attr]
    capacity = 1
    for r in radices:
        capacity *= r
    if counter is None and n > capacity:
        raise ValueError(f"names_for_pattern: {pattern!r} allows only {capacity} distinct group values, asked for {n}")

    out: list[str] = []
    seen: set[str] = set()
    for idx in range(n):
        major, rest = divmod(idx, capacity)
        values: dict[int, str] = {}
        for s, r in zip(reversed(others), reversed(radices)):
            rest, d = divmod(rest, r)
            values[id(s)] = s.alphabet[d] * max(s.lo, 1)  # type: ignore[union-attr]
        if counter is not None:
            values[id(counter)] = counter.encode(major + start)
        parts = []
        for kind, obj, in_group in items:
            if kind == "lit":
                parts.append(obj)
            elif in_group:
                parts.append(values[id(obj)])
            else:
                parts.append(obj.fixed())  # type: ignore[union-attr]
        name = "".join(parts)  # type: ignore[arg-type]
        if not name.endswith("/"):
            name += "/"
        m = rx.search(name + "kernel:0")
        if not m or m.group(1) in seen:
            raise ValueError(f"names_for_pattern: could not generate a name for {pattern!r} (got {name!r})")
        seen.add(m.group(1))
        out.append(name)
    return out


def group_variable_names(names: Iterable[str], pattern: str | None) -> list[list[str]]:
    """Group variable names into blocks, bottom first (the convention of ``zoo.freeze.group_blocks``).

    With ``pattern`` (regex with one group): matching names are grouped by the
    group's value (numeric values in numeric order, others in order of first
    appearance); unmatched names before the first match form a "stem" block,
    unmatched names after it join a "top" block. Empty blocks are left out.
    Without a pattern, or if nothing matches: one block per top-level name scope.

    Example:
        >>> group_variable_names(["emb", "layer_0/w", "layer_0/b", "layer_1/w", "pool/k"], r"layer_(\\d+)/")
        [['emb'], ['layer_0/w', 'layer_0/b'], ['layer_1/w'], ['pool/k']]
    """
    names = list(names)
    if pattern:
        rx = re.compile(pattern)
        stem: list[str] = []
        top: list[str] = []
        groups: dict[str, list[str]] = {}
        for nm in names:
            m = rx.search(nm)
            if m:
                groups.setdefault(m.group(1), []).append(nm)
            elif groups:
                top.append(nm)
            else:
                stem.append(nm)
        if groups:
            keys = list(groups)  # insertion order = first appearance
            if all(k.isdigit() for k in keys):
                keys.sort(key=int)
            return [b for b in [stem, *(groups[k] for k in keys), top] if b]
    scopes: dict[str, list[str]] = {}
    for nm in names:
        scopes.setdefault(nm.split("/", 1)[0], []).append(nm)
    return list(scopes.values())
