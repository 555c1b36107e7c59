"""Keeping TensorFlow's C++ chatter (start-up lines, converter MLIR dumps) off the user's terminal.

TensorFlow 2.x writes some log lines straight to file descriptor 2, ignoring
``TF_CPP_MIN_LOG_LEVEL``. `captured_stderr` redirects the descriptor while a block runs
and gives back what was written, so that the CLI can turn failures into one line.

Example:
    >>> with captured_stderr() as cap:
    ...     os.write(2, b"noise\\n")
    6
    >>> cap.text
    'noise\\n'
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Iterator

__all__ = ["captured_stderr", "stderr_to_file", "quiet_tensorflow", "Captured"]


class Captured:
    """What a `captured_stderr` block wrote (``text``, filled in when the block ends).

    Example:
        >>> Captured().text
        ''
    """

    def __init__(self) -> None:
        self.text = ""


@contextlib.contextmanager
def captured_stderr(*, replay_on_error: bool = False) -> Iterator[Captured]:
    """Redirect file descriptor 2 (C/C++ writes too) into a temp file for the block.

    ``replay_on_error``: write the captured text back to stderr if the block raises.
    Set ``ZOO_TF_LOGS=1`` to disable capturing.

    Example:
        >>> with captured_stderr() as cap:
        ...     _ = os.write(2, b"x\\n")
        >>> cap.text
        'x\\n'
    """
    cap = Captured()
    if os.environ.get("ZOO_TF_LOGS") == "1":
        yield cap
        return
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no usable fd 2
        yield cap
        return
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        failed = False
        try:
            yield cap
        except BaseException:
            failed = True
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            cap.text = sink.read().decode("utf-8", "replace")
            if failed and replay_on_error:
                sys.stderr.write(cap.text)


def quiet_tensorflow() -> None:
    """Import TensorFlow with its start-up lines captured (shown only if the import fails); log errors only.

    Example:
        >>> quiet_tensorflow(); "tensorflow" in sys.modules
        True
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules:
        with captured_stderr(replay_on_error=True):
            import tensorflow as tf

            tf.config.list_physical_devices()
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="tf_keras")
    warnings.filterwarnings("ignore", module="tensorflow")


@contextlib.contextmanager
def stderr_to_file(path: str | os.PathLike, *, tail: int = 20) -> Iterator[None]:
    """Send file descriptor 2 (and so child processes' stderr) to ``path`` for the block; if the block
    raises, the last ``tail`` lines are written back to stderr with the log's path. ``ZOO_TF_LOGS=1``: no redirect.

    Example:
        >>> p = tempfile.mkdtemp() + "/log.txt"
        >>> with stderr_to_file(p):
        ...     _ = os.write(2, b"worker chatter\\n")
        >>> open(p).read()
        'worker chatter\\n'
    """
    if os.environ.get("ZOO_TF_LOGS") == "1":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with open(path, "ab") as log:
        os.dup2(log.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()[-tail:]
            sys.stderr.write("".join(line + "\n" for line in lines) + f"(full log: {path})\n")
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
