"""BERT-style encoders with a preprocessing module (TF Model Garden's TF Hub export format).

``preprocessor(strings) -> {input_word_ids, input_mask, input_type_ids}`` (int32
``[B, S]``, S the preprocessor's own default unless the entry sets ``seq_length``: then
``tokenize`` + ``bert_pack_inputs(segments, seq_length=S)``), then
``encoder(that dict, training) -> {pooled_output, sequence_output, encoder_outputs, default}``.
The embedding is the entry's ``output_key`` (``pooled_output``) or, with
``pooling = "mean"``, the mean of ``sequence_output`` over the real tokens. A text pair
``[a, b]`` is one sequence ``[CLS] a [SEP] b [SEP]``: the preprocessor's ``tokenize`` on
each, then ``bert_pack_inputs`` with two segments (``input_type_ids`` 0 then 1).

Example:
    >>> BertEncoder().families
    ('bert', 'electra')
"""

from __future__ import annotations

from typing import Any

from zoo.models.contracts.text import TextContract, as_utf8
from zoo.errors import ModuleLoadError

__all__ = ["BertEncoder", "default_seq_length"]


def default_seq_length(preprocessor: Any) -> int:
    """The sequence length a BERT-style preprocessing module packs to when called on strings.

    Read from the traced ``__call__``'s output shape (``input_word_ids [B, S]``), else by
    calling it on one empty string.

    Example:
        >>> import tensorflow as tf
        >>> class Pre:
        ...     def __call__(self, s): return {"input_word_ids": tf.zeros([1, 64], tf.int32)}
        >>> default_seq_length(Pre())
        64
    """
    import tensorflow as tf

    fn = getattr(preprocessor, "__call__", None)
    for cf in getattr(fn, "concrete_functions", None) or []:
        out = cf.structured_outputs
        if isinstance(out, dict) and "input_word_ids" in out and out["input_word_ids"].shape[-1]:
            return int(out["input_word_ids"].shape[-1])
    return int(preprocessor(tf.constant([""]))["input_word_ids"].shape[-1])


