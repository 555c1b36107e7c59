"""``zoo cache``, ``zoo demo`` and ``zoo bench``.

Example (prose: it reads your TF Hub cache)::

    from zoo.cli import main
    main(["cache", "ls"])
    # -> cache /home/me/.cache/tfhub: 0 module(s), 0 B
    # -> 0
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from zoo.errors import ConfigurationError, ZooError
from zoo.quiet import quiet_tensorflow

__all__ = ["cmd_cache", "cmd_demo", "cmd_bench"]


# --------------------------------------------------------------------------- cache


def cmd_cache(args: argparse.Namespace) -> int:
    """``zoo cache ls|prefetch|verify|clear|pack|unpack`` over `zoo.hub._tools`.

    Example:
        main(["cache", "ls"])
        # -> cache /home/me/.cache/tfhub: 0 module(s), 0 B
        # -> 0
    """
    from zoo import hub as cache

    action = args.cache_command
    if action == "ls":
        entries = cache.ls()
        print(json.dumps([e.to_dict() for e in entries], indent=2) if args.json else cache.format_ls(entries))
        return 0
    if action == "prefetch":
        done = cache.prefetch(args.names, progress=lambda msg: print(msg, flush=True))
        for name, paths in done.items():
            print(f"ok  {name}: {', '.join(paths) or 'built locally on first use'}")
        return 0
    if action == "verify":
        quiet_tensorflow()
        results = cache.verify(args.names or None, load=not args.no_load)
        if args.json:
            print(json.dumps([r.to_dict() for r in results], indent=2))
        else:
            print(cache.format_verify(results))
        return 1 if any(not r.ok for r in results) else 0
    if action == "clear":
        if args.all == bool(args.names):
            raise ConfigurationError("zoo cache clear takes backbone NAMEs or --all (not both)")
        removed = cache.clear_all() if args.all else [p for n in args.names for p in cache.clear(n)]
        print(f"removed {len(removed)} path(s)" + "".join(f"\n  {p}" for p in removed))
        return 0
    if action == "pack":
        path = cache.pack(args.names, args.to)
        print(f"wrote {path} ({Path(path).stat().st_size / 2**20:.1f} MiB) with the modules of {', '.join(args.names)}")
        return 0
    if action == "unpack":
        handles = cache.unpack(args.bundle)
        print(f"installed {len(handles)} module(s) into the TF Hub cache" + "".join(f"\n  {h}" for h in handles))
        return 0
    raise ZooError(f"unknown cache action {action!r}")  # pragma: no cover - argparse restricts it


# --------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    """``zoo demo``: the whole path on generated data, offline (see `zoo.runs._demo`).

    Example:
        main(["demo", "--quick"])
        # -> 0
    """
    quiet_tensorflow()
    from zoo.runs import format_demo_report, run_demo
    report = run_demo(args.out, quick=args.quick, say=(lambda _m: None) if args.json else print)
    print(json.dumps(report, indent=2) if args.json else format_demo_report(report))
    return 0 if report["ok"] else 1


def cmd_bench(args: argparse.Namespace) -> int:
    """``zoo bench``: run the benchmark suite of a source checkout (``python -m benchmarks``).

    Example:
        main(["bench", "--quick", "--cases", "6"])
        # -> 0
    """
    import subprocess

    root = Path(__file__).resolve().parent.parent
    if not (root / "benchmarks" / "__main__.py").is_file():
        raise ConfigurationError(f"zoo bench needs a source checkout with benchmarks/ (looked in {root}); "
                                 "clone the repository and run it there")
    argv = ["--quick"] if args.quick else []
    for key in ("cases", "reps", "out"):
        if getattr(args, key) is not None:
            argv += [f"--{key}", str(getattr(args, key))]
    return subprocess.call([sys.executable, "-m", "benchmarks", *argv], cwd=root)
