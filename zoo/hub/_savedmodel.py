"""Is a directory a complete SavedModel? `check_module_dir`, and the reader it needs.

A download that was killed, a full disk or a copy that stopped half way leave a
module directory that TensorFlow may load with missing or garbage weights. zoo
therefore checks ``saved_model.pb`` and every variable shard against the sizes that
``variables/variables.index`` (a TF tensor bundle: a LevelDB-style table of
``BundleEntryProto`` records) says they need, with a small pure-Python reader of
that index, so TensorFlow is not imported.

Example:
    >>> import tempfile; d = Path(tempfile.mkdtemp())
    >>> check_module_dir(d) == f"{d / 'saved_model.pb'} is missing"
    True
    >>> _ = (d / "saved_model.pb").write_bytes(b"x"); check_module_dir(d) is None
    True
"""

from __future__ import annotations

import os
import re
import struct
from pathlib import Path
from typing import Iterator

__all__ = ["check_module_dir"]

_SHARD_RE = re.compile(r"^variables\.data-(\d{5})-of-(\d{5})$")


# ---- variables.index (TF tensor bundle) reader ---------------------------------------------
class _Unparsable(Exception):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Unparsable("bad varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _proto_varints(buf: bytes) -> dict[int, int]:
    """Last value of each varint field of a serialized protobuf message (others skipped)."""
    out: dict[int, int] = {}
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            out[field], pos = _varint(buf, pos)
        elif wire == 1:
            pos += 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            pos += n
        elif wire == 5:
            pos += 4
        else:
            raise _Unparsable("unsupported wire type")
    if pos != len(buf):
        raise _Unparsable("truncated message")
    return out


def _block(data: bytes, offset: int, size: int) -> bytes:
    if offset + size + 5 > len(data):
        raise _Unparsable("block outside file")
    if data[offset + size] != 0:  # trailer type byte: 0 = uncompressed (what tensor bundles use)
        raise _Unparsable("compressed block")
    return data[offset:offset + size]


def _block_entries(block: bytes) -> Iterator[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise _Unparsable("short block")
    (num_restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    limit = len(block) - 4 - 4 * num_restarts
    if limit < 0:
        raise _Unparsable("bad restarts")
    pos, key = 0, b""
    while pos < limit:
        shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        vlen, pos = _varint(block, pos)
        if shared > len(key) or pos + non_shared + vlen > limit:
            raise _Unparsable("bad entry")
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        yield key, block[pos:pos + vlen]
        pos += vlen


def _bundle_needs(index: bytes) -> tuple[int, dict[int, int]]:
    """``(num_shards, {shard: bytes needed})`` from a TF tensor bundle ``variables.index``."""
    if len(index) < 48 or index[-8:] != struct.pack("<Q", 0xDB4775248B80FB57):
        raise _Unparsable("no table footer")
    footer = index[-48:]
    _, p = _varint(footer, 0)
    _, p = _varint(footer, p)  # metaindex handle
    idx_off, p = _varint(footer, p)
    idx_size, p = _varint(footer, p)
    num_shards = None
    needs: dict[int, int] = {}
    for _, handle in _block_entries(_block(index, idx_off, idx_size)):
        off, q = _varint(handle, 0)
        size, _ = _varint(handle, q)
        for key, value in _block_entries(_block(index, off, size)):
            fields = _proto_varints(value)
            if key == b"":
                num_shards = fields.get(1, 1)
            else:
                shard = fields.get(3, 0)
                needs[shard] = max(needs.get(shard, 0), fields.get(4, 0) + fields.get(5, 0))
    if num_shards is None or num_shards <= 0:
        raise _Unparsable("no bundle header")
    return num_shards, needs


# ---- completeness --------------------------------------------------------------------------
def check_module_dir(path: Path | str) -> str | None:
    """None if ``path`` holds a complete SavedModel, else what is wrong with it.

    Complete: ``saved_model.pb`` (or ``.pbtxt``) is there and non-empty and, when
    ``variables/`` holds anything, ``variables.index`` and every data shard it
    names exist and are as long as the index says (so truncated shards are found).
    An empty ``variables/`` is accepted (TF1 modules without variables).

    Example:
        >>> check_module_dir("/nonexistent/module")
        'directory /nonexistent/module does not exist'
    """
    p = Path(path)
    if not p.is_dir():
        return f"directory {p} does not exist"
    pb = p / "saved_model.pb"
    if not pb.is_file():
        pb = p / "saved_model.pbtxt"
    if not pb.is_file():
        return f"{p / 'saved_model.pb'} is missing"
    if pb.stat().st_size == 0:
        return f"{pb} is empty"
    var = p / "variables"
    if not var.is_dir():
        return None
    names = sorted(os.listdir(var))
    if not names:
        return None
    index = var / "variables.index"
    if not index.is_file() or index.stat().st_size == 0:
        return f"{index} is {'empty' if index.is_file() else 'missing'}"
    try:
        num_shards, needs = _bundle_needs(index.read_bytes())
    except (_Unparsable, OSError):
        shards = [m for m in map(_SHARD_RE.match, names) if m]
        if not shards:
            return f"{var} has no variables.data-*-of-* shard"
        num_shards, needs = int(shards[0].group(2)), {i: 1 for i in range(int(shards[0].group(2)))}
    for i in range(num_shards):
        shard = var / f"variables.data-{i:05d}-of-{num_shards:05d}"
        if not shard.is_file():
            return f"{shard} is missing"
        have, want = shard.stat().st_size, needs.get(i, 0)
        if have < want:
            return f"{shard} is truncated ({have} bytes, variables.index needs {want})"
    return None
