"""Training: ``zoo.fit`` (freeze schedules, fast frozen training on cached features).

Public surface: the names in ``__all__``; the ``_modules`` of this package are private.
Names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

from zoo.lazy import attach

_EXPORTS = {
    "tensorboard_callbacks": "_tensorboard",
    "StageLog": "_tensorboard",
    "log_image": "_tensorboard",
    "write_projector": "_tensorboard",
    "SpillDir": "_features",
    "extract_features": "_features",
    "has_random_ops": "_features",
    "fit": "_fit",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = attach(__name__, _EXPORTS)
