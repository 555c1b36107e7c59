"""Test modules made by the publishers' own exporters (TF Model Garden).

Fidelity tests should run against SavedModels produced by the same code that
produced the real TF Hub modules, not hand-built look-alikes. Each function
here builds a randomly initialised Model Garden model with the requested
sizes, writes a checkpoint in the layout the exporter restores from, and
calls the exporter unchanged:

* `export_bert_encoder` -> ``official/nlp/tools/export_tfhub_lib.export_model``
  (TF Hub BERT encoders v3+, Small BERTs, ELECTRA).
* `export_bert_preprocessor` -> ``export_tfhub_lib.export_preprocessing``
  (``bert_en_uncased_preprocess/3`` and friends).
* `export_efficientnet` -> ``official/legacy/image_classification/
  efficientnet/tfhub_export.export_tfhub`` (``efficientnet/bN/feature-vector``).
* `export_albert_encoder` / `export_albert_preprocessor` -> the same ``export_model`` /
  ``export_preprocessing`` with ``sp_model_file`` (``albert_en_base/3``,
  ``albert_en_preprocess/3``), on a SentencePiece model made by `write_sentencepiece_model`.

TensorFlow and ``official`` are imported only inside the functions. The
``official`` package must be installed without its heavy dependencies:
``pip install --no-deps tf-models-official gin-config pyyaml scipy``.
Model Garden builds everything with ``tf_keras`` (Keras 2), so neither the
export nor loading the result needs ``TF_USE_LEGACY_KERAS``.
"""

from __future__ import annotations

import importlib
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

__all__ = ["write_vocab", "export_bert_encoder", "export_bert_preprocessor",
           "export_efficientnet", "SPECIAL_TOKENS", "write_sentencepiece_model", "export_albert_encoder",
           "export_albert_preprocessor"]

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_INSTALL = "pip install --no-deps tf-models-official gin-config pyyaml scipy"
_BASIC = ([chr(c) for c in range(97, 123)] + [str(d) for d in range(10)]
          + list(".,!?'\"-():;") + [f"##{chr(c)}" for c in range(97, 123)])


def _official(name: str) -> Any:
    """Imports ``official.<name>`` or raises an ImportError saying how to install it."""
    try:
        return importlib.import_module(f"official.{name}")
    except ImportError as e:
        raise ImportError(
            f"zoo.testing.exporters needs TF Model Garden (`official.{name}` failed "
            f"to import: {e}). Install it with: {_INSTALL}") from e


def _seed(seed: int) -> None:
    import tf_keras

    tf_keras.utils.set_random_seed(seed)


