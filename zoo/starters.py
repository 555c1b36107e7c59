"""Starter backbones: small real architectures with RANDOM weights, built locally.

They let ``zoo demo`` and offline trials run the whole path with no download:
``starter_cnn`` (vision), ``starter_text`` (text) and ``starter_audio`` (audio)
follow the same TF Hub calling contracts as MobileNet, USE and YAMNet. They are
NOT pretrained: expect them to learn only simple, synthetic problems.

Modules are written once under ``$ZOO_HOME/starters/NAME`` (atomically, under a
file lock, so concurrent processes do not race).

Example:
    >>> import zoo                                                         # doctest: +SKIP
    >>> build_starter(zoo.get("starter_cnn"))                              # doctest: +SKIP
    PosixPath('/home/me/.cache/zoo/starters/starter_cnn')
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from pathlib import Path

from zoo.spec import BackboneSpec

__all__ = ["build_starter"]


def build_starter(spec: BackboneSpec) -> Path:
    """Create the starter module at ``spec.handle`` if it is not there yet.

    Example:
        >>> build_starter(zoo.get("starter_text")).name                    # doctest: +SKIP
        'starter_text'
    """
    from zoo.testing.modules import make_module

    target = Path(spec.handle)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(str(target) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (target / "saved_model.pb").exists():
            return target
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
        try:
            make_module(spec.replace(builder=None), tmp / "module", seed=1234)
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp / "module", target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return target
