"""`Contract`: everything that differs between families of modules, in one class per calling contract.

A contract owns how a family of TF Hub modules is called and served: the raw input
(Keras input, checks), the preprocessing and the call inside the model, the output it
picks and how it pools, the objects an export must keep, the serving signature and how
it decodes raw bytes, strings or waveforms, the TFLite input, and the test module and
dummy input the test suite uses. Outside the contracts, zoo does not branch on the
kind of module. A registry entry names its contract (``contract = "..."``), or gets
the one that lists its ``family``; plugins add contracts with the ``register_contracts``
hook. Contract modules import TensorFlow only inside methods (listing stays TF-free).

Example:
    >>> class Tiny(Contract):
    ...     name, modality = "tiny", "text"
    >>> Tiny().describe()
    'tiny (text)'
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar, Sequence

__all__ = ["Contract"]


class Contract:
    """Base class of the calling contracts. Subclasses set ``name``, ``modality`` (the kind of
    raw data: which file types and loaders feed it), ``families`` (registry families that use
    it by default) and ``serving_input`` (the input name of ``serving_default``), and
    override the methods whose default does not fit.

    Example:
        >>> Contract.serving_input
        'inputs'
    """

    name: ClassVar[str] = ""
    modality: ClassVar[str] = ""
    families: ClassVar[tuple[str, ...]] = ()
    serving_input: ClassVar[str] = "inputs"
    eval_signature: ClassVar[str] = "serving_default"  # the signature evaluate and TFLite use
    default_freeze: ClassVar[str] = "frozen"  # what zoo.build trains when the user says nothing
    fine_tune_rate: ClassVar[float] = 1e-4  # the backbone's default rate when it trains
    fine_tune_adamw: ClassVar[bool] = False  # AdamW with linear warm-up and decay (BERT recipe) when it trains
    poolings: ClassVar[tuple[str, ...]] = ("output",)  # the entry's ``pooling`` values it supports
    packs_pairs: ClassVar[bool] = False  # called on [a, b]: one joint encoding of a text pair (BERT's two segments)

    def describe(self) -> str:
        """``"name (modality)"``, for messages and ``zoo info``."""
        return f"{self.name} ({self.modality})"

    # ---- the model side -----------------------------------------------------------------
    def keras_input(self, spec: Any, name: str) -> Any:
        """The raw-input ``keras.Input`` of a model over ``spec``."""
        raise NotImplementedError(f"contract {self.name!r} defines no keras_input")

    def check_input(self, spec: Any, x: Any) -> None:
        """Validate raw input ``x`` before it reaches TensorFlow; raise `InputError` naming the fix."""

    def setup(self, backbone: Any, obj: Any) -> dict:
        """Load what else the backbone needs (a preprocessor, ...) and return keyword arguments
        for its ``hub.KerasLayer`` (``output_key``, ``force_inference``)."""
        return {}

    def module_callable(self, backbone: Any, obj: Any) -> Any:
        """What ``hub.KerasLayer`` wraps: the loaded object itself, or (a module whose documented call
        is a named function, like Perch's ``infer_tf``) a ``tf.Module`` that makes that call."""
        return obj

    def word_features(self, backbone: Any, text: Any, max_words: int, training: Any = None,
                      prefix: Any = None) -> tuple[Any, Any]:
        """Token and span tasks: sentences -> (``[B, max_words, H]`` one vector per space-separated word,
        ``[B, max_words]`` mask of the words there), read after ``prefix`` (a question) when given. Contracts
        whose modules give per-token outputs (BERT-style) implement it."""
        from zoo.errors import ConfigurationError

        raise ConfigurationError(f"backbone {backbone.spec.name!r} ({self.name}) gives one vector per text, not per "
                                 "word; token classification needs a BERT-style encoder (e.g. bert_small)")

    def module_arguments(self, spec: Any) -> dict:
        """Extra keyword arguments of every call into the module besides its input (e.g. TRILL's
        ``sample_rate``); the backbone passes them as ``hub.KerasLayer(arguments=...)``."""
        return {}

    def call(self, backbone: Any, inputs: Any, training: Any = None) -> Any:
        """Raw inputs -> ``[batch, output_dim]`` embedding through ``backbone.module``."""
        return backbone.module(inputs, training=training)

    def loader_options(self, spec: Any) -> dict:
        """Keyword arguments for `zoo.data`'s loaders so that they yield this contract's raw input
        (e.g. the image size or the sample rate)."""
        return {}

    def export_objects(self, backbone: Any) -> list:
        """Loaded objects besides the module that an export must keep (their functions are called)."""
        return []

    # ---- the export side (works from an export's metadata: no registry needed) ----------
    def serving_spec(self, meta: dict) -> Any:
        """``tf.TensorSpec`` of the raw input of ``serving_default``."""
        raise NotImplementedError(f"contract {self.name!r} defines no serving_spec")

    def serving_decode(self, meta: dict) -> Callable | None:
        """Raw serving input -> model input (None: passed as it is)."""
        return None

    def extra_signatures(self, model: Any, meta: dict, outputs: Callable) -> dict:
        """Further serving signatures ``{name: tf.function}`` (e.g. pixels for TFLite)."""
        return {}

    def eval_input_key(self, meta: dict) -> str:
        """Input name of `eval_signature` (what data loaders yield goes there)."""
        return self.serving_input

    def read_inputs(self, items: Sequence[str], meta: dict) -> list:
        """CLI arguments -> raw inputs for ``serving_default`` (files read, text as it is)."""
        return list(items)

    def file_input(self, path: Any, meta: dict) -> Any:
        """The raw input a data file holds (an image's bytes, a WAV's waveform, a text file's text)."""
        return self.read_inputs([str(path)], meta)[0]

    def predict_scores(self, fn: Callable, inputs: Sequence[Any], batch_size: int = 32) -> Any:
        """Class probabilities ``[N, C]`` from a ``serving_default`` function, in batches."""
        import numpy as np
        import tensorflow as tf

        out = [fn(**{self.serving_input: tf.constant(list(inputs[i:i + batch_size]))})["scores"].numpy()
               for i in range(0, len(inputs), batch_size)]
        return np.concatenate(out) if out else np.zeros((0, 0), np.float32)

    def smoke_input(self, meta: dict) -> dict:
        """A one-example raw input for ``serving_default`` (export checks)."""
        raise NotImplementedError(f"contract {self.name!r} defines no smoke_input")

    def tflite_example(self, meta: dict) -> tuple[str, Any, str]:
        """``(input name, one example array, description)`` for `eval_signature` in TFLite."""
        raise NotImplementedError(f"contract {self.name!r} defines no tflite_example")

    # ---- tests ---------------------------------------------------------------------------
    def dummy_input(self, spec: Any, n: int = 2) -> Any:
        """A raw input batch of ``n`` examples (tests, `zoo info --module`)."""
        raise NotImplementedError(f"contract {self.name!r} defines no dummy_input")

    def test_module(self, spec: Any, workdir: Any, seed: int = 0) -> Any:
        """A tiny ``tf.Module`` with this contract, saved by `zoo.testing` for offline tests."""
        raise NotImplementedError(f"contract {self.name!r} has no test module")

    def test_module_key(self, spec: Any) -> tuple:
        """What distinguishes two test modules of this contract (builds are cached by it)."""
        return (spec.handle, spec.output_dim, spec.fine_tunable)