def write_vocab(path: str | os.PathLike, words: Iterable[str]) -> Path:
    """Writes a WordPiece vocab file: the BERT special tokens, then ``words``.

    ``[PAD]``, ``[UNK]``, ``[CLS]``, ``[SEP]`` and ``[MASK]`` get ids 0-4 (the
    ids Model Garden's ``BertTokenizer`` looks up by name); ``words`` follow in
    order, duplicates and special tokens dropped. Use ``##`` prefixes for
    word pieces, e.g. ``write_vocab(tmp / "vocab.txt", ["the", "movie", "##s"])``
    gives an 8-line vocab in which "movies" tokenizes to ``[6, 7]``.
    Returns the path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokens = list(dict.fromkeys([*SPECIAL_TOKENS, *words]))
    path.write_text("".join(f"{t}\n" for t in tokens), encoding="utf-8")
    return path


def export_bert_encoder(
    path: str | os.PathLike, *, num_layers: int, hidden_size: int, num_heads: int,
    intermediate_size: int | None = None, vocab_size: int | None = None,
    vocab_file: str | os.PathLike | None = None, embedding_size: int | None = None,
    max_position_embeddings: int = 512, type_vocab_size: int = 2,
    do_lower_case: bool = True, with_mlm: bool = False, seed: int = 0,
) -> Path:
    """Exports a randomly initialised Model Garden BERT encoder the way TF Hub's were made.

    Builds ``EncoderConfig(type="bert")`` with the given sizes (``intermediate_size``
    defaults to ``4 * hidden_size``; an ``embedding_size`` different from
    ``hidden_size`` adds ELECTRA/ALBERT's embedding projection), saves a
    ``tf.train.Checkpoint(encoder=...)`` (with ``with_mlm``: the
    ``BertPretrainerV2.checkpoint_items`` one, and the export gets an ``.mlm``
    subobject) and calls ``export_tfhub_lib.export_model`` to write a SavedModel
    at ``path``. Calling it with ``dict(input_word_ids=, input_mask=,
    input_type_ids=)`` (int32 ``[batch, seq]``) returns ``pooled_output``,
    ``default``, ``sequence_output`` and ``encoder_outputs`` (one per layer).

    The vocab: ``vocab_file`` if given (``vocab_size`` defaults to its length);
    otherwise a built-in vocab of special tokens, letters, digits and
    punctuation, padded with ``[unusedN]`` to ``vocab_size``. It is stored as
    the module's ``vocab_file`` asset, as on TF Hub.

    For example, ``export_bert_encoder(d, num_layers=12, hidden_size=256,
    num_heads=4, intermediate_size=1024, embedding_size=128)`` is shaped like
    ELECTRA small; ``num_layers=4, hidden_size=512, num_heads=8`` like
    ``small_bert/bert_en_uncased_L-4_H-512_A-8``. Returns ``Path(path)``.
    """
    import tensorflow as tf

    lib = _official("nlp.tools.export_tfhub_lib")
    encoders = _official("nlp.configs.encoders")
    models = _official("nlp.modeling.models")
    tf_utils = _official("modeling.tf_utils")
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="zoo-bert-export-") as tmp:
        if vocab_file is None:
            n = len(SPECIAL_TOKENS) + len(_BASIC)
            unused = [f"[unused{i}]" for i in range(max(0, (vocab_size or n) - n))]
            vocab_file = write_vocab(Path(tmp) / "vocab.txt", _BASIC + unused)
        n_vocab = len(Path(vocab_file).read_text(encoding="utf-8").splitlines())
        vocab_size = vocab_size or n_vocab
        if vocab_size < n_vocab:
            raise ValueError(f"vocab_size={vocab_size} < {n_vocab} lines in {vocab_file}")
        config = encoders.EncoderConfig(type="bert", bert=encoders.BertEncoderConfig(
            vocab_size=vocab_size, hidden_size=hidden_size, num_layers=num_layers,
            num_attention_heads=num_heads,
            intermediate_size=intermediate_size or 4 * hidden_size,
            max_position_embeddings=max_position_embeddings,
            type_vocab_size=type_vocab_size, embedding_size=embedding_size))
        _seed(seed)
        encoder = encoders.build_encoder(config)
        if with_mlm:
            pretrainer = models.BertPretrainerV2(
                encoder_network=encoder,
                mlm_activation=tf_utils.get_activation(config.get().hidden_activation))
            pretrainer(pretrainer.inputs)  # creates the masked_lm variables
            checkpoint = tf.train.Checkpoint(**pretrainer.checkpoint_items)
        else:
            checkpoint = tf.train.Checkpoint(encoder=encoder)
        ckpt_path = checkpoint.save(os.path.join(tmp, "ckpt", "model"))
        lib.export_model(
            str(path), encoder_config=config, model_checkpoint_path=ckpt_path,
            with_mlm=with_mlm, vocab_file=str(vocab_file), do_lower_case=do_lower_case)
    return path


def export_bert_preprocessor(
    path: str | os.PathLike, *, vocab_file: str | os.PathLike, do_lower_case: bool = True,
    default_seq_length: int = 128, tokenize_with_offsets: bool = False,
) -> Path:
    """Exports a BERT preprocessing SavedModel with ``export_tfhub_lib.export_preprocessing``.

    Same API as TF Hub's ``bert_en_uncased_preprocess/3``: calling it on a
    ``[batch]`` string tensor returns ``input_word_ids``, ``input_mask`` and
    ``input_type_ids`` of shape ``[batch, default_seq_length]``; ``.tokenize``
    maps strings to a ``[batch, words, pieces]`` RaggedTensor; and
    ``.bert_pack_inputs(segments, seq_length=...)`` packs a list of one or two
    tokenized segments. Loading it requires ``import tensorflow_text`` first.
    ``vocab_file`` is usually made with `write_vocab`, e.g.
    ``export_bert_preprocessor(d, vocab_file=write_vocab(tmp / "v.txt", words))``.
    Returns ``Path(path)``.
    """
    lib = _official("nlp.tools.export_tfhub_lib")
    lib.export_preprocessing(
        str(path), vocab_file=str(vocab_file), do_lower_case=do_lower_case,
        tokenize_with_offsets=tokenize_with_offsets, default_seq_length=default_seq_length)
    return Path(path)


def export_efficientnet(
    path: str | os.PathLike, model_name: str = "efficientnet-b0", seed: int = 0,
) -> Path:
    """Exports a randomly initialised EfficientNet with Model Garden's ``tfhub_export``.

    ``model_name`` is a key of ``efficientnet_model.MODEL_CONFIGS``
    ("efficientnet-b0" ... "efficientnet-b8", "efficientnet-l2"). The model is
    built exactly as ``export_tfhub`` builds it (float input multiplied by 255,
    then ImageNet mean/std normalisation inside the graph), its random weights
    are written as ``tf.train.Checkpoint(model=...)``, and ``export_tfhub``
    restores them and writes ``path/classification`` (1000 softmax
    probabilities) and ``path/feature-vector`` (global-average-pooled top
    features, 1280 wide for b0). Both take ``[batch, height, width, 3]``
    float32 images with values in [0, 1], any height and width.

    Returns the ``feature-vector`` SavedModel's path, e.g.
    ``hub.KerasLayer(export_efficientnet(d, "efficientnet-b3"))``.
    """
    import tensorflow as tf
    import tf_keras

    hub_export = _official("legacy.image_classification.efficientnet.tfhub_export")
    effnet = _official("legacy.image_classification.efficientnet.efficientnet_model")
    if model_name not in effnet.MODEL_CONFIGS:
        raise ValueError(f"unknown EfficientNet {model_name!r}; "
                         f"choose from {sorted(effnet.MODEL_CONFIGS)}")
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="zoo-effnet-export-") as tmp:
        _seed(seed)
        # Same graph as tfhub_export.export_tfhub, so the checkpoint matches it.
        image_input = tf_keras.layers.Input(
            shape=(None, None, 3), name="image_input", dtype=tf.float32)
        outputs = effnet.efficientnet(image_input * 255.0, effnet.MODEL_CONFIGS[model_name])
        model = tf_keras.Model(image_input, outputs)
        ckpt_path = tf.train.Checkpoint(model=model).save(os.path.join(tmp, "ckpt", "model"))
        del model
        hub_export.export_tfhub(ckpt_path, str(path), model_name)
    return path / "feature-vector"


def write_sentencepiece_model(path: str | os.PathLike, sentences: Iterable[str], *, vocab_size: int = 64) -> Path:
    """Trains a small SentencePiece model on ``sentences`` with ALBERT's special pieces and writes
    ``path`` (a ``.model`` file): ``<pad>`` 0, ``<unk>`` 1, ``[CLS]`` 2, ``[SEP]`` 3, ``[MASK]`` 4, the
    ids Model Garden's ``SentencepieceTokenizer`` looks up by name. Needs ``sentencepiece``.
    """
    import sentencepiece as spm

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    corpus = path.with_suffix(".txt")
    corpus.write_text("".join(f"{s}\n" for s in sentences), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(path.with_suffix("")), vocab_size=vocab_size, model_type="unigram",
        pad_id=0, unk_id=1, bos_id=-1, eos_id=-1, user_defined_symbols=["[CLS]", "[SEP]", "[MASK]"],
        character_coverage=1.0, hard_vocab_limit=False, minloglevel=2)
    corpus.unlink()
    return path.with_suffix(".model")


def export_albert_encoder(
    path: str | os.PathLike, *, sp_model_file: str | os.PathLike, num_layers: int = 2, hidden_size: int = 32,
    num_heads: int = 2, embedding_width: int = 16, vocab_size: int = 64, seed: int = 0,
) -> Path:
    """Exports a randomly initialised Model Garden ALBERT encoder the way ``albert_en_base/3`` was made:
    ``EncoderConfig(type="albert")`` (one transformer layer shared ``num_layers`` times, an embedding
    projection from ``embedding_width``) and ``export_tfhub_lib.export_model(..., sp_model_file=...)``.
    Same call as the BERT encoders (a dict of three int32 tensors -> ``pooled_output``, ``default``,
    ``sequence_output``, ``encoder_outputs``). Returns ``Path(path)``.
    """
    import tensorflow as tf

    lib = _official("nlp.tools.export_tfhub_lib")
    encoders = _official("nlp.configs.encoders")
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="zoo-albert-export-") as tmp:
        config = encoders.EncoderConfig(type="albert", albert=encoders.AlbertEncoderConfig(
            vocab_size=vocab_size, embedding_width=embedding_width, hidden_size=hidden_size, num_layers=num_layers,
            num_attention_heads=num_heads, intermediate_size=4 * hidden_size))
        _seed(seed)
        encoder = encoders.build_encoder(config)
        ckpt_path = tf.train.Checkpoint(encoder=encoder).save(os.path.join(tmp, "ckpt", "model"))
        lib.export_model(str(path), encoder_config=config, model_checkpoint_path=ckpt_path, with_mlm=False,
                         sp_model_file=str(sp_model_file))
    return path


def export_albert_preprocessor(path: str | os.PathLike, *, sp_model_file: str | os.PathLike,
                               default_seq_length: int = 128) -> Path:
    """Exports ALBERT's preprocessing SavedModel (SentencePiece, lower case, as ``albert_en_preprocess/3``)
    with ``export_tfhub_lib.export_preprocessing(..., sp_model_file=...)``. Returns ``Path(path)``."""
    lib = _official("nlp.tools.export_tfhub_lib")
    lib.export_preprocessing(str(path), sp_model_file=str(sp_model_file), do_lower_case=True,
                             tokenize_with_offsets=False, default_seq_length=default_seq_length)
    return Path(path)
