"""Choosing the ``tf.distribute`` strategy (CPU, GPUs, multi-worker, TPU).

Example (prose: it imports TensorFlow)::

    from zoo.models import resolve_strategy
    resolve_strategy("cpu").__class__.__name__
    # -> 'OneDeviceStrategy'
"""

from __future__ import annotations

import os
from typing import Any

from zoo.errors import StrategyError
from zoo.tfk import tf

__all__ = ["resolve_strategy", "tpu_present", "STRATEGY_NAMES"]

STRATEGY_NAMES = ("auto", "default", "cpu", "mirrored", "multiworker", "tpu")
_TPU_ENV = ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_ACCELERATOR_TYPE", "KUBE_GOOGLE_CLOUD_TPU_ENDPOINTS")


def tpu_present() -> bool:
    """True when the environment advertises a TPU (checked without network calls).

    Example:
        >>> isinstance(tpu_present(), bool)
        True
    """
    return any(os.environ.get(k) for k in _TPU_ENV) or os.path.exists("/dev/accel0")


def _tpu_strategy() -> Any:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    except (ValueError, tf.errors.OpError, RuntimeError) as exc:
        raise StrategyError(f"strategy 'tpu': no TPU could be reached ({exc}); use strategy='auto' or 'cpu'") from None


def resolve_strategy(strategy: Any = None) -> Any:
    """A ``tf.distribute.Strategy`` for ``strategy``.

    ``None``/``"auto"``: TPU when one is advertised, ``MirroredStrategy`` over all
    GPUs when there are several, else the default strategy. A strategy object is
    returned as is; strings: ``"default"``, ``"cpu"``, ``"mirrored"``,
    ``"multiworker"`` (``TF_CONFIG``), ``"tpu"``.

    Example:
        resolve_strategy(None) is not None
        # -> True
    """
    if isinstance(strategy, tf.distribute.Strategy):
        return strategy
    if strategy is not None and not isinstance(strategy, str):
        raise StrategyError(f"strategy must be a tf.distribute.Strategy or one of {STRATEGY_NAMES}, got {strategy!r}")
    name = (strategy or "auto").lower()
    if name == "auto":
        if tpu_present():
            return _tpu_strategy()
        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy()
        return tf.distribute.get_strategy()
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "cpu":
        return tf.distribute.OneDeviceStrategy("/cpu:0")
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multiworker":
        if not os.environ.get("TF_CONFIG"):
            raise StrategyError("strategy 'multiworker' needs TF_CONFIG describing the cluster and this worker's task")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        return _tpu_strategy()
    raise StrategyError(f"unknown strategy {strategy!r}; use one of {', '.join(STRATEGY_NAMES)} or a tf.distribute.Strategy")
