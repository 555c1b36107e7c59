"""Image feature vectors: ``module(images [B, H, W, 3] in [0, 1] (or [-1, 1]), training) -> [B, D]``.

TF Hub's image feature-vector modules (MobileNet, EfficientNet, Inception, ResNet, ...).
Raw input: pixels 0-255 ``[B, H, W, 1|3|4]`` of any size, uint8 or float; zoo converts
to RGB, resizes to the module's size and maps to the entry's ``input_range`` inside the
model. Integer images are 0-255 by definition; float images already in [0, 1] are kept
(with an `InputWarning`). Batch norm stays in inference mode unless ``bn_training``.
Exports serve encoded image bytes (``images``) and pixels at the module's size
(``pixels``, also the TFLite input).

Example:
    >>> ImageFeatureVector().serving_input, ImageFeatureVector().eval_signature
    ('images', 'serving_pixels')
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

from zoo.models.contracts._base import Contract, bad_rows, check_batch_array, check_numeric
from zoo.errors import DataError, InputError

__all__ = ["ImageFeatureVector", "prepare_images", "scale_pixels"]


def scale_pixels(x: Any, input_range: tuple[float, float] | None = (0.0, 1.0), *, integer: bool = False) -> Any:
    """Float pixels -> the module's ``input_range``: 0-255 images are divided by 255, float
    images already in [0, 1] are kept (decided per image); with ``integer`` (the input was an
    integer tensor, 0-255 by definition) every image is divided. One rule for model and export.

    Example:
        >>> import tensorflow as tf
        >>> float(scale_pixels(tf.constant([[[[1.0, 0.0, 1.0]]]]), integer=True).numpy().max()) < 0.01
        True
        >>> scale_pixels(tf.constant([[[[255.0, 0.0, 0.0]]]]), (-1.0, 1.0)).numpy().ravel().tolist()
        [1.0, -1.0, -1.0]
    """
    import tensorflow as tf

    x = tf.cast(x, tf.float32)
    if integer:
        x = x / 255.0
    else:
        peak = tf.reduce_max(x, axis=[1, 2, 3], keepdims=True)
        x = tf.where(peak > 1.0, x / 255.0, x)
    x = tf.clip_by_value(x, 0.0, 1.0)
    lo, hi = input_range or (0.0, 1.0)
    return x if (lo, hi) == (0.0, 1.0) else x * (hi - lo) + lo


def prepare_images(images: Any, input_shape: tuple[int, int, int], input_range: tuple[float, float] | None = None) -> Any:
    """Raw pixels ``[B, H, W, 1|3|4]`` (any size, uint8 or float 0-255) -> ``[B, h, w, 3]`` in ``input_range``.

    Example:
        >>> import numpy as np
        >>> prepare_images(np.zeros((2, 30, 40, 3), "uint8"), (24, 24, 3)).shape
        TensorShape([2, 24, 24, 3])
    """
    import tensorflow as tf

    x = tf.convert_to_tensor(images)
    integer = x.dtype.is_integer
    x = tf.cast(x, tf.float32)
    channels = tf.shape(x)[-1]
    x = tf.cond(channels < 3, lambda: tf.tile(x[..., :1], [1, 1, 1, 3]), lambda: x[..., :3])
    x = tf.ensure_shape(x, [None, None, None, 3])
    x = scale_pixels(x, (0.0, 1.0), integer=integer)
    h, w = input_shape[0], input_shape[1]
    same_size = tf.reduce_all(tf.equal(tf.shape(x)[1:3], [h, w]))
    x = tf.cond(same_size, lambda: x, lambda: tf.image.resize(x, (h, w), antialias=True))
    x = tf.ensure_shape(x, [None, h, w, 3])
    return scale_pixels(x, input_range, integer=False)


def decode_image(raw: Any, size: tuple[int, int]) -> Any:
    """Encoded image bytes -> float32 ``[h, w, 3]`` in [0, 1]: the data loaders' decode and resize
    (`zoo.data._files.decode_image_bytes`, `resize_pixels`), so a served image is exactly a trained one.

    Example:
        >>> import tensorflow as tf
        >>> png = tf.io.encode_png(tf.fill([20, 30, 3], tf.constant(255, tf.uint8)))
        >>> decode_image(png, (8, 8)).shape, round(float(decode_image(png, (8, 8)).numpy().min()), 4)
        (TensorShape([8, 8, 3]), 1.0)
    """
    from zoo.data import decode_image_bytes, resize_pixels

    return resize_pixels(decode_image_bytes(raw), size) / 255.0


class ImageFeatureVector(Contract):
    """The image feature-vector contract (see the module docs)."""

    name = "image_feature_vector"
    modality = "vision"
    families = ("mobilenet_v2", "mobilenet_v3", "efficientnet", "efficientnet_v2", "inception", "resnet_v2",
                "starter_cnn")
    serving_input = "images"
    eval_signature = "serving_pixels"

    def keras_input(self, spec: Any, name: str) -> Any:
        from zoo.tfk import keras, tf

        return keras.Input(shape=(None, None, None), dtype=tf.float32, name=name)

    def check_input(self, spec: Any, x: Any) -> None:
        import numpy as np

        name = spec.name
        arr = check_batch_array(name, x)
        check_numeric(name, arr)
        if arr.ndim == 3:
            raise InputError(
                f"{name}: images must be a batch [batch, height, width, channels]; got shape {arr.shape}: "
                "add the batch axis (x[None]) or, for grey-scale, the channel axis (x[..., None])"
            )
        if arr.ndim != 4 or arr.shape[-1] not in (1, 3, 4):
            raise InputError(f"{name}: images must be [batch, height, width, 1|3|4] pixels, got shape {arr.shape}")
        if arr.dtype == bool:
            return
        if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
            raise InputError(f"{name}: images {bad_rows(arr)} contain NaN or Inf pixel values; "
                             "replace them (np.nan_to_num) or drop those images")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 255:
            raise InputError(f"{name}: pixel values must be in 0-255 (or 0-1), got range [{lo:.3g}, {hi:.3g}]; "
                             "rescale to 0-255 (e.g. 16-bit images: x / 257)")
        if np.issubdtype(arr.dtype, np.floating) and 0 < hi <= 1.0:
            from zoo.models._inputs import InputWarning

            warnings.warn(f"{name}: float images in [0, 1] detected; zoo expects 0-255 pixels and treats these as "
                          "already scaled (not divided by 255 again)", InputWarning, stacklevel=5)

    def setup(self, backbone: Any, obj: Any) -> dict:
        return {"force_inference": not backbone.bn_training}

    def loader_options(self, spec: Any) -> dict:
        return {"image_size": tuple((spec.input_shape or (224, 224, 3))[:2])}

    def call(self, backbone: Any, inputs: Any, training: Any = None) -> Any:
        spec = backbone.spec
        return backbone.module(prepare_images(inputs, spec.input_shape, spec.input_range), training=training)

    # ---- export ----------------------------------------------------------------------------
    def serving_spec(self, meta: dict) -> Any:
        import tensorflow as tf

        return tf.TensorSpec([None], tf.string, name="images")

    def serving_decode(self, meta: dict) -> Callable:
        import tensorflow as tf

        h, w = (meta.get("input_shape") or (224, 224, 3))[:2]
        return lambda raw: tf.map_fn(lambda r: decode_image(r, (h, w)), raw,
                                     fn_output_signature=tf.TensorSpec([h, w, 3], tf.float32))

    def extra_signatures(self, model: Any, meta: dict, outputs: Callable) -> dict:
        """``serving_pixels``: float32 pixels 0-255 at the module's size, without the resize op
        (ScaleAndTranslate, which TFLite cannot run)."""
        import tensorflow as tf

        h, w = (meta.get("input_shape") or (224, 224, 3))[:2]
        run = _pixels_model(model)

        @tf.function(input_signature=[tf.TensorSpec([None, h, w, 3], tf.float32, name="pixels")], autograph=False)
        def serve_pixels(pixels: Any) -> dict:
            return outputs(run(pixels))

        return {"serving_pixels": serve_pixels}

    def eval_input_key(self, meta: dict) -> str:
        return "pixels"

    def read_inputs(self, items: Sequence[str], meta: dict) -> list:
        from zoo.data import read_image  # checks the header and decodes: a clear error for broken files

        out = []
        for item in items:
            p = Path(item).expanduser()
            if not p.is_file():
                raise DataError(f"image file '{item}' does not exist; this is an image model, so pass image files")
            read_image(p)
            out.append(p.read_bytes())
        return out

    def smoke_input(self, meta: dict) -> dict:
        import tensorflow as tf

        png = tf.io.encode_png(tf.fill([20, 30, 3], tf.constant(128, tf.uint8)))
        return {"images": tf.reshape(png, [1])}

    def tflite_example(self, meta: dict) -> tuple[str, Any, str]:
        import numpy as np

        h, w = meta["input_shape"][:2]
        x = np.random.default_rng(0).uniform(0, 255, (1, h, w, 3)).astype(np.float32)
        return "pixels", x, f"float32[1, {h}, {w}, 3] pixels 0-255"

    # ---- tests ---------------------------------------------------------------------------
    def dummy_input(self, spec: Any, n: int = 2) -> Any:
        import numpy as np

        h, w, _ = spec.input_shape
        return np.random.default_rng(0).integers(0, 256, (n, h, w, 3)).astype(np.uint8)

    def test_module(self, spec: Any, workdir: Any, seed: int = 0) -> Any:
        from zoo.testing.modules import VisionModule, image_facts

        return VisionModule(image_facts(spec), spec.fine_tunable, seed)

    def test_module_key(self, spec: Any) -> tuple:
        from zoo.testing.modules import image_facts

        return (image_facts(spec), spec.fine_tunable)


def _pixels_model(model: Any) -> Callable[[Any], Any]:
    """pixels [B, h, w, 3] 0-255 at the backbone's size -> model outputs: the model's computation
    (`scale_pixels`, the module, the head) without the same-size resize."""
    import tensorflow as tf

    parts = getattr(model, "zoo", None)
    backbones = getattr(parts, "backbones", None) or []
    if len(backbones) != 1 or parts.head_model is None or not hasattr(backbones[0], "module"):
        return lambda pixels: model(pixels, training=False)
    module, head, input_range = backbones[0].module, parts.head_model, backbones[0].spec.input_range

    def run(pixels: Any) -> Any:
        # the signature takes 0-255 pixels by contract: divide always. The per-image guess of the raw-input path
        # (peak > 1 ? x / 255 : x) would put a 0-255 and a 0-1 tensor into one select, which int8 TFLite
        # quantizes with one scale (0-1): every input pixel then saturates at 1.
        x = scale_pixels(pixels, input_range, integer=True)
        return head(tf.cast(module(x, training=False), tf.float32), training=False)

    return run