class BertEncoder(TextContract):
    """The BERT-encoder-with-preprocessor contract (see the module docs)."""

    name = "bert_encoder"
    families = ("bert", "electra")
    default_freeze = "full"  # BERT-style encoders are meant to be fine-tuned
    fine_tune_rate = 3e-5
    fine_tune_adamw = True
    poolings = ("output", "mean")
    packs_pairs = True

    def setup(self, backbone: Any, obj: Any) -> dict:
        from zoo import hub as zhub
        from zoo.models._backbones import HubModule

        spec = backbone.spec
        if not spec.preprocessor:
            raise ModuleLoadError(f"backbone {spec.name!r}: the {self.name} contract needs a 'preprocessor' handle "
                                  "(e.g. https://tfhub.dev/tensorflow/bert_en_uncased_preprocess/3)")
        pre_obj = zhub.load(spec.preprocessor, text_ops=True, tpu_io=backbone.io_local)
        backbone.pre = HubModule(pre_obj, trainable=False, name="preprocessor")
        own = default_seq_length(pre_obj)
        backbone.seq_length = spec.seq_length or own
        backbone._pack = None
        backbone._pair_pack = pre_obj if hasattr(pre_obj, "tokenize") and hasattr(pre_obj, "bert_pack_inputs") else None
        if backbone.seq_length != own:
            if not (hasattr(pre_obj, "tokenize") and hasattr(pre_obj, "bert_pack_inputs")):
                raise ModuleLoadError(
                    f"backbone {spec.name!r}: seq_length = {spec.seq_length} differs from the preprocessor's own "
                    f"{own}, but {spec.preprocessor} has no tokenize/bert_pack_inputs to pack other lengths; "
                    f"drop seq_length from the registry entry")
            backbone._pack = pre_obj
        return {"output_key": None}  # the whole output dict: `call` picks the embedding, `word_features` the tokens

    def encode(self, backbone: Any, inputs: Any) -> Any:
        """Strings (or a pair ``[a, b]``) -> the encoder's input dict (the preprocessor, or tokenize + pack)."""
        if isinstance(inputs, (list, tuple)) and len(inputs) == 2 and not isinstance(inputs[0], (str, bytes)):
            pack = backbone._pair_pack
            if pack is None:
                raise ModuleLoadError(f"backbone {backbone.spec.name!r}: packing a text pair needs the preprocessor's "
                                      f"tokenize and bert_pack_inputs, which {backbone.spec.preprocessor} lacks")
            segments = [pack.tokenize(as_utf8(t)) for t in inputs]
            return pack.bert_pack_inputs(segments, seq_length=backbone.seq_length)
        text = as_utf8(inputs)
        pack = backbone._pack
        if pack is not None:
            return pack.bert_pack_inputs([pack.tokenize(text)], seq_length=backbone.seq_length)
        return backbone.pre(text)

    def call(self, backbone: Any, inputs: Any, training: Any = None) -> Any:
        encoded = self.encode(backbone, inputs)
        out = backbone.module(encoded, training=training)
        if backbone.spec.pooling == "mean":
            return _masked_mean(out, encoded, backbone.spec)
        return out[backbone.spec.output_key or "pooled_output"] if isinstance(out, dict) else out

    def word_features(self, backbone: Any, text: Any, max_words: int, training: Any = None,
                      prefix: Any = None) -> tuple[Any, Any]:
        """Sentences (words separated by spaces) -> ``([B, max_words, H]`` the ``sequence_output`` at each word's
        first word piece, ``[B, max_words]`` True where a word is there and its first piece was packed). With
        ``prefix`` (e.g. questions) the pair ``[CLS] prefix [SEP] text [SEP]`` is encoded and ``text``'s words read."""
        import tensorflow as tf

        pack = backbone._pair_pack
        if pack is None:
            raise ModuleLoadError(f"backbone {backbone.spec.name!r}: word-level features need the preprocessor's "
                                  f"tokenize and bert_pack_inputs, which {backbone.spec.preprocessor} lacks")
        words = tf.strings.split(as_utf8(text))[:, :max_words]  # [B, (W)]
        pieces = pack.tokenize(words.flat_values)  # [Nw, (sub-words), (pieces)]: BERT splits "U.S." further
        pieces = pieces.merge_dims(1, 2) if pieces.ragged_rank > 1 else pieces
        per_sentence = tf.RaggedTensor.from_row_splits(pieces, words.row_splits)  # [B, (W), (P)]
        segments = [per_sentence] if prefix is None else [pack.tokenize(as_utf8(prefix)), per_sentence]
        encoded = pack.bert_pack_inputs(segments, seq_length=backbone.seq_length)
        seq = tf.cast(backbone.module(encoded, training=training)["sequence_output"], tf.float32)  # [B, S, H]
        mask = tf.cast(encoded["input_mask"], tf.int32)
        if prefix is None:  # [CLS] text [SEP]: the text's pieces start at 1; trimming keeps its first ones
            start, kept = tf.ones_like(mask[:, 0]), tf.reduce_sum(mask, axis=1) - 2
        else:  # [CLS] prefix [SEP] text [SEP]: the text is segment 1
            second = tf.cast(tf.equal(encoded["input_type_ids"], 1), tf.int32) * mask
            start, kept = tf.argmax(second, axis=1, output_type=tf.int32), tf.reduce_sum(second, axis=1) - 1
        counts = tf.cast(per_sentence.row_lengths(axis=2).to_tensor(0, shape=[None, max_words]), tf.int32)
        offset = tf.cumsum(counts, axis=1, exclusive=True)  # the word's first piece among the text's pieces
        valid = (counts > 0) & (offset < kept[:, None])
        picked = tf.gather(seq, tf.minimum(start[:, None] + offset, tf.shape(seq)[1] - 1), batch_dims=1)
        return picked * tf.cast(valid, tf.float32)[..., None], valid

    def export_objects(self, backbone: Any) -> list:
        return [backbone._pack] if backbone._pack is not None else []

    def test_module(self, spec: Any, workdir: Any, seed: int = 0) -> Any:
        from zoo.testing.text_modules import BertEncoderModule, bert_facts

        return BertEncoderModule(bert_facts(spec), spec.fine_tunable, seed)

    def test_module_key(self, spec: Any) -> tuple:
        from zoo.testing.text_modules import bert_facts

        return (bert_facts(spec), spec.fine_tunable)


def _masked_mean(outputs: Any, encoded: Any, spec: Any) -> Any:
    """Mean of ``sequence_output`` over the tokens where ``input_mask`` is 1."""
    import tensorflow as tf

    if not isinstance(outputs, dict) or "sequence_output" not in outputs or not isinstance(encoded, dict):
        raise ModuleLoadError(
            f"backbone {spec.name!r}: pooling = 'mean' needs an encoder returning a dict with 'sequence_output' "
            f"and a preprocessor giving 'input_mask'; module {spec.handle} does not; use pooling = 'output'")
    seq = tf.cast(outputs["sequence_output"], tf.float32)
    mask = tf.cast(encoded["input_mask"], tf.float32)[..., None]
    return tf.reduce_sum(seq * mask, axis=1) / tf.maximum(tf.reduce_sum(mask, axis=1), 1.0)
