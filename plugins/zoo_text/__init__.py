"""zoo's built-in text backbones: BERT family, Universal Sentence Encoder, NNLM, and a starter encoder.

Example:
    >>> import zoo
    >>> zoo.get("bert_small").preprocessor
    'https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3'
"""

import zoo
from zoo.registry import builtin_specs
from zoo.hub import starter_dir
from zoo.models import STARTER_VERSION

__version__ = "0.1.0"


@zoo.hookimpl
def register_backbones(register):
    """Register the text entries of ``registry.toml`` and ``starter_text``.

    Example:
        >>> seen = []; register_backbones(seen.append); "use" in [s.name for s in seen]
        True
    """
    for spec in builtin_specs("text", plugin="text"):
        register(spec)
    register(zoo.BackboneSpec(
        name="starter_text", modality="text", family="starter_text", plugin="text",
        handle=str(starter_dir("starter_text") / STARTER_VERSION), builder="zoo.models._starters:build_starter",
        output_dim=64, pretrained=False, license="Apache-2.0",
        block_pattern=r"block_(\d+)/", blocks=4, tags=("starter", "offline"),
        description="NOT PRETRAINED: hashed-token bag-of-n-grams encoder built locally with random weights.",
    ))
