"""Exports that are not one-input classifiers (a text pair in, one tag per word out): what needs one says so.

Example:
    >>> require_classifier({"backbone": "use"}, "TFLite export")
    >>> try:
    ...     require_classifier({"backbone": "use", "task_inputs": ["text_a", "text_b"]}, "TFLite export")
    ... except Exception as e:
    ...     print(type(e).__name__)
    ConfigurationError
"""

from __future__ import annotations

from zoo.errors import ConfigurationError

__all__ = ["require_classifier"]


def require_classifier(meta: dict, what: str) -> None:
    """Raise `ConfigurationError` when ``what`` (a command or format that feeds one input per example and reads
    ``[B, C]`` class scores) cannot take this export: several texts per example (``task_inputs``) or tags per word."""
    names = meta.get("task_inputs")
    if names and meta.get("task") == "question_answering":
        raise ConfigurationError(f"{what} feeds one input per example, but this {meta.get('backbone')} model answers "
                                 "a question on a context; use the SavedModel (serving_default takes question and "
                                 "context), `zoo predict RUN --question Q --context TEXT` or `zoo evaluate RUN --data "
                                 "squad.json`", inputs=list(names))
    if names:
        raise ConfigurationError(f"{what} feeds one input per example, but this {meta.get('backbone')} model takes "
                                 f"{len(names)} texts per example ({', '.join(names)}); use the SavedModel (its "
                                 f"serving signature takes {', '.join(names)}), `zoo predict RUN TEXT_A TEXT_B` or "
                                 "`zoo evaluate RUN --data pairs.csv`", inputs=list(names))
    if meta.get("task") == "contrastive":
        raise ConfigurationError(f"{what} reads one class per example, but this {meta.get('backbone')} + "
                                 f"{meta.get('text_backbone')} model embeds inputs and texts (contrastive); use the "
                                 "SavedModel (embed_inputs, embed_text, serving_default with labels), `zoo predict RUN "
                                 "FILE --labels a,b` or `zoo search RUN --text T --images DIR`")
    if meta.get("task") == "token_classification":
        raise ConfigurationError(f"{what} reads one class per example, but this {meta.get('backbone')} model tags "
                                 "every word; use the SavedModel (serving_default returns words and tags), "
                                 "`zoo predict RUN \"a sentence\"` or `zoo evaluate RUN --data test.conll`")
