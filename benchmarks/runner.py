"""Run the benchmark: build the modules, alternate baseline / zoo worker processes, report.

Each (job, side, repetition) is a fresh ``python -m benchmarks.worker`` process
(its peak RSS is its own); within a repetition the two sides of a job run back to
back, and which side goes first alternates, so that slow drifts of the machine
hit both. Workers see a private environment: ``TFHUB_CACHE_DIR`` holding the
built modules under the real handles' cache names, ``ZOO_OFFLINE=1``, no user
registry or plugin selection, ``TF_CPP_MIN_LOG_LEVEL=2``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.cases import PARAMS, jobs_for
from benchmarks.report import build_rows, format_table, write_json
from benchmarks.worker import MARKER

__all__ = ["run", "ROOT", "OUT"]

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
_JOB_MODULES = {"frozen": ["mobilenet_v2"], "finetune": ["mobilenet_v2"], "serve": ["mobilenet_v2"],
                "bert": ["bert_small"], "audio": ["yamnet"], "startup": []}


def _env(cache: Path, work: Path) -> dict[str, str]:
    env = dict(os.environ)
    for var in ("ZOO_REGISTRY", "ZOO_PLUGINS", "ZOO_DISABLE_PLUGIN_AUTOLOAD", "TFHUB_MODEL_LOAD_FORMAT"):
        env.pop(var, None)
    env.update({
        "TFHUB_CACHE_DIR": str(cache), "ZOO_OFFLINE": "1", "ZOO_HOME": str(work / "zoo_home"),
        "XDG_CONFIG_HOME": str(work / "config"), "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]),
    })
    return env


def _tail(text: str, n: int = 25) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith(("I0000", "W0000", "WARNING: All log"))]
    return "\n".join(lines[-n:])


def _timed_run(cmd: list[str], env: dict, timeout: float) -> tuple[subprocess.CompletedProcess | None, float]:
    """Run ``cmd`` in the repository root; (process or None on time-out, wall seconds)."""
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, time.perf_counter() - t0
    return proc, time.perf_counter() - t0


def _worker(job: str, side: str, params: dict, env: dict, timeout: float) -> tuple[dict | None, str | None, float]:
    cmd = [sys.executable, "-m", "benchmarks.worker", job, side, json.dumps(params)]
    proc, wall = _timed_run(cmd, env, timeout)
    if proc is None:
        return None, f"timed out after {timeout:.0f} s", wall
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER):]), None, wall
    return None, f"exit {proc.returncode}: {_tail(proc.stderr + proc.stdout)}", wall


def _zoo_list_cmd() -> list[str]:
    script = Path(sys.executable).parent / "zoo"
    return [str(script), "list"] if script.exists() else [sys.executable, "-m", "zoo", "list"]


def _startup(env: dict, side: str, timeout: float) -> tuple[dict | None, str | None, float]:
    cmd = [sys.executable, "-c", "import tensorflow"] if side == "baseline" else _zoo_list_cmd()
    proc, wall = _timed_run(cmd, env, timeout)
    if proc is None:
        return None, f"timed out after {timeout:.0f} s", wall
    if proc.returncode != 0:
        return None, f"{' '.join(cmd)} exited {proc.returncode}: {_tail(proc.stderr)}", wall
    return {"seconds": wall, "command": " ".join(cmd)}, None, wall


def _summary(metrics: dict) -> str:
    keep = {k: v for k, v in metrics.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    return ", ".join(f"{k}={v:.4g}" for k, v in keep.items())


def _handles(env: dict) -> dict[str, str]:
    """The module handles from zoo's registry as the workers see it (a subprocess: no user registry here)."""
    code = "import json; from benchmarks.modules import handles; print(json.dumps(handles()))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"cannot read the handles from zoo's registry: {_tail(proc.stderr)}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _git() -> dict:
    def git(*args: str) -> str | None:
        try:
            proc = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.SubprocessError):
            return None
        return proc.stdout.strip() if proc.returncode == 0 else None

    status = git("status", "--porcelain", "--", "zoo", "plugins")
    return {"commit": git("rev-parse", "HEAD"), "zoo_sources_modified": None if status is None else bool(status)}


def _build_modules(cache: Path, names: list[str], env: dict, handles: dict, log: Any) -> str | None:
    from benchmarks.modules import needs_build

    missing = needs_build(cache, names, handles)
    if not missing:
        return None
    log(f"building modules {missing} into {cache} (once; kept for later runs) ...")
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.modules", str(cache), *missing], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        log("  " + line)
    if proc.returncode != 0:
        return f"module build failed (exit {proc.returncode}): {_tail(proc.stderr)}"
    log(f"modules built in {time.perf_counter() - t0:.0f} s")
    return None


