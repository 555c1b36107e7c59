"""Token classification (NER, POS): one label per word, from the encoder's first word piece of each word.

The model takes sentences as strings whose words are separated by spaces (`zoo.data.from_conll`
joins a CoNLL sentence's words that way). The backbone's contract gives one vector per word
(`Contract.word_features`: for BERT-style encoders, ``sequence_output`` at each word's first
word piece), the task's head gives ``[B, max_words, num_classes]`` probabilities, and the loss and
accuracy skip the ``-1`` labels past each sentence's last word (and the word pieces after the first,
which are never read). `tag_words` maps predictions back to the words.

Example:
    import zoo
    model = zoo.build("bert_small", task="token_classification", num_classes=9, class_names=tags)
    zoo.tag_words(model, ["Angela Merkel visited Paris"])
    # -> [['B-PER', 'I-PER', 'O', 'B-LOC']]
"""

from __future__ import annotations

from typing import Any, Sequence

from zoo.errors import ConfigurationError
from zoo.registry import Contract
from zoo.models._metrics import ShareMetric
from zoo.tfk import keras, tf

__all__ = ["WordFeatures", "word_backbone", "token_features", "token_compile", "MaskedTokenLoss", "MaskedTokenAccuracy", "tag_words",
           "DEFAULT_MAX_WORDS"]

DEFAULT_MAX_WORDS = 64


class WordFeatures(keras.layers.Layer):
    """Strings -> ``[B, max_words, H]`` word vectors through a backbone's contract (zero where no word); with
    ``prefixed`` the input is ``[prefix, text]`` (a question before its context) and the text's words are read."""

    def __init__(self, backbone: Any, max_words: int, prefixed: bool = False, **kwargs: Any):
        super().__init__(name="context_word_features" if prefixed else "word_features", **kwargs)
        self.backbone, self.max_words, self.prefixed = backbone, max_words, prefixed

    def call(self, inputs: Any, training: Any = None) -> Any:
        prefix, text = inputs if self.prefixed else (None, inputs)
        features, _ = self.backbone.contract.word_features(self.backbone, text, self.max_words,
                                                           training=training, prefix=prefix)
        return features


def word_backbone(backbones: list, task: str, options: dict, default_words: int) -> tuple[Any, int]:
    """``(backbone, max_words)`` of a word-level task, checked: one backbone whose contract gives word vectors,
    ``options["max_words"]`` (default ``default_words``) an integer >= 2."""
    if len(backbones) != 1:
        raise ConfigurationError(f"{task} takes one text backbone, got {[b.spec.name for b in backbones]}")
    bb = backbones[0]
    if type(bb.contract).word_features is Contract.word_features:  # checked here: inside a layer call it is wrapped
        bb.contract.word_features(bb, None, 1)  # raises the contract's ConfigurationError
    max_words = options.get("max_words", default_words)
    if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 2:
        raise ConfigurationError(f"max_words must be an integer >= 2, got {max_words!r}")
    return bb, max_words


def token_features(backbones: list, inputs: dict, options: dict) -> Any:
    """The task's features: one vector per word of each sentence (``options["max_words"]``, default 64)."""
    bb, max_words = word_backbone(backbones, "token classification", options, DEFAULT_MAX_WORDS)
    return WordFeatures(bb, max_words)(next(iter(inputs.values())))


@keras.utils.register_keras_serializable(package="zoo")
class MaskedTokenLoss(keras.losses.Loss):
    """Mean cross-entropy over the words whose label is not ``-1`` (probabilities in, one label per word)."""

    def __init__(self, name: str = "masked_token_loss", **kwargs: Any):
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y = tf.cast(y_true, tf.int32)
        mask = tf.cast(y >= 0, tf.float32)
        ce = keras.losses.sparse_categorical_crossentropy(tf.maximum(y, 0), tf.cast(y_pred, tf.float32))
        return tf.reduce_sum(ce * mask, axis=-1) / tf.maximum(tf.reduce_sum(mask, axis=-1), 1.0)


@keras.utils.register_keras_serializable(package="zoo")
class MaskedTokenAccuracy(ShareMetric):
    """Word-level accuracy over the words whose label is not ``-1``."""

    def counts(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        y = tf.cast(y_true, tf.int32)
        mask = tf.cast(y >= 0, tf.float32)
        hit = tf.cast(tf.equal(tf.argmax(y_pred, axis=-1, output_type=tf.int32), y), tf.float32) * mask
        return tf.reduce_sum(hit), tf.reduce_sum(mask)


def token_compile(*, num_classes: int, options: dict) -> tuple[Any, list]:
    """`MaskedTokenLoss` and `MaskedTokenAccuracy` (labels ``-1`` skipped)."""
    return MaskedTokenLoss(), [MaskedTokenAccuracy()]


def tag_words(model: Any, texts: Sequence[str], *, batch_size: int = 32) -> list[list[str]]:
    """The predicted tag of every space-separated word of each text (``"O"`` for words past
    ``max_words`` or past the encoder's ``seq_length``, which the model cannot see).

    Example:
        tag_words(model, ["Angela Merkel visited Paris"])
        # -> [['B-PER', 'I-PER', 'O', 'B-LOC']]
    """
    import warnings

    from zoo.errors import ZooWarning

    config = model.zoo.config
    if config.get("task") != "token_classification":
        raise ConfigurationError(f"tag_words takes a token_classification model, got task {config.get('task')!r}")
    names = config.get("class_names") or [str(i) for i in range(config["num_classes"])]
    outside = "O" if "O" in names else names[0]
    texts = [" ".join(str(t).split()) for t in texts]  # words as str.split finds them, joined by ASCII spaces
    ids = model.predict(list(texts), batch_size=batch_size, verbose=0).argmax(-1)
    long = [i for i, t in enumerate(texts) if len(str(t).split()) > ids.shape[1]]
    if long:
        warnings.warn(f"texts {long[:5]} have more than max_words={ids.shape[1]} words; the words past it are "
                      f"tagged {outside!r} unseen (build with max_words=N for longer sentences)", ZooWarning, stacklevel=2)
    return [[names[row[i]] if i < len(row) else outside for i in range(len(str(t).split()))]
            for t, row in zip(texts, ids)]
