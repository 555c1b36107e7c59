"""A minimal third-party zoo plugin: registers one backbone and one task.

Install with ``pip install -e examples/zoo-example-plugin``; then ``zoo plugins``
lists ``example`` and ``zoo list 'example*'`` shows its backbone.

Example:
    >>> import zoo
    >>> zoo.get("example_mobilenet_v2_050").plugin
    'example'
"""

import zoo

__version__ = "0.1.0"


@zoo.hookimpl
def register_backbones(register):
    """Register MobileNet V2 at depth 0.5 (a TF Hub feature-vector module).

    Example:
        >>> seen = []; register_backbones(seen.append); seen[0].output_dim
        1280
    """
    register(zoo.BackboneSpec(
        name="example_mobilenet_v2_050",
        modality="vision",
        handle="https://tfhub.dev/google/imagenet/mobilenet_v2_050_224/feature_vector/5",
        input_shape=(224, 224, 3),
        output_dim=1280,
        family="mobilenet_v2",
        license="see model page",
        tags=("imagenet", "mobile", "example"),
        block_pattern=r"MobilenetV2/expanded_conv(?:_(\d+))?/",
        blocks=17,
        description="MobileNet V2 (depth 0.5, 224x224) feature vector, registered by the example plugin.",
    ))


def logits_head(features, *, num_classes, options):
    """Dropout + linear logits (no softmax): the loss applies it.

    Example:
        >>> callable(logits_head)
        True
    """
    import tf_keras as keras

    x = keras.layers.Dropout(options.get("dropout", 0.2))(features)
    return keras.layers.Dense(num_classes, name="logits")(x)


def logits_compile(*, num_classes, options):
    """Cross-entropy from logits, accuracy.

    Example:
        >>> callable(logits_compile)
        True
    """
    import tf_keras as keras

    return (keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            [keras.metrics.SparseCategoricalAccuracy(name="accuracy")])


@zoo.hookimpl
def register_tasks(register):
    """Register the task ``classification_logits``.

    Example:
        >>> seen = []; register_tasks(seen.append); seen[0].name
        'classification_logits'
    """
    register(zoo.TaskSpec(
        name="classification_logits",
        description="single-label classification that outputs logits (example plugin)",
        head=logits_head,
        compile=logits_compile,
        needs_num_classes=True,
    ))