def run(cases: list[int], *, quick: bool = False, reps: int | None = None, out: str | Path | None = None,
        cache: str | Path | None = None, timeout: float | None = None, log: Any = print) -> tuple[dict, int]:
    """Run ``cases``; returns ``(results, exit_status)`` and writes ``out`` (JSON).

    Exit status 0 when every run succeeded (targets missed or not), 1 otherwise.
    """
    t_start, started = time.perf_counter(), time.strftime("%Y-%m-%dT%H:%M:%S")
    load_start = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    mode = "quick" if quick else "full"
    reps = reps or (1 if quick else 3)
    timeout = timeout or (900.0 if quick else 3600.0)
    OUT.mkdir(parents=True, exist_ok=True)
    cache = Path(cache) if cache else OUT / "hub"
    env = _env(cache, OUT)
    try:
        handles = _handles(env)
    except (RuntimeError, subprocess.SubprocessError, ValueError) as exc:
        log(f"error: {exc}")
        return {}, 1
    env["BENCH_HANDLES"] = json.dumps(handles)
    if load_start and load_start[0] > 0.5 * (os.cpu_count() or 1):
        log(f"note: load average {load_start[0]:.1f} on {os.cpu_count()} CPUs: other work is running, timings will be noisy")
    jobs = jobs_for(cases)
    samples: dict = {j: {"baseline": [], "zoo": []} for j in jobs}
    errors: dict[str, str] = {}
    walls: dict = {j: {"baseline": [], "zoo": []} for j in jobs}
    names = sorted({n for j in jobs for n in _JOB_MODULES[j]})
    build_error = _build_modules(cache, names, env, handles, log) if names else None
    if build_error:
        errors.update({j: build_error for j in jobs if _JOB_MODULES[j]})
    log(f"benchmark ({mode}): cases {cases}, jobs {jobs}, {reps} repetition(s)")
    startup_reps = reps if quick else max(reps, 5)
    for rep in range(max(reps, startup_reps if "startup" in jobs else reps)):
        for i, job in enumerate(jobs):
            if job in errors or (job == "startup" and rep >= startup_reps) or (job != "startup" and rep >= reps):
                continue
            sides = ("baseline", "zoo") if (rep + i) % 2 == 0 else ("zoo", "baseline")
            for side in sides:
                params = PARAMS[job][mode]
                if job == "startup":
                    res, err, wall = _startup(env, side, timeout)
                else:
                    res, err, wall = _worker(job, side, params, env, timeout)
                walls[job][side].append(round(wall, 2))
                if err:
                    errors[job] = f"{side}: {err}"
                    log(f"[rep {rep + 1}] {job:8s} {side:8s} FAILED ({wall:.0f} s): {err}")
                    break
                samples[job][side].append(res)
                log(f"[rep {rep + 1}] {job:8s} {side:8s} {wall:6.1f} s  {_summary(res)}")
    results = {
        "meta": {
            "mode": mode, "cases": cases, "repetitions": reps, "params": {j: PARAMS[j][mode] for j in jobs},
            "python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "loadavg_at_start": load_start, "loadavg_at_end": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "started": started, "elapsed_s": None, "handles": json.loads(env["BENCH_HANDLES"]),
            "module_cache": str(cache), "worker_wall_s": walls, "git": _git(),
            "ratio": "zoo / baseline of each row's metric (throughputs: higher is better; times, memory: lower)",
        },
        "cases": build_rows(cases, samples, errors),
        "samples": samples,
        "errors": errors,
    }
    try:
        from benchmarks.modules import _stamp, cache_dir_for

        results["meta"]["modules"] = {h: json.loads(_stamp(cache_dir_for(cache, h)).read_text())
                                      for h in results["meta"]["handles"].values()
                                      if _stamp(cache_dir_for(cache, h)).exists()}
    except (OSError, ValueError):
        pass
    results["meta"]["elapsed_s"] = round(time.perf_counter() - t_start, 1)
    out_path = write_json(results, out or ROOT / "benchmarks" / "results.json")
    log("")
    log(format_table(results))
    log("")
    for job, err in errors.items():
        log(f"ERROR in {job}: {err}")
    log(f"wrote {out_path} ({results['meta']['elapsed_s']} s)")
    return results, (1 if errors else 0)

