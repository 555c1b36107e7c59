"""Extractive question answering: the answer is a span of the context's words.

The question and the context are packed as one pair, ``[CLS] question [SEP] context [SEP]``;
each context word is read at its first word piece (`Contract.word_features` with the question as
prefix) and the head gives, per word, the probability that the answer starts there and that it
ends there, plus one last position meaning "no answer" (``[B, max_words + 1, 2]``, softmax over
the words that are there and that position; its logits come from the mean of the word vectors,
as BERT's SQuAD 2.0 head reads [CLS]). Labels are ``[start, end]`` word indices (inclusive), or
``[max_words, max_words]`` for a window without the answer (SQuAD v2.0's unanswerable questions,
and windows of long contexts that do not hold it). `answer` decodes the best span (``end >=
start``, at most ``max_answer_words`` long), runs contexts longer than ``max_words`` words as
overlapping windows, and answers ``""`` when "no answer" scores higher than the best span.

Example:
    import zoo
    model = zoo.build("bert_base", task="question_answering", max_words=128)
    zoo.answer(model, ["Where did Merkel go?"], ["Angela Merkel visited Paris in May ."])
    # -> [{'answer': 'Paris', 'score': 0.93, 'start': 3, 'end': 3}]
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from zoo.errors import ConfigurationError
from zoo.models._tokens import WordFeatures, word_backbone
from zoo.models._metrics import ShareMetric
from zoo.tfk import keras, tf

__all__ = ["span_features", "span_head", "span_compile", "SpanLoss", "SpanAccuracy", "best_span", "answer", "answer_with",
           "DEFAULT_CONTEXT_WORDS"]

DEFAULT_CONTEXT_WORDS = 64  # with the question, about what a 128-piece BERT packs


def span_features(backbones: list, inputs: dict, options: dict) -> Any:
    """The task's features: a vector per context word, the question packed before the context."""
    bb, max_words = word_backbone(backbones, "question answering", options, DEFAULT_CONTEXT_WORDS)
    return WordFeatures(bb, max_words, prefixed=True)([inputs["question"], inputs["context"]])


def _words_there(feats: Any) -> Any:
    """``[B, W, 1]`` True where a word is (the word features are zero past the sentence's end)."""
    return tf.reduce_any(tf.not_equal(feats, 0.0), axis=-1, keepdims=True)


def _mean_of_words(feats: Any) -> Any:
    there = tf.cast(_words_there(feats), feats.dtype)
    return tf.reduce_sum(feats * there, axis=1) / tf.maximum(tf.reduce_sum(there, axis=1), 1.0)


def span_head(features: Any, *, num_classes: Any = None, options: dict) -> Any:
    """Start / end probabilities per word and for "no answer" (the last position): ``[B, max_words + 1, 2]``,
    a softmax over the words that are there and that position."""
    x = keras.layers.Dropout(options.get("dropout", 0.0))(features)
    logits = keras.layers.Dense(2, name="span_logits")(x)
    pooled = keras.layers.Lambda(_mean_of_words, name="mean_of_words")(x)
    null = keras.layers.Dense(2, name="no_answer_logits")(pooled)  # [B, 2]

    def masked_softmax(args: Any) -> Any:
        logits, null, feats = args
        logits = tf.where(_words_there(feats), tf.cast(logits, tf.float32), -1e9)
        logits = tf.concat([logits, tf.cast(null, tf.float32)[:, None, :]], axis=1)  # [B, W + 1, 2]
        return tf.nn.softmax(logits, axis=1)

    return keras.layers.Lambda(masked_softmax, name="span_probabilities", dtype="float32")([logits, null, features])


@keras.utils.register_keras_serializable(package="zoo")
class SpanLoss(keras.losses.Loss):
    """Mean of the cross-entropies of the start and the end word (labels ``[B, 2]``); an example whose answer
    lies in words the encoder's ``seq_length`` cut off (probability exactly 0) adds nothing."""

    def __init__(self, name: str = "span_loss", **kwargs: Any):
        super().__init__(name=name, **kwargs)

    def call(self, y_true: Any, y_pred: Any) -> Any:
        y = tf.cast(y_true, tf.int32)
        p = tf.cast(y_pred, tf.float32)
        start = tf.gather(p[:, :, 0], y[:, 0], batch_dims=1)
        end = tf.gather(p[:, :, 1], y[:, 1], batch_dims=1)
        seen = tf.cast((start > 0.0) & (end > 0.0), tf.float32)  # 0: the answer's words were cut by seq_length
        return -seen * (tf.math.log(start + 1e-9) + tf.math.log(end + 1e-9)) / 2.0


