"""Exports of question_answering models: a question and its context in, start / end probabilities per word out.

``serving_default(question: tf.string [B], context: tf.string [B])`` -> ``scores`` (``[B, max_words + 1, 2]``:
per context word, the probability that the answer starts / ends there; the last position: "no answer"), ``words`` (``[B, max_words]``,
the context split on spaces, ``""`` past its end) and ``num_words``. A context longer than
``max_words`` words is read up to there: `answer_export` runs long ones as windows, as `zoo.answer` does.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from zoo.errors import ExportError
from zoo.export._task_export import TaskExport

__all__ = ["SPAN_TASK", "SPAN_EXPORT", "span_serving_module", "check_span_outputs", "answer_export"]

SPAN_TASK = "question_answering"


def span_serving_module(model: Any, meta: dict, class_names: Sequence[str], hub_objects: list) -> tuple[Any, dict]:
    """``(module, signatures)`` for `zoo.export.write_savedmodel` (see the module docs)."""
    import tensorflow as tf

    width = int(meta["max_words"])
    module = tf.Module()
    module.model_variables = list(model.variables)
    module.hub_objects = hub_objects
    names = [tf.TensorSpec([None], tf.string, name=n) for n in ("question", "context")]

    @tf.function(input_signature=names, autograph=False)
    def serve(question: Any, context: Any) -> dict:
        probs = tf.cast(model({"question": question, "context": context}, training=False), tf.float32)
        split = tf.strings.split(context)
        return {"scores": probs, "num_words": tf.minimum(tf.cast(split.row_lengths(), tf.int32), width),
                "words": split.to_tensor(default_value="", shape=[None, width])}

    module.serve = serve
    return module, {"serving_default": serve}


def check_span_outputs(out: dict, meta: dict, path: Any) -> None:
    """Raise `ExportError` unless a one-example call returned ``[1, max_words + 1, 2]`` start / end probabilities
    (``[1, max_words, 2]``: an export made before zoo modelled "no answer")."""
    scores, width = out["scores"].numpy(), int(meta["max_words"])
    if scores.shape not in ((1, width + 1, 2), (1, width, 2)) or not np.allclose(scores.sum(axis=1), 1.0, atol=1e-3):
        raise ExportError(f"'{path}': serving_default returned scores {scores.shape}; expected [1, {width + 1}, 2] "
                          "start / end probabilities")


def _smoke(meta: dict) -> dict:
    import tensorflow as tf

    return {"question": tf.constant(["zoo export check"]), "context": tf.constant(["zoo export check"])}


def _meta(model: Any) -> dict:
    return {"max_words": int(model.output_shape[1]) - 1}  # the last position is "no answer"


SPAN_EXPORT = TaskExport(serving=span_serving_module, smoke=_smoke, check=check_span_outputs, meta=_meta)


def answer_export(fn: Any, meta: dict, questions: Sequence[str], contexts: Sequence[str], *,
                  max_answer_words: int = 30, batch_size: int = 32) -> list[dict]:
    """`zoo.answer` through an export's ``serving_default`` ``fn``: windows over long contexts, best spans."""
    import tensorflow as tf

    from zoo.models import answer_with

    def predict(qs: list, cs: list) -> np.ndarray:
        out = [fn(question=tf.constant(qs[i:i + batch_size]), context=tf.constant(cs[i:i + batch_size]))["scores"]
               .numpy() for i in range(0, len(qs), batch_size)]
        return np.concatenate(out)

    return answer_with(predict, int(meta["max_words"]), list(questions), list(contexts),
                       max_answer_words=max_answer_words)
