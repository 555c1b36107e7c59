"""``zoo cache prefetch`` and ``zoo cache verify``: download modules ahead of use, and check what is cached.

Example:
    >>> import os, tempfile; os.environ["TFHUB_CACHE_DIR"] = tempfile.mkdtemp()
    >>> verify([], load=False)
    []
    >>> format_verify([]).splitlines()[0]
    '0 ok, 0 failed'
    >>> del os.environ["TFHUB_CACHE_DIR"]
"""

from __future__ import annotations

import os  # noqa: F401 - the examples use it

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zoo.errors import ZooError
from zoo.hub import _load as hub
from zoo.hub._layout import _specs, is_remote, module_dir, spec_handles
from zoo.hub._savedmodel import check_module_dir
from zoo.hub._tools import _registry_uses, ls

__all__ = ["VerifyResult", "prefetch", "verify", "format_verify"]


@dataclass
class VerifyResult:
    """Outcome of `verify` for one module: ``ok`` or failed with ``reason``.

    Example:
        >>> VerifyResult(name="x", handle="h", path=None, ok=False, reason="not cached").status
        'failed'
    """

    name: str
    handle: str | None
    path: Path | None
    ok: bool
    reason: str = ""
    checks: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return "ok" if self.ok else "failed"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"], d["status"] = (str(self.path) if self.path else None), self.status
        return d


# ---- prefetch ------------------------------------------------------------------------------
def prefetch(names: str | Iterable[str], *, progress: Callable[[str], Any] | None = None) -> dict[str, list[str]]:
    """Download (or check) every module of the named backbones; ``{name: [local dirs]}``.

    ``progress`` gets one message per module ("downloading NAME: HANDLE (k/n)").
    Failures do not stop the others; they are raised at the end as one `ZooError`
    listing each failed backbone (``err.failures`` maps name to the error).

    Example:
        >>> prefetch([])
        {}
    """
    from zoo.registry import get

    names = [names] if isinstance(names, str) else list(names)
    say = progress or (lambda _msg: None)
    failures: dict[str, BaseException] = {}
    plan: list[tuple[str, str, str | None, bool]] = []
    for name in names:
        try:
            spec = get(name)
        except ZooError as exc:
            failures[name] = exc
            continue
        for h in spec_handles(spec):
            if not is_remote(h) and spec.builder and h == spec.handle:
                continue  # built locally on first use, nothing to download
            plan.append((name, h, spec.sha256 if h == spec.handle else None, is_remote(h)))
    done: dict[str, list[str]] = {}
    for k, (name, h, pin, remote) in enumerate(plan, 1):
        if name in failures:
            continue
        cached = remote and check_module_dir(module_dir(h)) is None
        say(f"{'checking cached' if cached or not remote else 'downloading'} {name}: {h} ({k}/{len(plan)})")
        try:
            done.setdefault(name, []).append(hub.resolve(h, sha256=pin))
        except ZooError as exc:
            failures[name] = exc
            done.pop(name, None)
    if failures:
        lines = "\n".join(f"  {n}: {e}" for n, e in failures.items())
        err = ZooError(f"prefetch failed for {len(failures)} of {len(names)} backbone(s): "
                       f"{', '.join(failures)}\n{lines}")
        err.failures = failures  # type: ignore[attr-defined]
        raise err
    return done


# ---- verify --------------------------------------------------------------------------------
def _check_one(name: str, handle: str | None, path: Path, pin: str | None, text_ops: bool,
               load: bool) -> VerifyResult:
    checks: list[str] = []
    target = handle if handle else str(path)
    try:
        if load:
            hub.load(target, sha256=pin, text_ops=text_ops, offline=True)
        else:
            hub.resolve(target, sha256=pin, offline=True)
    except ZooError as exc:
        return VerifyResult(name, handle, path, False, str(exc), checks)
    checks.append("complete")
    if pin:
        checks.append("sha256")
    if load:
        checks.append("loads")
    return VerifyResult(name, handle, path, True, "", checks)


def verify(names: str | Iterable[str] | None = None, *, load: bool = True) -> list[VerifyResult]:
    """Check cached modules: complete, pinned digests match, and (``load``) ``tf.saved_model.load`` works.

    ``names``: backbones to check (a module they need that is not cached fails);
    None: every module in the cache. Failures are reported, never used silently:
    the CLI exits non-zero if any result is not ``ok``.

    Example:
        >>> import tempfile; os.environ["TFHUB_CACHE_DIR"] = tempfile.mkdtemp()
        >>> [r.reason.split(";")[0] for r in verify("mobilenet_v2")]  # doctest: +ELLIPSIS
        ['not cached (.../...)']
        >>> del os.environ["TFHUB_CACHE_DIR"]
    """
    results: list[VerifyResult] = []
    if names is None:
        uses = _registry_uses()
        for entry in ls():
            known = uses.get(entry.path.name, [])
            pin = next((u.pin for u in known if u.pin), None)
            text_ops = any(u.text_ops for u in known)
            results.append(_check_one(entry.name, entry.handle, entry.path, pin, text_ops, load))
        return results
    for spec in _specs(names):
        for h in spec_handles(spec):
            main = h == spec.handle
            path = module_dir(h)
            if is_remote(h) and not path.is_dir():
                results.append(VerifyResult(spec.name, h, path, False,
                                            f"not cached ({path}); run `zoo cache prefetch {spec.name}`"))
                continue
            results.append(_check_one(spec.name, h, path, spec.sha256 if main else None,
                                      spec.text_ops or not main, load))
    return results


def format_verify(results: list[VerifyResult]) -> str:
    """``zoo cache verify`` report, one line per module plus a summary.

    Example:
        >>> print(format_verify([VerifyResult("m", "https://h/1", None, True, checks=["complete"])]))
        ok      m  https://h/1  [complete]
        1 ok, 0 failed
    """
    lines = []
    for r in results:
        detail = f"[{', '.join(r.checks)}]" if r.ok else r.reason
        lines.append(f"{r.status.ljust(6)}  {r.name}  {r.handle or r.path}  {detail}")
    failed = sum(not r.ok for r in results)
    lines.append(f"{len(results) - failed} ok, {failed} failed")
    return "\n".join(lines)