@keras.utils.register_keras_serializable(package="zoo")
class SpanAccuracy(ShareMetric):
    """Share of examples whose most likely start and end words are both right (word-level exact span)."""

    def counts(self, y_true: Any, y_pred: Any) -> tuple[Any, Any]:
        y = tf.cast(y_true, tf.int32)
        guess = tf.argmax(y_pred, axis=1, output_type=tf.int32)  # [B, 2]
        hits = tf.reduce_sum(tf.cast(tf.reduce_all(tf.equal(guess, y), axis=-1), tf.float32))
        return hits, tf.cast(tf.shape(y)[0], tf.float32)


def span_compile(*, num_classes: Any = None, options: dict) -> tuple[Any, list]:
    """`SpanLoss` and `SpanAccuracy`."""
    return SpanLoss(), [SpanAccuracy()]


def best_span(start: np.ndarray, end: np.ndarray, n_words: int, max_answer_words: int = 30,
              n_best: int = 20) -> tuple[int, int, float]:
    """The most likely ``(start, end, score)`` with ``start <= end < n_words`` and at most ``max_answer_words``
    words, among the ``n_best`` best starts and ends (score: product of the two probabilities).

    Example:
        >>> best_span(np.array([0.1, 0.7, 0.2]), np.array([0.6, 0.1, 0.3]), 3)[:2]
        (1, 2)
    """
    starts = np.argsort(start[:n_words])[::-1][:n_best]
    ends = np.argsort(end[:n_words])[::-1][:n_best]
    best = (0, 0, -1.0)
    for s in starts:
        for e in ends:
            if s <= e < s + max_answer_words and start[s] * end[e] > best[2]:
                best = (int(s), int(e), float(start[s] * end[e]))
    return best


def answer(model: Any, questions: Sequence[str], contexts: Sequence[str], *, max_answer_words: int = 30,
           stride: int | None = None, batch_size: int = 32) -> list[dict]:
    """The best answer span of each (question, context): ``{"answer", "score", "start", "end"}`` (word indices
    into ``context.split()``, ``end`` inclusive). A context longer than the model's ``max_words`` runs as
    windows of that many words every ``stride`` words (default half of it); the best span of any window wins.
    No answer (``"answer": ""``, ``start`` / ``end`` -1, ``score`` the no-answer score) when every window
    scores "no answer" above that span (scores: start x end probabilities).
    """
    if model.zoo.config.get("task") != "question_answering":
        raise ConfigurationError(f"answer takes a question_answering model, got task {model.zoo.config.get('task')!r}")
    predict = lambda q, c: model.predict({"question": q, "context": c}, batch_size=batch_size, verbose=0)  # noqa: E731
    no_answer = any(layer.name == "no_answer_logits" for layer in model.zoo.head_model.layers)  # else made before it
    return answer_with(predict, int(model.output_shape[1]) - int(no_answer), questions, contexts,
                       max_answer_words=max_answer_words, stride=stride)


def answer_with(predict: Any, width: int, questions: Sequence[str], contexts: Sequence[str], *,
                max_answer_words: int = 30, stride: int | None = None) -> list[dict]:
    """`answer` on any ``predict(questions, contexts) -> [N, width + 1, 2]`` start / end probabilities, the last
    position "no answer" (a model, or an export's ``serving_default``): windows over long contexts, the best
    span of each question, or none."""
    if len(questions) != len(contexts):
        raise ConfigurationError(f"got {len(questions)} questions and {len(contexts)} contexts; give one context each")
    step = stride or max(1, width // 2)
    windows, owners = [], []
    for i, context in enumerate(contexts):
        words = str(context).split()
        for lo in range(0, max(len(words) - width, 0) + step, step):
            windows.append((questions[i], words[lo:lo + width], lo))
            owners.append(i)
            if lo + width >= len(words):
                break
    probs = predict([w[0] for w in windows], [" ".join(w[1]) for w in windows]) if windows else []
    out: list[dict] = [{"answer": "", "score": 0.0, "start": -1, "end": -1} for _ in contexts]
    null = [1.0] * len(contexts)  # the lowest "no answer" score of any window: the window that holds the answer
    for (question, words, lo), i, p in zip(windows, owners, np.asarray(probs)):
        s, e, score = best_span(p[:, 0], p[:, 1], min(len(words), width), max_answer_words)
        null[i] = min(null[i], float(p[width, 0] * p[width, 1])) if len(p) > width else 0.0
        if score > out[i]["score"]:
            out[i] = {"answer": " ".join(words[s:e + 1]), "score": score, "start": lo + s, "end": lo + e}
    for i, r in enumerate(out):
        if null[i] > r["score"]:
            out[i] = {"answer": "", "score": null[i], "start": -1, "end": -1}
    return out
