"""`TaskExport`: how a task whose outputs are not one score per class is exported (``TaskSpec.export``).

A task names one with ``TaskSpec(export="package.module:OBJECT")``; `zoo.export.save_model` and
`zoo.export.verify_export` then use it instead of the class-score signatures: token
classification (tags per word), question answering (start / end per word), contrastive
models (embeddings and zero-shot scores). A plugin's task gets its export the same way.

Example:
    >>> task_export("classification") is None
    True
    >>> task_export("token_classification").serving.__name__
    'token_serving_module'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

__all__ = ["TaskExport", "task_export"]


def _no_meta(model: Any) -> dict:
    return {}


@dataclass(frozen=True)
class TaskExport:
    """The export of one task's models.

    Fields:
        serving: ``(model, meta, class_names, hub_objects) -> (tf.Module, signatures)``; the module
            must track ``model.variables`` and ``hub_objects``.
        smoke: ``(meta) -> kwargs``: a one-example raw input for ``serving_default``.
        check: ``(outputs, meta, path) -> None``: raise `zoo.errors.ExportError` unless the smoke
            call's outputs are what the task serves.
        meta: ``(model) -> dict``: what the export metadata must record besides the backbone's
            (e.g. ``max_words``).
    """

    serving: Callable
    smoke: Callable
    check: Callable
    meta: Callable = field(default=_no_meta)


def task_export(task: str | None) -> TaskExport | None:
    """The `TaskExport` of the registered task ``task`` (None: the task's models export class scores)."""
    if not task:
        return None
    from zoo.registry import get_task, resolve_callable
    from zoo.errors import ConfigurationError, UnknownTaskError

    try:
        spec = get_task(task)
    except UnknownTaskError:
        return None
    if spec.export is None or isinstance(spec.export, TaskExport):
        return spec.export
    try:
        found = resolve_callable(spec.export)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigurationError(f"task {task!r}: its export {spec.export!r} cannot be imported ({exc}); it must name "
                                 "a zoo.export.TaskExport as 'package.module:OBJECT'") from None
    if not isinstance(found, TaskExport):
        raise ConfigurationError(f"task {task!r}: its export {spec.export!r} is a {type(found).__name__}, not a "
                                 "zoo.export.TaskExport")
    return found
