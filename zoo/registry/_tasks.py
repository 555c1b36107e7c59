"""Built-in tasks, registered through the same ``register_tasks`` hook as plugins.

The heads and losses import tf_keras lazily (see ``zoo.models._heads``).

Example:
    >>> import zoo
    >>> {"classification", "sentiment", "embedding"} <= {t.name for t in zoo.list_tasks()}
    True
"""

from __future__ import annotations

from zoo.registry._hookspecs import hookimpl
from zoo.registry._taskspec import TaskSpec

BUILTIN_TASKS = (
    TaskSpec(name="classification", description="single-label classification, softmax, integer labels",
             head="zoo.models._heads:softmax_head", compile="zoo.models._heads:classification_compile",
             needs_num_classes=True, label_kind="int"),
    TaskSpec(name="sentiment", description="binary text sentiment, one sigmoid output, labels 0/1",
             head="zoo.models._heads:binary_head", compile="zoo.models._heads:binary_compile", modalities=("text",),
             label_kind="binary"),
    TaskSpec(name="binary", description="binary classification, one sigmoid output, labels 0/1",
             head="zoo.models._heads:binary_head", compile="zoo.models._heads:binary_compile", label_kind="binary"),
    TaskSpec(name="multilabel", description="multi-label classification, sigmoid per class, multi-hot labels",
             head="zoo.models._heads:sigmoid_head", compile="zoo.models._heads:multilabel_compile",
             needs_num_classes=True, label_kind="multi_hot"),
    TaskSpec(name="regression", description="real-valued targets (num_classes = number of outputs, default 1)",
             head="zoo.models._heads:linear_head", compile="zoo.models._heads:regression_compile", label_kind="float"),
    TaskSpec(name="embedding", description="L2-normalised embeddings (optional projection), trained on class labels",
             head="zoo.models._heads:embedding_head", compile="zoo.models._heads:embedding_compile", label_kind="int"),
    TaskSpec(name="distillation", description="a student learning a teacher's softened outputs (zoo distill); "
                                              "targets [label or -1, teacher probabilities]",
             head="zoo.models._heads:softmax_head", compile="zoo.models._distill_loss:distillation_compile",
             needs_num_classes=True, label_kind="distillation"),
)


@hookimpl
def register_tasks(register):
    """Register zoo's built-in tasks.

    Example:
        >>> seen = []; register_tasks(seen.append); len(seen) >= 5
        True
    """
    for task in BUILTIN_TASKS:
        register(task)
