"""``python -m benchmarks [--quick] [--cases 1,3] [--reps N] [--out PATH]``.

Runs the zoo-vs-hand-written-``hub.KerasLayer`` benchmark offline on locally
built real-size modules and prints the table; see `benchmarks` for the cases.
"""

from __future__ import annotations

import argparse
import sys

from benchmarks.cases import CASES


def _cases(text: str) -> list[int]:
    if text.strip().lower() == "all":
        return sorted(CASES)
    try:
        out = sorted({int(t) for t in text.replace(" ", "").split(",") if t})
    except ValueError:
        raise argparse.ArgumentTypeError(f"--cases takes numbers like 1,3 (or 'all'), got {text!r}") from None
    unknown = [c for c in out if c not in CASES]
    if unknown or not out:
        raise argparse.ArgumentTypeError(f"unknown case(s) {unknown or text!r}; cases are {sorted(CASES)}")
    return out


def build_parser() -> argparse.ArgumentParser:
    cases = "\n".join(f"  {n}. {c.title}" for n, c in sorted(CASES.items()))
    p = argparse.ArgumentParser(
        prog="python -m benchmarks", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="zoo vs the hand-written hub.KerasLayer baseline, offline, on real-size modules with random "
                    "weights.\n\ncases:\n" + cases,
        epilog="examples:\n  python -m benchmarks --quick\n  python -m benchmarks --cases 1,3 --reps 5\n"
               "  python -m benchmarks --out /tmp/results.json")
    p.add_argument("--quick", action="store_true", help="small N, 1 repetition: proves it runs (CI), timings meaningless")
    p.add_argument("--cases", type=_cases, default=sorted(CASES), help="comma-separated case numbers (default: all)")
    p.add_argument("--reps", type=int, default=None, help="repetitions per side (default 3; --quick 1)")
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results.json)")
    p.add_argument("--cache", default=None, help="TF Hub cache dir for the built modules (default benchmarks/out/hub)")
    p.add_argument("--timeout", type=float, default=None, help="seconds per worker process (default 3600; --quick 900)")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.reps is not None and args.reps < 1:
        print("python -m benchmarks: error: --reps must be >= 1", file=sys.stderr)
        return 2
    from benchmarks.runner import run

    _, status = run(args.cases, quick=args.quick, reps=args.reps, out=args.out, cache=args.cache,
                    timeout=args.timeout, log=lambda m: print(m, flush=True))
    return status


if __name__ == "__main__":
    raise SystemExit(main())
