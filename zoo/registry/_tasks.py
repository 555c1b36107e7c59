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

PAIR_INPUTS = ("text_a", "text_b")

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
    TaskSpec(name="pair_classification", description="two texts per example (paraphrase, entailment), softmax; "
                                                     "inputs {'text_a', 'text_b'}",
             head="zoo.models._heads:softmax_head", compile="zoo.models._heads:classification_compile",
             needs_num_classes=True, modalities=("text",), label_kind="int", inputs=PAIR_INPUTS,
             features="zoo.models._pairs:pair_features"),
    TaskSpec(name="pair_regression", description="a real-valued score per text pair (similarity); "
                                                 "inputs {'text_a', 'text_b'}",
             head="zoo.models._heads:linear_head", compile="zoo.models._heads:regression_compile",
             modalities=("text",), label_kind="float", inputs=PAIR_INPUTS, features="zoo.models._pairs:pair_features"),
    TaskSpec(name="token_classification", description="one tag per word (NER, POS) for BERT-style encoders; "
                                                      "sentences of space-separated words, option max_words (64)",
             head="zoo.models._heads:softmax_head", compile="zoo.models._tokens:token_compile",
             needs_num_classes=True, modalities=("text",), label_kind="token",
             features="zoo.models._tokens:token_features",
             export="zoo.export._token_export:TOKEN_EXPORT"),
    TaskSpec(name="question_answering", description="extractive QA: the answer's start and end word in the context "
                                                    "(BERT-style encoders); inputs {'question', 'context'}",
             head="zoo.models._spans:span_head", compile="zoo.models._spans:span_compile", modalities=("text",),
             label_kind="span", inputs=("question", "context"), features="zoo.models._spans:span_features",
             export="zoo.export._span_export:SPAN_EXPORT"),
    TaskSpec(name="contrastive", description="image-text (or audio-text) embeddings, CLIP's symmetric InfoNCE; two "
                                             "backbones, text second; zoo.zero_shot; option projection_dim (256)",
             head="zoo.models._contrastive:contrastive_head", compile="zoo.models._contrastive:contrastive_compile",
             label_kind="none", features="zoo.models._contrastive:contrastive_features",
             export="zoo.export._contrastive_export:CONTRASTIVE_EXPORT"),
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
