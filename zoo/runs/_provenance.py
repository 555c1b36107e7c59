"""What produced a run, recorded in ``run.json`` (``provenance``): versions, modules, data, seed.

* versions of zoo, TensorFlow, tf_keras, tensorflow_hub and Python;
* each backbone's handle, where it resolved on this machine and the SHA-256 of its module
  tree (and of its preprocessor's);
* the data fingerprint: for a folder, every file's path (relative) and size in sorted order and
  one SHA-256 over their contents; for a CSV, its own digest;
* the seed, whether TensorFlow's op determinism was on, and (in ``config``) every argument.

``zoo info RUN`` prints it; ``zoo train --like RUN`` repeats the run from it.

Example:
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); (d / "a").mkdir(); _ = (d / "a" / "x.txt").write_text("hi")
    >>> fp = data_fingerprint(d); fp["files"], fp["n_files"], len(fp["sha256"])
    ([['a/x.txt', 2]], 1, 64)
"""

from __future__ import annotations

import hashlib
import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["data_fingerprint", "provenance", "format_provenance"]

_LIST_LIMIT = 1000  # files listed by name in run.json; the digest always covers all of them


def data_fingerprint(path: str | os.PathLike) -> dict:
    """``{"path", "kind", "n_files", "bytes", "sha256", "files"}`` of a data folder or file (see module docs)."""
    p = Path(path).expanduser().resolve()
    h = hashlib.sha256()
    if p.is_file():
        files = [p]
        rel = [p.name]
    else:
        files = sorted(f for f in p.rglob("*") if f.is_file() and not any(part.startswith(".") for part in f.relative_to(p).parts))
        rel = [f.relative_to(p).as_posix() for f in files]
    listing = []
    for f, name in zip(files, rel):
        size = f.stat().st_size
        listing.append([name, size])
        h.update(f"{name}\0{size}\0".encode())
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return {"path": str(p), "kind": "file" if p.is_file() else "folder", "n_files": len(files),
            "bytes": sum(s for _, s in listing), "sha256": h.hexdigest(), "files": listing[:_LIST_LIMIT],
            "files_listed": min(len(listing), _LIST_LIMIT)}


def _module(handle: str) -> dict:
    from zoo import hub

    where, digest = hub.resolved_tree(handle)
    return {"handle": handle, "resolved": str(where), "tree_sha256": digest}


def provenance(spec: Any, data_path: str | os.PathLike, *, seed: int, deterministic: bool) -> dict:
    """The provenance record of a run of backbone ``spec`` on ``data_path`` (see module docs)."""
    import tensorflow as tf
    import tensorflow_hub
    import tf_keras

    from zoo import __version__
    from zoo.models import ensure_local_module

    ensure_local_module(spec)  # a starter is built on first use: build it now to record what it is
    backbone = {"name": spec.name, **_module(spec.handle)}
    if spec.preprocessor:
        backbone["preprocessor"] = _module(spec.preprocessor)
    return {
        "versions": {"zoo": __version__, "tensorflow": tf.__version__, "tf_keras": tf_keras.__version__,
                     "tensorflow_hub": tensorflow_hub.__version__, "python": platform.python_version()},
        "backbones": [backbone], "data": data_fingerprint(data_path), "seed": int(seed),
        "deterministic": bool(deterministic), "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
    }


def format_provenance(info: dict) -> str:
    """The lines ``zoo info RUN`` prints for a run's ``run.json``.

    Example:
        >>> print(format_provenance({"status": "finished", "config": {"backbone": "m", "data": "/d", "seed": 1}}))
        status    finished
        backbone  m
        data      /d
        seed      1
    """
    cfg, prov = info.get("config", {}), info.get("provenance") or {}
    rows = [("status", info.get("status")), ("backbone", cfg.get("backbone")), ("data", cfg.get("data")),
            ("seed", cfg.get("seed"))]
    if prov:
        rows.append(("deterministic", prov.get("deterministic")))
        rows += [(f"version {k}", v) for k, v in prov.get("versions", {}).items()]
        for b in prov.get("backbones", []):
            rows += [("module", b["handle"]), ("  resolved", b["resolved"]), ("  tree sha256", b["tree_sha256"])]
            if "preprocessor" in b:
                rows += [("preprocessor", b["preprocessor"]["handle"]),
                         ("  tree sha256", b["preprocessor"]["tree_sha256"])]
        d = prov.get("data", {})
        rows += [("data files", d.get("n_files")), ("data bytes", d.get("bytes")), ("data sha256", d.get("sha256"))]
    skip = {"backbone", "data", "seed"} | (set() if cfg.get("teacher") else {"temperature", "alpha"})
    rows += [(f"config {k}", v) for k, v in cfg.items() if k not in skip and v not in (None, {})]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {'' if v is None else v}" for k, v in rows)
