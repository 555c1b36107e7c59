"""zoo's built-in vision backbones: MobileNet, EfficientNet, Inception, ResNet, and a starter CNN.

Registered through the ``zoo.plugins`` entry point exactly as a third-party
plugin would be; the catalogue itself is data in ``registry.toml``.

Example:
    >>> import zoo
    >>> zoo.get("mobilenet_v2").plugin
    'vision'
"""

import zoo
from zoo.registry import builtin_specs
from zoo.hub import starter_dir
from zoo.models import STARTER_VERSION

__version__ = "0.1.0"


@zoo.hookimpl
def register_backbones(register):
    """Register the vision entries of ``registry.toml`` and ``starter_cnn``.

    Example:
        >>> seen = []; register_backbones(seen.append); "efficientnet_b0" in [s.name for s in seen]
        True
    """
    for spec in builtin_specs("vision", plugin="vision"):
        register(spec)
    register(zoo.BackboneSpec(
        name="starter_cnn", modality="vision", family="starter_cnn", plugin="vision",
        handle=str(starter_dir("starter_cnn") / STARTER_VERSION), builder="zoo.models._starters:build_starter",
        input_shape=(64, 64, 3), output_dim=64, pretrained=False, license="Apache-2.0",
        block_pattern=r"block_(\d+)/", blocks=5, tags=("starter", "offline"),
        description="NOT PRETRAINED: small CNN built locally with random weights, for offline demos and tests.",
    ))
