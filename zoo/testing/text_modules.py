"""Text test modules: BERT-style encoder and preprocessor, USE/NNLM-style sentence encoders.

Used by `zoo.testing.make_module` / `make_preprocessor`; see there for the
calling contracts. The encoder's vocabulary is `VOCAB`, the one the
preprocessor's ``BertTokenizer`` uses.

Example:
    >>> import tensorflow_text
    >>> VOCAB[:5]
    ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from zoo.registry import BackboneSpec
from zoo.testing.hub_object import HubObject, normal_weights, trace_call
from zoo.testing.facts import SOURCES, ModuleFacts, facts_for

__all__ = ["VOCAB", "BertEncoderModule", "BertPreprocessorModule", "SentenceEncoderModule", "bert_facts"]

_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_WORDS = """
the of and to a in is it you that he was for on are with as i his they be at one have this from or had by
not but what all were we when your can said there use an each which she do how their if will up other about
out many then them these so some her would make like him into time has look two more write go see number no
way could people my than first water been call who its now find long down day did get come made may part
over new sound take only little work know place year live me back give most very after thing our just name
good sentence man think say great where help through much before line right too mean old any same tell boy
follow came want show also around form three small set put end does another well large must big even such
because turn here why ask went men read need land different home us move try kind hand picture again change
off play spell air away animal house point page letter mother answer found study still learn should world
high every near add food between own below country plant last school father keep tree never start city
earth eye light thought head under story saw left few while along might close something seem next hard open
example begin life always those both paper together got group often run important until children side feet
car mile night walk white sea began grow took river four carry state once book hear stop without second
later miss idea enough eat face watch far really almost let above girl sometimes mountain cut young talk
soon list song being leave family movie film love hate bad awful excellent terrible wonderful amazing best
worst boring fun funny actor actors acting plot story script scene scenes director character characters
enjoyed liked loved hated recommend waste money beautiful poor brilliant fantastic horrible nice perfect
stupid dull masterpiece entertaining disappointing disappointed mediocre okay fine happy sad angry music
sound voice dog cat bird car train weather rain sun cold hot is isn't not never very quite pretty
""".split()
_PUNCT = list(".,!?'\"-():;/&")
_PIECES = ["##s", "##es", "##ed", "##ing", "##ly", "##er", "##est", "##n", "##t", "##y"]
VOCAB: list[str] = list(dict.fromkeys(
    _SPECIAL + _PUNCT + [str(d) for d in range(10)] + [chr(c) for c in range(97, 123)]
    + [f"##{chr(c)}" for c in range(97, 123)] + [f"##{d}" for d in range(10)] + _PIECES + _WORDS
))
CLS_ID, SEP_ID, PAD_ID = VOCAB.index("[CLS]"), VOCAB.index("[SEP]"), VOCAB.index("[PAD]")

_HIDDEN = 16  # internal width of the tiny encoders
_MAX_POSITIONS = 512


def bert_facts(spec: BackboneSpec) -> ModuleFacts:
    """The real encoder's facts for ``spec.handle``, or a generic 2-layer Model Garden layout."""
    facts = facts_for(spec.handle)
    if facts is not None and facts.kind == "bert":
        return facts
    stem = ("word_embeddings", "position_embedding", "type_embeddings", "embeddings/layer_norm")
    return ModuleFacts(spec.handle, "bert", SOURCES["garden_bert"] + " (generic 2 layers)", spec.output_dim, None,
                       stem, ("transformer/layer_0", "transformer/layer_1"), ("pooler_transform",), spec.output_dim)


