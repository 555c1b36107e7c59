"""One benchmark run in a fresh process: ``python -m benchmarks.worker JOB SIDE PARAMS_JSON``.

Prints one line ``BENCH_RESULT {json}`` (metrics, ``peak_rss_mb``) on stdout;
exits 1 with the traceback on stderr when the run fails. The runner sets the
environment (``TFHUB_CACHE_DIR`` with the built modules, ``ZOO_OFFLINE=1``,
``BENCH_HANDLES``).
"""

from __future__ import annotations

import json
import os
import sys

MARKER = "BENCH_RESULT "


def main(argv: list[str]) -> int:
    job, side, params = argv[0], argv[1], json.loads(argv[2])
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from benchmarks.cases import run_job

    out = run_job(job, side, params)
    sys.stdout.write(MARKER + json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
