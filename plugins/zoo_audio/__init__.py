"""zoo's built-in audio backbones: YAMNet, VGGish, and a starter audio encoder.

Example:
    >>> import zoo
    >>> zoo.get("yamnet").sample_rate
    16000
"""

import zoo
from zoo.registry import builtin_specs
from zoo.hub import starter_dir
from zoo.models import STARTER_VERSION

__version__ = "0.1.0"


@zoo.hookimpl
def register_backbones(register):
    """Register the audio entries of ``registry.toml`` and ``starter_audio``.

    Example:
        >>> seen = []; register_backbones(seen.append); "yamnet" in [s.name for s in seen]
        True
    """
    for spec in builtin_specs("audio", plugin="audio"):
        register(spec)
    register(zoo.BackboneSpec(
        name="starter_audio", modality="audio", family="starter_audio", plugin="audio",
        handle=str(starter_dir("starter_audio") / STARTER_VERSION), builder="zoo.models._starters:build_starter",
        output_dim=64, output_key="embeddings", sample_rate=16000, pretrained=False, license="Apache-2.0",
        block_pattern=r"block_(\d+)/", blocks=4, tags=("starter", "offline"),
        description="NOT PRETRAINED: log-mel + small conv encoder built locally with random weights (YAMNet-style outputs).",
    ))
