"""The Apache Beam pieces of batch inference: reading files, the model handler, the records.

Imported only when Beam is installed (`zoo.runs._batch` checks first and names the extra).
Every piece is a module-level class or function, so a runner ships it to its workers
(the DirectRunner's processes, Dataflow, Flink, Spark) by reference.

* `ReadInputs`: a matched file (``fileio.ReadableFile``) -> ``((path, line), raw input)`` per
  input it holds (`zoo.data.file_inputs`: the loaders' checks and decoding); a file that cannot
  be used goes to the ``errors`` side output as ``{"path", "reason"}``.
* `ZooModelHandler`: Beam's `TFModelHandlerTensor` loading a zoo SavedModel (with the
  ops its text modules need) and calling its ``serving_default`` signature on a batch.
* `to_record` / `to_example`: one output record per input.

Example (prose: it needs Beam and a saved model)::

    handler = ZooModelHandler("out/model", input_key="images", output_key="embedding")
    keyed | RunInference(KeyedModelHandler(handler))
"""

from __future__ import annotations

import functools
from typing import Any, Iterable

import apache_beam as beam
import numpy as np
from apache_beam.ml.inference.base import PredictionResult
from apache_beam.ml.inference.tensorflow_inference import TFModelHandlerTensor

__all__ = ["ReadInputs", "ZooModelHandler", "to_record", "to_example", "ERRORS"]

ERRORS = "errors"
_COUNTERS = "zoo"


class ReadInputs(beam.DoFn):
    """A matched file -> ``((path, line), raw)`` for each input in it; unusable files to the ``errors`` output."""

    def __init__(self, modality: str, sample_rate: int, extensions: tuple[str, ...]):
        self.modality, self.sample_rate, self.extensions = modality, sample_rate, tuple(extensions)
        self.files = beam.metrics.Metrics.counter(_COUNTERS, "files")
        self.inputs = beam.metrics.Metrics.counter(_COUNTERS, "inputs")
        self.bad = beam.metrics.Metrics.counter(_COUNTERS, "errors")

    def process(self, readable: Any) -> Iterable[Any]:
        """Read one file and yield its raw inputs (or one error record)."""
        from zoo.data import file_inputs
        from zoo.errors import DataError

        path = readable.metadata.path
        self.files.inc()
        if self.extensions and not path.lower().endswith(self.extensions):
            self.bad.inc()
            yield beam.pvalue.TaggedOutput(ERRORS, {"path": path, "reason": f"not a {self.modality} file "
                                                    f"({', '.join(self.extensions)})"})
            return
        try:
            found = file_inputs(path, readable.read(), self.modality, sample_rate=self.sample_rate)
        except (DataError, OSError) as exc:
            self.bad.inc()
            yield beam.pvalue.TaggedOutput(ERRORS, {"path": path, "reason": getattr(exc, "reason", None) or str(exc)})
            return
        if not found:
            self.bad.inc()
            yield beam.pvalue.TaggedOutput(ERRORS, {"path": path, "reason": "no non-empty line"})
        for line, raw in found:
            self.inputs.inc()
            yield (path, line), raw


def _run_signature(model: Any, batch: list, inference_args: dict, model_id: str | None = None, *,
                   input_key: str, output_key: str) -> list:
    """Call ``serving_default`` on a batch; waveforms of different lengths run in groups of one length
    (never padded, so each result is the one the clip alone gives)."""
    import tensorflow as tf

    fn = model.signatures["serving_default"]
    out: list = [None] * len(batch)
    if batch and isinstance(batch[0], np.ndarray):
        groups: dict = {}
        for i, x in enumerate(batch):
            groups.setdefault(x.shape, []).append(i)
        for idx in groups.values():
            rows = fn(**{input_key: tf.constant(np.stack([batch[i] for i in idx]))})[output_key].numpy()
            for i, row in zip(idx, rows):
                out[i] = row
    else:
        rows = fn(**{input_key: tf.constant(list(batch))})[output_key].numpy()
        out = list(rows)
    return [PredictionResult(x, y, model_id) for x, y in zip(batch, out)]


class ZooModelHandler(TFModelHandlerTensor):
    """`TFModelHandlerTensor` for a zoo SavedModel: loads it with `zoo.export.load_model` (Keras 3's
    ``load_model`` cannot read a SavedModel) and calls its raw-input ``serving_default``."""

    def __init__(self, model_dir: str, *, input_key: str, output_key: str, max_batch_size: int = 32):
        super().__init__(model_dir, inference_fn=functools.partial(_run_signature, input_key=input_key,
                                                                   output_key=output_key),
                         min_batch_size=max_batch_size, max_batch_size=max_batch_size)

    def load_model(self) -> Any:
        """The SavedModel, loaded once per worker."""
        from zoo.export import load_model
        from zoo.quiet import quiet_tensorflow

        quiet_tensorflow()
        return load_model(self._model_uri)

    def get_num_bytes(self, batch: Any) -> int:
        """Bytes in a batch (Beam's metric)."""
        return sum(len(x) if isinstance(x, (bytes, str)) else np.asarray(x).nbytes for x in batch)


def to_record(item: tuple, *, field: str, extra: dict, labels: list | None = None, top_k: int = 3) -> dict:
    """``((path, line), PredictionResult)`` -> the output record: path (text: and line), the vector
    (``field``), top labels for scores, then ``extra`` (handle, digest)."""
    (path, line), result = item
    vec = np.asarray(result.inference, np.float32)
    record: dict = {"path": path}
    if line is not None:
        record["line"] = line
    record[field] = [float(v) for v in vec]
    if labels:
        order = np.argsort(-vec)[:top_k]
        record["top_labels"] = [labels[i] for i in order]
        record["top_scores"] = [float(vec[i]) for i in order]
    record.update(extra)
    return record


def to_example(record: dict, *, field: str) -> bytes:
    """A record as a serialized ``tf.train.Example`` (floats in ``field``, every other value as bytes)."""
    import tensorflow as tf

    feats = {}
    for k, v in record.items():
        if k == field or k == "top_scores":
            feats[k] = tf.train.Feature(float_list=tf.train.FloatList(value=v))
        elif isinstance(v, list):
            feats[k] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(x).encode() for x in v]))
        elif isinstance(v, int):
            feats[k] = tf.train.Feature(int64_list=tf.train.Int64List(value=[v]))
        elif v is not None:
            feats[k] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(v).encode()]))
    return tf.train.Example(features=tf.train.Features(feature=feats)).SerializeToString()
