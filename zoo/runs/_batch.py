"""Batch embedding and prediction over many files on Apache Beam (`zoo embed`, ``zoo predict --data``).

A Beam pipeline matches the files with Beam's filesystems (local paths, ``gs://``, ...),
reads and checks each with the data loaders' code (`zoo.data.file_inputs`), runs
``RunInference`` with Beam's TensorFlow model handler on a zoo SavedModel (the
backbone's raw-input embedding model, or a run's exported model) and writes one record
per input: its path (text: and line), the embedding or the class scores, and the
model's handle and digest. Files that cannot be used go to ``errors-*.jsonl`` with the
reason. Locally it runs on the DirectRunner in several processes; any other runner
(Dataflow, Flink, Spark) takes its options after ``--``.

The output folder holds ``model/`` (embed), the record shards, ``errors-*.jsonl`` and,
written last, ``manifest.json`` (counts, model, pattern, runner). A folder that already
holds output is refused unless ``overwrite=True``: two runs never mix.

Apache Beam is an optional extra: ``pip install "zoo[beam]"``.

Example (prose: it needs Beam and a cached module)::

    zoo.runs.embed("mobilenet_v2", "photos/**.jpg", "out/emb")   # -> BatchResult(outputs=...)
    paths, vectors = zoo.runs.read_batch_output("out/emb")
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence


from zoo.errors import ConfigurationError, DataError
from zoo.registry import BackboneSpec, get
from zoo.runs._batch_output import (FORMATS, MANIFEST, count_records, prepare_out, read_batch_output, record_prefix,
                                    write_npy)

__all__ = ["embed", "predict_files", "BatchResult", "import_beam"]



@dataclass
class BatchResult:
    """What a batch run did: the folder, the counts (files matched, inputs read, records written, files
    refused) and its seconds."""

    out: Path
    files: int
    inputs: int
    outputs: int
    errors: int
    seconds: float
    manifest: dict


def import_beam() -> Any:
    """``apache_beam``, or `ConfigurationError` naming the extra to install.

    Example:
        import_beam().__name__
        # -> 'apache_beam'
    """
    from zoo.quiet import captured_stderr

    try:
        with captured_stderr(replay_on_error=True):  # its import warns about optional cloud clients
            import apache_beam
    except ImportError as exc:
        raise ConfigurationError(f'batch inference runs on Apache Beam, which is not installed ({exc}); '
                                 'pip install "zoo[beam]"') from None
    return apache_beam


def _pattern(data: str | os.PathLike) -> str:
    text = os.fspath(data)
    if "://" in text:
        return text
    p = Path(text).expanduser()
    pattern = str(p / "**") if p.is_dir() else str(p)
    from apache_beam.io.filesystems import FileSystems

    try:
        found = FileSystems.match([pattern], limits=[1])[0].metadata_list
    except Exception as exc:  # noqa: BLE001 - Beam's filesystems raise their own error types
        raise DataError(f"--data {text!r}: cannot list {pattern!r}: {' '.join(str(exc).split())[:300]}") from None
    if not found:
        raise DataError(f"--data {text!r}: no file matches {pattern!r}; check the path or the glob "
                        "(quote it so the shell does not expand it; ** matches across folders)")
    return pattern



def _options(runner: str, beam_args: Sequence[str]) -> Any:
    from apache_beam.options.pipeline_options import PipelineOptions

    extra: dict = {}
    if runner == "DirectRunner" and not any("direct_running_mode" in a for a in beam_args):
        extra = {"direct_running_mode": "multi_processing", "direct_num_workers": os.cpu_count() or 1}
    return PipelineOptions(list(beam_args), runner=runner, **extra)


def _count(result: Any, name: str) -> int:
    from apache_beam.metrics.metric import MetricsFilter

    try:
        found = result.metrics().query(MetricsFilter().with_namespace("zoo").with_name(name))["counters"]
        return int(sum(c.committed or 0 for c in found))
    except Exception:  # noqa: BLE001 - a runner without metrics: -1, and the written records are not compared
        return -1


def _run_pipeline(pattern: str, out: Path, model_dir: Path, meta: dict, *, field: str, extra: dict, fmt: str,
                  batch_size: int, runner: str, beam_args: Sequence[str], labels: list | None = None,
                  top_k: int = 3) -> dict:
    beam = import_beam()
    from apache_beam.io import fileio
    from apache_beam.ml.inference.base import KeyedModelHandler, RunInference

    from zoo.data import KINDS
    from zoo.models.contracts import contract_for_export
    from zoo.runs._beam_fns import ERRORS, ReadInputs, ZooModelHandler, to_example, to_record

    contract = contract_for_export(meta)
    modality = meta["modality"]
    handler = ZooModelHandler(str(model_dir), input_key=contract.serving_input,
                              output_key="embedding" if field == "embedding" else "scores", max_batch_size=batch_size)
    prefix = str(out / record_prefix(field))
    p = beam.Pipeline(options=_options(runner, beam_args))
    read = (p | "Match" >> fileio.MatchFiles(pattern, empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
            | "Open" >> fileio.ReadMatches()
            | "Read" >> beam.ParDo(ReadInputs(modality, int(meta.get("sample_rate") or 16000),
                                              KINDS[modality].extensions)).with_outputs(ERRORS, main="inputs"))
    records = (read.inputs | "Infer" >> RunInference(KeyedModelHandler(handler))
               | "Record" >> beam.Map(to_record, field=field, extra=extra, labels=labels, top_k=top_k))
    if fmt == "jsonl":
        _ = records | "Json" >> beam.Map(json.dumps) | "Write" >> beam.io.WriteToText(prefix, file_name_suffix=".jsonl")
    elif fmt == "tfrecord":
        _ = (records | "Example" >> beam.Map(to_example, field=field)
             | "Write" >> beam.io.WriteToTFRecord(prefix, file_name_suffix=".tfrecord"))
    else:
        _ = records | "Gather" >> beam.combiners.ToList() | "Write" >> beam.Map(write_npy, prefix=prefix, field=field)
    _ = (read[ERRORS] | "ErrorJson" >> beam.Map(json.dumps)
         | "Errors" >> beam.io.WriteToText(str(out / "errors"), file_name_suffix=".jsonl"))
    from zoo.quiet import stderr_to_file

    with stderr_to_file(out / "beam.log"):  # Beam's and its worker processes' logs
        result = p.run()
        result.wait_until_finish()
    return {name: _count(result, name) for name in ("files", "inputs", "errors")}




def _finish(out: Path, counts: dict, manifest: dict, started: float, say: Callable[[str], None]) -> BatchResult:
    from zoo.atomic import atomic_write_json

    rows = count_records(out, manifest["field"], manifest["output_format"])  # what was written, not what was sent
    errors = count_records(out, "errors", "jsonl")
    seconds = time.perf_counter() - started
    manifest.update(files=counts["files"], inputs=counts["inputs"], outputs=rows, errors=errors,
                    seconds=round(seconds, 2))
    if counts["inputs"] >= 0 and counts["inputs"] != rows:
        raise DataError(f"{counts['inputs']} inputs were read but {rows} records written in '{out}'; "
                        "the output is incomplete: run again with --overwrite")
    atomic_write_json(out / MANIFEST, manifest)
    refused = f"{errors} file{'s' if errors != 1 else ''} refused: {out}/errors-*.jsonl" if errors else "none refused"
    say(f"{rows} records from {counts['files']} files in {seconds:.1f} s ({refused}) -> {out}")
    return BatchResult(out, counts["files"], counts["inputs"], rows, errors, seconds, manifest)


def embed(name: str | BackboneSpec, data: str | os.PathLike, out: str | os.PathLike, *, fmt: str = "jsonl",
          batch_size: int = 32, runner: str = "DirectRunner", beam_args: Sequence[str] = (),
          projector: bool = False, overwrite: bool = False, say: Callable[[str], None] = print) -> BatchResult:
    """Embed every file ``data`` matches (a folder, a glob such as ``'gs://b/imgs/**.jpg'``) with backbone
    ``name`` on a Beam runner; write the records into ``out`` (see the module docs).

    ``projector``: also write a TensorBoard projector (``out/projector``: vectors, paths, config).

    Example:
        embed("starter_text", "notes/*.txt", "out/notes", fmt="npy").outputs
        # -> 1200
    """
    from zoo.export import save_embedding_model

    import_beam()
    spec = name if isinstance(name, BackboneSpec) else get(name)
    if fmt not in FORMATS:
        raise ConfigurationError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    pattern = _pattern(data)
    out = prepare_out(out, overwrite)
    started = time.perf_counter()
    say(f"{spec.name}: saving the raw-input embedding model into {out}/model")
    model_dir, meta = save_embedding_model(spec, out / "model")
    extra = {"handle": spec.handle, "module_sha256": meta["module_sha256"]}
    say(f"embedding {pattern} on {runner} (Beam's log: {out / 'beam.log'})")
    counts = _run_pipeline(pattern, out, model_dir, meta, field="embedding", extra=extra, fmt=fmt,
                           batch_size=batch_size, runner=runner, beam_args=beam_args)
    manifest = {"format": "zoo-batch/1", "command": "embed", "backbone": spec.name, **extra, "dim": meta["dim"],
                "modality": spec.modality, "pattern": pattern, "field": "embedding", "output_format": fmt,
                "runner": runner, "beam_args": list(beam_args), "model": str(model_dir)}
    result = _finish(out, counts, manifest, started, say)
    if projector:
        from zoo.training import write_projector

        write_projector(out / "projector", *read_batch_output(out))
        say(f"projector: tensorboard --logdir {out / 'projector'}")
    return result


def predict_files(run: str | os.PathLike, data: str | os.PathLike, out: str | os.PathLike, *, fmt: str = "jsonl",
                  batch_size: int = 32, runner: str = "DirectRunner", beam_args: Sequence[str] = (), top_k: int = 3,
                  overwrite: bool = False, say: Callable[[str], None] = print) -> BatchResult:
    """Class scores for every file ``data`` matches from a run's exported model, on a Beam runner.

    Each record holds ``scores`` (in ``labels.txt`` order), ``top_labels`` / ``top_scores``
    and the model's path and tree digest.

    Example:
        predict_files("runs/flowers", "incoming/**.jpg", "out/pred").outputs
        # -> 5000
    """
    from zoo.export import read_export_meta, require_classifier
    from zoo.hub import tree_sha256

    import_beam()
    if fmt not in FORMATS:
        raise ConfigurationError(f"--format {fmt!r} is not one of {', '.join(FORMATS)}")
    run = Path(run).expanduser()
    model_dir = run / "model" if (run / "model" / "saved_model.pb").is_file() else run
    meta = read_export_meta(model_dir)
    require_classifier(meta, "zoo predict --data")
    pattern = _pattern(data)
    out = prepare_out(out, overwrite)
    started = time.perf_counter()
    extra = {"model": str(model_dir.resolve()), "model_sha256": tree_sha256(model_dir)}
    say(f"predicting {pattern} with {model_dir} on {runner} (Beam's log: {out / 'beam.log'})")
    counts = _run_pipeline(pattern, out, model_dir, meta, field="scores", extra=extra, fmt=fmt, batch_size=batch_size,
                           runner=runner, beam_args=beam_args, labels=list(meta["class_names"]), top_k=top_k)
    manifest = {"format": "zoo-batch/1", "command": "predict", "backbone": meta.get("backbone"), **extra,
                "labels": list(meta["class_names"]), "modality": meta["modality"], "pattern": pattern,
                "field": "scores", "output_format": fmt, "runner": runner, "beam_args": list(beam_args)}
    return _finish(out, counts, manifest, started, say)
