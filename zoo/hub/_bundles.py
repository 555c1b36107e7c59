"""Cache bundles: `pack` cached modules into one archive, `unpack` it into another machine's cache.

A bundle (``zoo cache pack``) is a tar (``.tar.gz``/``.tgz``/``.tar.xz``/``.tar.bz2`` by
suffix) holding ``zoo-bundle.json`` and, per module, the cache directory
``<sha1(handle)>/`` with its ``.descriptor.txt`` and zoo ``.zoo.json`` record. The
manifest lists handle, directory and tree digest of each module; ``unpack`` checks
every member and digest before it installs anything, so air-gapped machines can
share one verified download.

Example:
    >>> unpack("/nonexistent/modules.tar.gz")
    Traceback (most recent call last):
    ...
    zoo.errors.ZooError: bundle /nonexistent/modules.tar.gz does not exist
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tarfile
import time
import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from zoo import hub
from zoo.hub._archives import _tar_mode, _tarinfo_reset, safe_extract
from zoo.atomic import atomic_path
from zoo.errors import IntegrityError, ModuleLoadError, ModuleNotCachedError, ZooError
from zoo.hub._layout import _sha1, _specs, descriptor_path, is_remote, sidecar_path, spec_handles, write_descriptor
from zoo.hub._integrity import read_sidecar, tree_sha256
from zoo.hub._locks import _discard_dir, cache_lock
from zoo.hub._paths import hub_cache_dir
from zoo.hub._savedmodel import check_module_dir

__all__ = ["pack", "unpack", "MANIFEST", "BUNDLE_FORMAT"]

MANIFEST = "zoo-bundle.json"
BUNDLE_FORMAT = "zoo-bundle/1"
def pack(names: str | Iterable[str], to: str | Path) -> Path:
    """Write the cached modules of the named backbones to the bundle ``to``; return its path.

    Every module must be cached, complete and (if pinned) verified; otherwise
    `ModuleNotCachedError` / `ModuleLoadError` names them and the fix
    (``zoo cache prefetch NAMES`` first).

    Example:
        >>> import os, tempfile; os.environ["TFHUB_CACHE_DIR"] = tempfile.mkdtemp()
        >>> pack("mobilenet_v2", Path(tempfile.mkdtemp()) / "b.tar.gz")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        zoo.errors.ModuleNotCachedError: cannot pack: 1 module(s) are not cached or not usable. ...
        >>> del os.environ["TFHUB_CACHE_DIR"]
    """
    to = Path(to).expanduser()
    specs = _specs(names)
    modules: list[dict[str, Any]] = []
    seen: dict[str, dict[str, Any]] = {}
    problems: list[tuple[str, str, ZooError]] = []
    for spec in specs:
        for h in spec_handles(spec):
            if not is_remote(h):
                continue
            if h in seen:
                seen[h]["names"].append(spec.name)
                continue
            pin = spec.sha256 if h == spec.handle else None
            try:
                path = Path(hub.resolve(h, sha256=pin, offline=True))
            except ZooError as exc:
                problems.append((spec.name, h, exc))
                continue
            record = read_sidecar(path)
            entry = {"handle": h, "dir": path.name, "tree_sha256": tree_sha256(path),
                     "archive_sha256": (record or {}).get("archive_sha256"), "names": [spec.name]}
            seen[h] = entry
            modules.append(entry)
    if problems:
        bad = sorted({n for n, _, _ in problems})
        detail = "\n".join(f"  {n}: {h}: {e}" for n, h, e in problems)
        cls = ModuleNotCachedError if all(isinstance(e, ModuleNotCachedError) for _, _, e in problems) \
            else ModuleLoadError
        raise cls(f"cannot pack: {len(problems)} module(s) are not cached or not usable. Fix: run "
                  f"`zoo cache prefetch {' '.join(bad)}` first (on a connected machine)\n{detail}")
    if not modules:
        raise ZooError(f"nothing to pack: backbone(s) {', '.join(s.name for s in specs)} use no TF Hub module "
                       "(local handles are not packed)")
    manifest = {"format": BUNDLE_FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "modules": modules}
    cache = hub_cache_dir()
    to.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(to) as tmp:
        with tarfile.open(tmp, _tar_mode(to, write=True)) as tar:
            data = (json.dumps(manifest, indent=1) + "\n").encode("utf8")
            info = _tarinfo_reset(tarfile.TarInfo(MANIFEST))
            info.size, info.mtime = len(data), int(time.time())
            tar.addfile(info, io.BytesIO(data))
            for m in modules:
                mdir = cache / m["dir"]
                for dirpath, dirnames, files in os.walk(mdir):
                    dirnames.sort()
                    base = Path(dirpath)
                    for item in [*sorted(dirnames), *sorted(files)]:
                        full = base / item
                        if full.is_symlink():
                            raise ZooError(f"cannot pack {full}: modules must not contain symbolic links")
                    tar.add(base, arcname=base.relative_to(cache).as_posix(), recursive=False, filter=_tarinfo_reset)
                    for item in sorted(files):
                        full = base / item
                        tar.add(full, arcname=full.relative_to(cache).as_posix(), filter=_tarinfo_reset)
                for extra in (descriptor_path(mdir), sidecar_path(mdir)):
                    if extra.is_file():
                        tar.add(extra, arcname=extra.name, filter=_tarinfo_reset)
    return to


def _manifest_modules(staging: Path, bundle: Path) -> list[dict[str, Any]]:
    from zoo.registry import check_handle

    try:
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf8"))
    except FileNotFoundError:
        raise ZooError(f"{bundle} is not a zoo bundle: it has no {MANIFEST} (make bundles with `zoo cache pack`)") \
            from None
    except ValueError as exc:
        raise ZooError(f"{bundle}: {MANIFEST} is not valid JSON ({exc})") from None
    modules = manifest.get("modules") if isinstance(manifest, dict) else None
    if manifest.get("format") != BUNDLE_FORMAT or not isinstance(modules, list):
        raise ZooError(f"{bundle}: {MANIFEST} is not a {BUNDLE_FORMAT} manifest")
    for m in modules:
        if not isinstance(m, dict) or not all(isinstance(m.get(k), str) for k in ("handle", "dir", "tree_sha256")):
            raise ZooError(f"{bundle}: malformed module entry in {MANIFEST}: {m!r}")
        check_handle(m["handle"])
        if not is_remote(m["handle"]) or m["dir"] != _sha1(m["handle"]):
            raise IntegrityError(f"{bundle}: module {m['handle']!r} is stored under {m['dir']!r}, not under "
                                 f"sha1(handle) = {_sha1(m['handle'])}; the bundle was tampered with")
    return modules


def unpack(bundle: str | Path, *, max_bytes: int | None = None, max_members: int | None = None) -> list[str]:
    """Install the modules of a bundle made by `pack` into the TF Hub cache; return their handles.

    The bundle is extracted into a temp directory inside the cache with every member
    checked (`UnsafeArchiveError` for absolute paths, ``..``, links, devices, or more
    than ``max_bytes``/``max_members``, see `zoo.hub._archives.safe_extract`), then each module's
    tree digest is compared with the manifest (`IntegrityError`, nothing installed)
    before the directories are moved into place under TF Hub's lock. Afterwards
    ``resolve(handle)`` works offline.

    Example:
        >>> unpack("/nonexistent/modules.tar.gz")
        Traceback (most recent call last):
        ...
        zoo.errors.ZooError: bundle /nonexistent/modules.tar.gz does not exist
    """
    bundle = Path(bundle).expanduser()
    if not bundle.is_file():
        raise ZooError(f"bundle {bundle} does not exist")
    cache = hub_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    staging = cache / f".zoo-unpack-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        try:
            with open(bundle, "rb") as f:
                safe_extract(f, staging, max_bytes=max_bytes, max_members=max_members, what=f"bundle {bundle}")
        except tarfile.TarError as exc:
            raise ZooError(f"{bundle} is not a valid tar bundle: {exc}") from None
        modules = _manifest_modules(staging, bundle)
        for m in modules:
            src = staging / m["dir"]
            problem = check_module_dir(src)
            if problem:
                raise IntegrityError(f"{bundle}: module {m['handle']!r} is incomplete in the bundle ({problem}); "
                                     "nothing was installed")
            tree = tree_sha256(src)
            if tree != m["tree_sha256"]:
                raise IntegrityError(
                    f"{bundle}: module {m['handle']!r} does not match the manifest (tree sha256 expected "
                    f"{m['tree_sha256']}, actual {tree}); nothing was installed")
            record = read_sidecar(staging / m["dir"])
            if sidecar_path(staging / m["dir"]).exists() and (
                    record is None or record.get("tree_sha256") != tree or record.get("handle") != m["handle"]):
                raise IntegrityError(f"{bundle}: zoo record of module {m['handle']!r} does not match its files; "
                                     "nothing was installed")
        installed = []
        for m in modules:
            src, mdir = staging / m["dir"], cache / m["dir"]
            with cache_lock(mdir):
                keep = check_module_dir(mdir) is None and tree_sha256(mdir) == m["tree_sha256"]
                if not keep:
                    if mdir.exists():
                        _discard_dir(mdir)
                    os.rename(src, mdir)
                side = sidecar_path(staging / m["dir"])
                if side.exists():
                    os.replace(side, sidecar_path(mdir))
                elif not keep:
                    with contextlib.suppress(FileNotFoundError):
                        sidecar_path(mdir).unlink()
                desc = descriptor_path(staging / m["dir"])
                if desc.is_file():
                    os.replace(desc, descriptor_path(mdir))
                elif not descriptor_path(mdir).exists():
                    write_descriptor(m["handle"], mdir)
            installed.append(m["handle"])
        return installed
    finally:
        shutil.rmtree(staging, ignore_errors=True)