class BertEncoderModule(HubObject):
    """BERT-like encoder with the real encoder's variable scopes (`zoo.testing.facts`):
    ``__call__(inputs: dict of int32 [B,S], training=False)`` -> dict ``pooled_output [B,D]``,
    ``sequence_output [B,S,D]``, ``encoder_outputs`` (one ``[B,S,D]`` per layer), ``default``.
    Tiny inside (width 16), widened to the real ``D``."""

    def __init__(self, facts: ModuleFacts, trainable: bool = True, seed: int = 0) -> None:
        super().__init__(name="bert_encoder")
        rng = np.random.RandomState(seed)
        tr, h, d = trainable, _HIDDEN, facts.output_dim
        word, position, types, norm = facts.stem[:4]
        self.word_embeddings = self._var(f"{word}/embeddings", rng.normal(0, 0.5, (len(VOCAB), h)), tr)
        self.position_embeddings = self._var(f"{position}/embeddings", rng.normal(0, 0.1, (_MAX_POSITIONS, h)), tr)
        self.type_embeddings = self._var(f"{types}/embeddings", rng.normal(0, 0.1, (2, h)), tr)
        self.norm_gamma = self._var(f"{norm}/gamma", np.ones(h), tr)
        self.projections = [self._var(f"{scope}/kernel", np.eye(h) + normal_weights(rng, (h, h)) * 0.1, tr)
                            for scope in facts.stem[4:]]
        self.layer_kernels = [self._var(f"{scope}/self_attention/query/kernel", normal_weights(rng, (h, h)), tr)
                              for scope in facts.blocks]
        self.pooler_kernel = self._var(f"{facts.top[0]}/kernel", normal_weights(rng, (h, d)), tr)
        self.pooler_bias = self._var(f"{facts.top[0]}/bias", np.zeros(d), tr)
        # fixed widening of the hidden states to output_dim (a constant, not a variable)
        self._widen = tf.constant(normal_weights(rng, (h, d)).astype(np.float32))
        self._expose()
        spec_in = {k: tf.TensorSpec([None, None], tf.int32) for k in ("input_word_ids", "input_mask", "input_type_ids")}
        trace_call(self.__call__, spec_in)

    @tf.function
    def __call__(self, inputs: dict[str, tf.Tensor], training: bool = False) -> dict[str, Any]:
        ids = inputs["input_word_ids"]
        mask = tf.cast(inputs["input_mask"], tf.float32)[..., None]
        seq_len = tf.shape(ids)[1]
        x = (tf.gather(self.word_embeddings, ids)
             + tf.gather(self.position_embeddings, tf.range(seq_len))[None]
             + tf.gather(self.type_embeddings, inputs["input_type_ids"])) * self.norm_gamma
        for p in self.projections:
            x = tf.einsum("bsh,hk->bsk", x, p)
        outputs = []
        for k in self.layer_kernels:
            ctx = tf.reduce_sum(x * mask, axis=1, keepdims=True) / tf.maximum(tf.reduce_sum(mask, 1, keepdims=True), 1.0)
            y = tf.tanh(tf.einsum("bsh,hk->bsk", x + ctx, k))
            if training:
                y = tf.nn.dropout(y, rate=0.1)
            x = x + y * mask
            outputs.append(tf.einsum("bsh,hd->bsd", x, self._widen))
        pooled = tf.tanh(tf.matmul(x[:, 0], self.pooler_kernel) + self.pooler_bias)
        return {"pooled_output": pooled, "sequence_output": outputs[-1], "encoder_outputs": outputs, "default": pooled}


class _Tokenize(HubObject):
    """``tokenize(strings[B]) -> int32 RaggedTensor [B, (words), (wordpieces)]``."""

    def __init__(self, vocab_file: Path) -> None:
        super().__init__(name="tokenize")
        import tensorflow_text as tf_text

        init = tf.lookup.TextFileInitializer(
            str(vocab_file), tf.string, tf.lookup.TextFileIndex.WHOLE_LINE,
            tf.int64, tf.lookup.TextFileIndex.LINE_NUMBER)
        self._table = tf.lookup.StaticVocabularyTable(init, num_oov_buckets=1)
        self._tokenizer = tf_text.BertTokenizer(self._table, lower_case=True, unknown_token="[UNK]")
        self.__call__.get_concrete_function(tf.TensorSpec([None], tf.string))

    @tf.function
    def __call__(self, strings: tf.Tensor) -> tf.RaggedTensor:
        return tf.cast(self._tokenizer.tokenize(strings), tf.int32)


def _segment_spec(ragged_rank: int) -> tf.RaggedTensorSpec:
    return tf.RaggedTensorSpec([None] * (ragged_rank + 1), tf.int32, ragged_rank=ragged_rank)


