"""Text in, one vector out: the raw-string side shared by text contracts, and sentence encoders.

`TextContract` holds what every string-taking contract shares: a ``tf.string`` Keras
input, input checks (lists, arrays and string tensors of strings), invalid UTF-8
replaced rather than fatal, the ``text`` serving input. `SentenceEncoder` is the
contract of modules called on strings that return ``[B, D]`` (Universal Sentence
Encoder, NNLM): ``module(strings) -> [B, D]``, or a one-element list ``[[B, D]]``
(sentence-T5, whose users write ``(embedding,) = encoder(sentences)``).

Example:
    >>> SentenceEncoder().serving_input, SentenceEncoder().modality
    ('text', 'text')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.models.contracts._base import Contract
from zoo.errors import InputError, ModuleFormatError

__all__ = ["TextContract", "SentenceEncoder", "as_utf8"]


def as_utf8(inputs: Any) -> Any:
    """A flat ``tf.string`` batch with invalid UTF-8 replaced (U+FFFD), never an error.

    Example:
        >>> as_utf8([b"caf\\xe9"]).numpy()[0].decode()
        'caf\ufffd'
    """
    import tensorflow as tf

    text = tf.reshape(tf.convert_to_tensor(inputs, tf.string), [-1])
    return tf.strings.unicode_transcode(text, "UTF-8", "UTF-8", errors="replace")


class TextContract(Contract):
    """Shared raw-string input for text contracts."""

    modality = "text"
    serving_input = "text"

    def keras_input(self, spec: Any, name: str) -> Any:
        from zoo.tfk import keras, tf

        return keras.Input(shape=(), dtype=tf.string, name=name)

    def check_input(self, spec: Any, x: Any) -> None:
        name = spec.name
        if isinstance(x, (str, bytes)):
            raise InputError(f"{name}: text input must be a batch (list) of strings, got one string; wrap it: [text]")
        dtype = getattr(x, "dtype", None)
        if dtype is not None and not isinstance(x, np.ndarray):  # a tf.Tensor: as plain tf_keras takes it
            if getattr(dtype, "name", str(dtype)) != "string":
                raise InputError(f"{name}: text input must be a string tensor, got dtype {getattr(dtype, 'name', dtype)}")
            shape = getattr(x, "shape", None)
            if shape is not None and len(shape) == 0:
                raise InputError(f"{name}: text input must be a batch of strings, got one scalar string; "
                                 "use tf.constant([text])")
            if shape is not None and len(shape) and shape[0] == 0:
                raise InputError(f"{name}: empty batch: pass at least one string")
            return
        try:
            n = len(x)
        except TypeError:
            raise InputError(f"{name}: text input must be a list of strings, got {type(x).__name__}") from None
        if n == 0:
            raise InputError(f"{name}: empty batch: pass at least one string")
        for item in list(x)[:10000]:
            if not isinstance(item, (str, bytes, np.str_, np.bytes_)):
                raise InputError(f"{name}: text input must contain strings, found {type(item).__name__} {item!r}")

    def serving_spec(self, meta: dict) -> Any:
        import tensorflow as tf

        return tf.TensorSpec([None], tf.string, name="text")

    def predict_scores(self, fn: Any, inputs: Any, batch_size: int = 32) -> Any:
        from zoo.data import text_bytes

        return super().predict_scores(fn, [text_bytes(s) for s in inputs], batch_size)

    def file_input(self, path: Any, meta: dict) -> Any:
        from pathlib import Path

        return Path(path).read_text(encoding="utf-8").strip()

    def smoke_input(self, meta: dict) -> dict:
        import tensorflow as tf

        return {"text": tf.constant(["zoo export check"])}

    def tflite_example(self, meta: dict) -> tuple[str, Any, str]:
        return "text", np.array([b"a quick check of the exported model"]), "string[1]"

    def dummy_input(self, spec: Any, n: int = 2) -> Any:
        base = ["a wonderful film", "an awful boring movie", "the music was amazing", "bad"]
        return [base[i % len(base)] for i in range(n)]


class SentenceEncoder(TextContract):
    """``module(strings [B]) -> [B, D]`` (USE, NNLM) or ``[[B, D]]`` (sentence-T5)."""

    name = "sentence_encoder"
    families = ("use", "nnlm", "starter_text", "sentence-t5")

    def call(self, backbone: Any, inputs: Any, training: Any = None) -> Any:
        out = backbone.module(as_utf8(inputs), training=training)
        if isinstance(out, (list, tuple)):
            if len(out) != 1:
                raise ModuleFormatError(f"backbone {backbone.spec.name!r}: module {backbone.spec.handle} returns "
                                        f"{len(out)} outputs; a sentence encoder returns one [batch, dim] tensor "
                                        "(or a list holding only that)", backbone=backbone.spec.name)
            out = out[0]
        return out

    def test_module(self, spec: Any, workdir: Any, seed: int = 0) -> Any:
        from zoo.testing.text_modules import SentenceEncoderModule

        return SentenceEncoderModule(spec, seed)

    def test_module_key(self, spec: Any) -> tuple:
        return (spec.output_dim, spec.fine_tunable, spec.family, spec.text_ops)
