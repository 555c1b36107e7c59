"""Where zoo keeps its own files (no TensorFlow).

``ZOO_HOME`` (default ``~/.cache/zoo``) holds the locally built starter
backbones. TF Hub modules live in TF Hub's own cache (``TFHUB_CACHE_DIR``).

Example:
    >>> import os; os.environ["ZOO_HOME"] = "/tmp/zh"
    >>> str(zoo_home())
    '/tmp/zh'
    >>> del os.environ["ZOO_HOME"]
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["zoo_home", "starter_dir", "hub_cache_dir"]


def zoo_home() -> Path:
    """zoo's own data directory: ``$ZOO_HOME`` or ``~/.cache/zoo``.

    Example:
        >>> zoo_home().name in ("zoo", os.environ.get("ZOO_HOME", "zoo").rsplit("/", 1)[-1])
        True
    """
    env = os.environ.get("ZOO_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "zoo"


def starter_dir(name: str) -> Path:
    """Directory of a locally built starter backbone.

    Example:
        >>> starter_dir("starter_cnn").name
        'starter_cnn'
    """
    return zoo_home() / "starters" / name


def hub_cache_dir() -> Path:
    """TF Hub's cache directory as tensorflow_hub computes it (``TFHUB_CACHE_DIR`` or a temp dir).

    Example:
        >>> import os; os.environ["TFHUB_CACHE_DIR"] = "/tmp/hubc"
        >>> str(hub_cache_dir())
        '/tmp/hubc'
    """
    env = os.environ.get("TFHUB_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    return Path(tempfile.gettempdir()) / "tfhub_modules"