class _PackInputs(HubObject):
    """``bert_pack_inputs(segments: list of 1 or 2 int32 ragged [B, (words), (pieces)],
    seq_length=128) -> dict of int32 [B, seq_length]`` ([CLS] a [SEP] b [SEP], round-robin trimmed)."""

    def __init__(self, seq_lengths: tuple[int, ...]) -> None:
        super().__init__(name="bert_pack_inputs")
        for seq_length in seq_lengths:
            for n_segments in (1, 2):
                self.__call__.get_concrete_function([_segment_spec(2)] * n_segments, seq_length=seq_length)

    @tf.function
    def __call__(self, segments: list[tf.RaggedTensor], seq_length: int = 128) -> dict[str, tf.Tensor]:
        if not 1 <= len(segments) <= 2:
            raise ValueError(f"bert_pack_inputs takes 1 or 2 segments, got {len(segments)}")
        flat = [s.merge_dims(1, -1) if s.ragged_rank > 1 else s for s in segments]
        lengths = [tf.cast(s.row_lengths(), tf.int32)[:, None] for s in flat]  # [B, 1] each
        dense = [tf.cast(s.to_tensor(default_value=PAD_ID, shape=[None, seq_length]), tf.int32) for s in flat]
        pos = tf.range(seq_length)[None, :]  # [1, S]
        budget = seq_length - 1 - len(flat)
        if len(flat) == 1:
            a, b = tf.minimum(lengths[0], budget), tf.zeros_like(lengths[0])
        else:  # round robin: the first segment gets the odd token
            a = tf.minimum(lengths[0], tf.maximum((budget + 1) // 2, budget - lengths[1]))
            b = tf.minimum(lengths[1], budget - a)
        first = tf.gather(dense[0], tf.clip_by_value(pos - 1, 0, seq_length - 1)[0], axis=1)
        ids = tf.where(pos == 0, CLS_ID, tf.where(pos <= a, first, tf.where(pos == a + 1, SEP_ID, PAD_ID)))
        total = a + 2
        type_ids = tf.zeros_like(ids)
        if len(flat) == 2:
            idx = tf.clip_by_value(pos - a - 2, 0, seq_length - 1)  # [B, S]
            second = tf.gather(dense[1], idx, batch_dims=1)
            in_b = (pos >= a + 2) & (pos < a + 2 + b)
            ids = tf.where(in_b, second, tf.where(pos == a + 2 + b, SEP_ID, ids))
            total = a + b + 3
            type_ids = tf.cast((pos >= a + 2) & (pos < total), tf.int32)
        mask = tf.cast(pos < total, tf.int32)
        return {"input_word_ids": ids * mask, "input_mask": mask, "input_type_ids": type_ids}


class BertPreprocessorModule(HubObject):
    """BERT preprocessor: ``__call__(strings[B]) -> dict of int32 [B, seq_length]`` and
    sub-objects ``tokenize`` and ``bert_pack_inputs`` (as in bert_en_uncased_preprocess)."""

    def __init__(self, seq_length: int, workdir: Path, pack_lengths: tuple[int, ...] = (128,)) -> None:
        super().__init__(name="bert_preprocess")
        vocab_file = Path(workdir) / "vocab.txt"
        vocab_file.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
        self._seq_length = seq_length
        self.tokenize = _Tokenize(vocab_file)
        self.bert_pack_inputs = _PackInputs(tuple(sorted({seq_length, *pack_lengths})))
        self.__call__.get_concrete_function(tf.TensorSpec([None], tf.string))

    @tf.function
    def __call__(self, strings: tf.Tensor) -> dict[str, tf.Tensor]:
        return self.bert_pack_inputs([self.tokenize(strings)], seq_length=self._seq_length)


class SentenceEncoderModule(HubObject):
    """USE/NNLM-like: ``__call__(strings[B]) -> float32 [B, output_dim]``: lower-cased
    whitespace tokens hashed into a trainable embedding table, averaged, projected.
    With ``spec.text_ops`` the tokenisation uses ``tensorflow_text`` ops."""

    _BUCKETS = 512
    _EMBED = 32

    def __init__(self, spec: BackboneSpec, seed: int = 0) -> None:
        super().__init__(name="sentence_encoder")
        rng = np.random.RandomState(seed)
        fam = re.sub(r"[^A-Za-z0-9_]", "_", spec.family or "text")
        tr = spec.fine_tunable
        self._text_ops = spec.text_ops
        facts = facts_for(spec.handle)
        self._list_output = bool(facts and facts.list_output)  # sentence-T5: [embedding]
        if self._text_ops:
            import tensorflow_text as tf_text

            self._tokenizer = tf_text.WhitespaceTokenizer()
        self.embeddings = self._var(f"{fam}/embeddings", rng.normal(0, 1.0, (self._BUCKETS, self._EMBED)), tr)
        self.projection_kernel = self._var(f"{fam}/projection/kernel", normal_weights(rng, (self._EMBED, spec.output_dim)), tr)
        self.projection_bias = self._var(f"{fam}/projection/bias", np.zeros(spec.output_dim), tr)
        self._expose()
        self.__call__.get_concrete_function(tf.TensorSpec([None], tf.string))

    @tf.function
    def __call__(self, strings: tf.Tensor) -> tf.Tensor:
        strings = tf.reshape(strings, [-1])
        if self._text_ops:
            import tensorflow_text as tf_text

            tokens = self._tokenizer.tokenize(tf_text.case_fold_utf8(strings))
        else:
            tokens = tf.strings.split(tf.strings.lower(strings))
        ids = tf.ragged.map_flat_values(tf.strings.to_hash_bucket_fast, tokens, self._BUCKETS)
        vectors = tf.ragged.map_flat_values(tf.gather, self.embeddings, ids)
        counts = tf.cast(tokens.row_lengths(), tf.float32)[:, None]
        mean = tf.reduce_sum(vectors, axis=1) / tf.maximum(counts, 1.0)
        out = tf.matmul(mean, self.projection_kernel) + self.projection_bias
        return [out] if self._list_output else out
