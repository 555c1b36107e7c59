"""`TaskSpec`: what a task is, as data (no TensorFlow at import).

A task turns backbone features into outputs, and says which loss, metrics and
labels go with them. Plugins register tasks with the ``register_tasks`` hook.

Example:
    >>> from zoo.registry._taskspec import TaskSpec
    >>> t = TaskSpec(name="ranking", description="pairwise ranking", head="my_pkg.tasks:ranking_head")
    >>> t.needs_num_classes
    False
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

__all__ = ["TaskSpec", "resolve_callable"]


def resolve_callable(ref: str | Callable) -> Callable:
    """Turn ``"package.module:function"`` into the function (callables pass through).

    Example:
        >>> resolve_callable("os.path:join")("a", "b")
        'a/b'
    """
    if callable(ref):
        return ref
    module, _, attr = str(ref).partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class TaskSpec:
    """A task: the head it puts on the features, its loss and metrics.

    Fields:
        name: registry name used in ``zoo.build(..., task=name)``.
        description: one line for ``zoo tasks``.
        head: ``"module:function"`` or callable ``(features, *, num_classes, options) -> outputs``
            building the task's output layer(s) with tf_keras.
        compile: ``"module:function"`` or callable ``(*, num_classes, options) -> (loss, metrics)``.
        needs_num_classes: ``num_classes`` is required.
        modalities: modalities it applies to (empty: all).
        label_kind: ``"int"``, ``"binary"``, ``"multi_hot"``, ``"float"``, ``"token"`` (``[max_words]``
            ids, ``-1`` past the last word) or ``"none"``.
        default_lr: learning rate when the user gives none (None: per backbone default).
        inputs: names of the raw inputs of one example when it has several (``("text_a",
            "text_b")`` for sentence pairs); the model then takes a dict keyed by them. Empty: one
            input per backbone.
        features: ``"module:function"`` or callable ``(backbones, inputs, options) -> features``: the
            tensor the head sees, from the Keras ``inputs`` (named by ``inputs``, else the one raw input)
            and the task options: a text pair joined, one vector per word (None: each backbone's embedding).
        export: ``"module:OBJECT"`` naming a `zoo.export.TaskExport` when the task's models are not exported
            as class scores (tags per word, answer spans, embeddings); None: ``serving_default`` gives ``scores``.

    Example:
        >>> TaskSpec(name="t", head="m:f").modalities
        ()
    """

    name: str
    head: str | Callable
    description: str = ""
    compile: str | Callable | None = None
    needs_num_classes: bool = False
    modalities: tuple[str, ...] = ()
    label_kind: str = "int"
    default_lr: float | None = None
    inputs: tuple[str, ...] = ()
    features: str | Callable | None = None
    export: str | Any | None = None
