"""What the real TF Hub modules are, written down per module as data with its source.

Test modules are built from these facts, never from the registry entry they test:
a registry ``block_pattern`` or ``blocks`` that disagrees with the real module then
fails a test instead of confirming itself. Each `ModuleFacts` names where its facts
come from (model page, exporter source); families whose exporter is on PyPI (TF
Model Garden: BERT encoders and preprocessors, EfficientNet B0-B3) are also
exported for real by `zoo.testing.exporters` in the fidelity tests.

Pure Python: no TensorFlow.

Example:
    >>> f = facts_for("https://tfhub.dev/google/imagenet/mobilenet_v2_100_224/feature_vector/5")
    >>> f.blocks[0], f.blocks[-1], len(f.blocks), f.output_dim
    ('MobilenetV2/expanded_conv', 'MobilenetV2/expanded_conv_16', 17, 1280)
    >>> f.stem, f.top
    (('MobilenetV2/Conv',), ('MobilenetV2/Conv_1',))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["ModuleFacts", "FACTS", "facts_for", "SOURCES"]

_TFHUB = "https://tfhub.dev/"
_SLIM = "tensorflow/models research/slim/nets"
SOURCES = {
    "slim_mobilenet_v2": f"{_SLIM}/mobilenet/mobilenet_v2.py (V2_DEF: Conv, 17 expanded_conv ops, Conv_1; "
                         "scopes uniquified by TF-Slim: expanded_conv, expanded_conv_1 .. _16)",
    "slim_mobilenet_v3": f"{_SLIM}/mobilenet/mobilenet_v3.py (V3_SMALL: Conv, 11 expanded_conv, Conv_1, Conv_2; "
                         "V3_LARGE: Conv, 15 expanded_conv, Conv_1, Conv_2)",
    "slim_inception_v3": f"{_SLIM}/inception_v3.py (inception_v3_base end points Conv2d_1a_3x3 .. Conv2d_4a_3x3, "
                         "Mixed_5b .. Mixed_7c)",
    "slim_inception_resnet_v2": f"{_SLIM}/inception_resnet_v2.py (inception_resnet_v2_base: Conv2d_1a_3x3 .. "
                                "Conv2d_4a_3x3, Mixed_5b, slim.repeat(10, block35) = Repeat/block35_1..10, "
                                "Mixed_6a, Repeat_1/block17_1..20, Mixed_7a, Repeat_2/block8_1..9, Block8, "
                                "Conv2d_7b_1x1); the feature_vector/5 page: TF-Slim, 1536 features, 299x299",
    "slim_resnet_v2": f"{_SLIM}/resnet_v2.py + resnet_utils.py (conv1, block1..4/unit_N/bottleneck_v2, postnorm; "
                      "units 3, 4, 6, 3 (50), 3, 4, 23, 3 (101), 3, 8, 36, 3 (152))",
    "garden_efficientnet": "TF Model Garden official/legacy/image_classification/efficientnet/efficientnet_model.py "
                           "+ tfhub_export.py (stem_conv2d, stem_bn, stack_S/block_B, top_conv2d, top_bn; "
                           "repeats 1,2,2,3,3,4,1 rounded up by the depth coefficient)",
    "automl_efficientnetv2": "google/automl efficientnetv2/effnetv2_model.py + effnetv2_configs.py "
                             "(<model>/stem, <model>/blocks_N, <model>/head)",
    "garden_bert": "TF Model Garden official/nlp/tools/export_tfhub_lib.py export_model + "
                   "official/nlp/modeling/networks/bert_encoder.py (word_embeddings, position_embedding, "
                   "type_embeddings, embeddings/layer_norm, transformer/layer_N, pooler_transform)",
    "garden_albert": "TF Model Garden official/nlp/modeling/networks/albert_encoder.py (word_embeddings of width "
                     "128, position_embedding, type_embeddings, embeddings/layer_norm, embedding_projection, ONE "
                     "TransformerEncoderBlock 'transformer' applied num_layers times, pooler_transform); the "
                     "albert_en_base/3 page: L=12, H=768, A=12, converted from google/albert_base/3",
    "bit_pages": "tfhub.dev google/bit/*/1 pages: feature vectors of 2048 (x1) / 6144 (x3), any [batch, height, "
                 "width, 3]; variable naming not published (test layout only)",
    "vit_pages": "tfhub.dev sayakpaul/vit_*_fe/1 pages: 224x224 in [-1, 1]; widths from google-research/"
                 "vision_transformer configs (B/16 768, S/16 384); variables unnamed (jax2tf), test layout only",
    "experts_pages": "tfhub.dev google/experts/bert/*/2 pages: BERT base (12 layers, 768 wide) with "
                     "bert_en_uncased_preprocess/3, exported by TF Model Garden official/legacy/bert; naming of the "
                     "test layout follows Model Garden's BERT encoder",
    "perch_page": "tfhub.dev google/bird-vocalization-classifier/4 page: 'a batch of 5-second audio segments, "
                  "sampled at 32kHz', `logits, embeddings = model.infer_tf(waveform[np.newaxis, :])`, not "
                  "fine-tunable; embedding width 1280 (EfficientNet-B1) from the bioacoustics-model-zoo Perch "
                  "wrapper (embedding_size=1280), which the page does not state",
    "frill_page": "tfhub.dev google/nonsemantic-speech-benchmark/frill/1 page: `module(np.expand_dims(wav, 0))"
                  "['embedding']` is '[time, feature_dim]', 2048 wide, 16 kHz, fine-tunable; variables unnamed",
    "st5_page": "tfhub.dev google/sentence-t5/st5-base/1 page: strings in, 768-d out, TF Text ops, not "
                "fine-tunable; the output is a one-element list: `(batched_embedding,) = hub.KerasLayer(url)"
                "(sentences)` in Google DeepMind's Concordia EmbedderST5",
}


@dataclass(frozen=True)
class ModuleFacts:
    """Documented facts of one real module.

    ``kind``: the calling contract (``"image"``, ``"bert"``, ...). For ``image`` and
    ``bert`` modules, ``stem``, ``blocks`` and ``top`` are the trainable variable scopes
    in the order the module lists them: below the numbered blocks, the numbered blocks
    bottom first, above them.

    Example:
        >>> ModuleFacts("x", "image", "doc", output_dim=8, input_size=(32, 32)).blocks
        ()
    """

    handle: str
    kind: str
    source: str
    output_dim: int = 0
    input_size: tuple[int, int] | None = None
    stem: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()
    top: tuple[str, ...] = ()
    hidden: int | None = None  # BERT: width of the real model (= output_dim of pooled_output)
    list_output: bool = False  # the module returns a one-element list holding the embedding
    sample_rate: int | None = None  # audio: the waveform rate the module takes


def _mobilenet_v2(depth: str, dim: int) -> ModuleFacts:  # the depth multiplier changes widths, not scopes
    blocks = ("MobilenetV2/expanded_conv",) + tuple(f"MobilenetV2/expanded_conv_{i}" for i in range(1, 17))
    return ModuleFacts(f"{_TFHUB}google/imagenet/mobilenet_v2_{depth}_224/feature_vector/5", "image",
                       SOURCES["slim_mobilenet_v2"], dim, (224, 224), ("MobilenetV2/Conv",), blocks,
                       ("MobilenetV2/Conv_1",))


def _mobilenet_v3(size: str, n: int, dim: int, depth: str = "100") -> ModuleFacts:
    blocks = ("MobilenetV3/expanded_conv",) + tuple(f"MobilenetV3/expanded_conv_{i}" for i in range(1, n))
    return ModuleFacts(f"{_TFHUB}google/imagenet/mobilenet_v3_{size}_{depth}_224/feature_vector/5", "image",
                       SOURCES["slim_mobilenet_v3"], dim, (224, 224), ("MobilenetV3/Conv",), blocks,
                       ("MobilenetV3/Conv_1", "MobilenetV3/Conv_2"))


_EFFNET_REPEATS = (1, 2, 2, 3, 3, 4, 1)


def _efficientnet(variant: int, depth: float, size: int, dim: int) -> ModuleFacts:
    blocks = tuple(f"stack_{s}/block_{b}" for s, r in enumerate(_EFFNET_REPEATS)
                   for b in range(int(math.ceil(depth * r))))
    return ModuleFacts(f"{_TFHUB}tensorflow/efficientnet/b{variant}/feature-vector/1", "image",
                       SOURCES["garden_efficientnet"], dim, (size, size), ("stem_conv2d", "stem_bn"), blocks,
                       ("top_conv2d", "top_bn"))


# google/automl effnetv2_configs.py: repeats per stage, depth multiplier; round_repeats = ceil(d * r)
_V2_BASE, _V2_S = (1, 2, 2, 3, 5, 8), (2, 4, 4, 6, 9, 15)
_V2_M, _V2_L = (3, 5, 5, 7, 14, 18, 5), (4, 7, 7, 10, 19, 25, 7)
_V2_BLOCKS = {"b0": (_V2_BASE, 1.0), "b1": (_V2_BASE, 1.1), "b2": (_V2_BASE, 1.2), "b3": (_V2_BASE, 1.4),
              "s": (_V2_S, 1.0), "m": (_V2_M, 1.0), "l": (_V2_L, 1.0)}
_V2_SIZE = {"b0": 224, "b1": 240, "b2": 260, "b3": 300, "s": 384, "m": 480, "l": 480}  # the model pages


def _efficientnet_v2(variant: str, data: str = "imagenet1k") -> ModuleFacts:
    repeats, depth = _V2_BLOCKS[variant]
    n, size, dim = sum(int(math.ceil(depth * r)) for r in repeats), _V2_SIZE[variant], 1280
    model = f"efficientnetv2-{variant}"
    blocks = tuple(f"{model}/blocks_{i}" for i in range(n))
    return ModuleFacts(f"{_TFHUB}google/imagenet/efficientnet_v2_{data}_{variant}/feature_vector/2", "image",
                       SOURCES["automl_efficientnetv2"], dim, (size, size), (f"{model}/stem",), blocks,
                       (f"{model}/head",))


def _inception_v3() -> ModuleFacts:
    stem = tuple(f"InceptionV3/{n}" for n in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1",
                                             "Conv2d_4a_3x3"))
    blocks = tuple(f"InceptionV3/Mixed_{n}" for n in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"))
    return ModuleFacts(f"{_TFHUB}google/imagenet/inception_v3/feature_vector/5", "image",
                       SOURCES["slim_inception_v3"], 2048, (299, 299), stem, blocks, ())


def _inception_resnet_v2() -> ModuleFacts:
    net = "InceptionResnetV2"
    stem = tuple(f"{net}/{n}" for n in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1",
                                       "Conv2d_4a_3x3"))
    blocks = ((f"{net}/Mixed_5b",) + tuple(f"{net}/Repeat/block35_{i}" for i in range(1, 11)) + (f"{net}/Mixed_6a",)
              + tuple(f"{net}/Repeat_1/block17_{i}" for i in range(1, 21)) + (f"{net}/Mixed_7a",)
              + tuple(f"{net}/Repeat_2/block8_{i}" for i in range(1, 10)) + (f"{net}/Block8",))
    return ModuleFacts(f"{_TFHUB}google/imagenet/inception_resnet_v2/feature_vector/5", "image",
                       SOURCES["slim_inception_resnet_v2"], 1536, (299, 299), stem, blocks, (f"{net}/Conv2d_7b_1x1",))


_RESNET_UNITS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}  # TF-Slim resnet_v2.py


def _resnet_v2(depth: int) -> ModuleFacts:
    net = f"resnet_v2_{depth}"
    blocks = tuple(f"{net}/block{b}/unit_{u}/bottleneck_v2" for b, units in enumerate(_RESNET_UNITS[depth], 1)
                   for u in range(1, units + 1))
    return ModuleFacts(f"{_TFHUB}google/imagenet/{net}/feature_vector/5", "image", SOURCES["slim_resnet_v2"],
                       2048, (224, 224), (f"{net}/conv1",), blocks, (f"{net}/postnorm",))


def _bert(handle: str, layers: int, hidden: int, projection: bool = False, source: str = "garden_bert") -> ModuleFacts:
    stem = ("word_embeddings", "position_embedding", "type_embeddings", "embeddings/layer_norm")
    if projection:
        stem += ("embedding_projection",)
    blocks = tuple(f"transformer/layer_{i}" for i in range(layers))
    return ModuleFacts(_TFHUB + handle, "bert", SOURCES[source], hidden, None, stem, blocks,
                       ("pooler_transform",), hidden)


def _image_sizes(handle: str, dim: int, size: int, source: str) -> ModuleFacts:
    """A module whose widths and input size are documented but whose variable naming is not: the
    test module gets a neutral layout (stem, three blocks, top); no entry may claim a block_pattern."""
    return ModuleFacts(_TFHUB + handle, "image", SOURCES[source], dim, (size, size), ("stem",),
                       ("block_1", "block_2", "block_3"), ("top",))


def _albert(handle: str, layers: int, hidden: int) -> ModuleFacts:
    stem = ("word_embeddings", "position_embedding", "type_embeddings", "embeddings/layer_norm", "embedding_projection")
    return ModuleFacts(_TFHUB + handle, "bert", SOURCES["garden_albert"], hidden, None, stem, ("transformer",),
                       ("pooler_transform",), hidden)


SMALL_BERTS = ((2, 128), (2, 768), (4, 256), (4, 768), (6, 256), (6, 512), (8, 512), (12, 256))  # (L, H) added

FACTS: dict[str, ModuleFacts] = {f.handle: f for f in (
    _mobilenet_v2("035", 1280),
    _mobilenet_v2("050", 1280),  # the example plugin's entry
    _mobilenet_v2("075", 1280),
    _mobilenet_v2("100", 1280),
    _mobilenet_v2("140", 1792),
    _mobilenet_v3("small", 11, 1024),
    _mobilenet_v3("large", 15, 1280),
    _mobilenet_v3("small", 11, 1024, depth="075"),
    _mobilenet_v3("large", 15, 1280, depth="075"),
    _efficientnet(0, 1.0, 224, 1280),
    _efficientnet(1, 1.1, 240, 1280),
    _efficientnet(2, 1.2, 260, 1408),
    _efficientnet(3, 1.4, 300, 1536),
    *(_efficientnet_v2(v) for v in ("b0", "b1", "b2", "b3", "s", "m", "l")),
    *(_efficientnet_v2(v, "imagenet21k_ft1k") for v in ("b0", "b1", "b2", "b3", "s", "m", "l")),
    *(_efficientnet_v2(v, "imagenet21k") for v in ("s", "m", "l")),
    _inception_v3(),
    _inception_resnet_v2(),
    _resnet_v2(50),
    _resnet_v2(101),
    _resnet_v2(152),
    _bert("tensorflow/small_bert/bert_en_uncased_L-4_H-512_A-8/2", 4, 512),
    *(_bert(f"tensorflow/small_bert/bert_en_uncased_L-{n}_H-{h}_A-{h // 64}/2", n, h) for n, h in SMALL_BERTS),
    _bert("tensorflow/bert_en_uncased_L-12_H-768_A-12/4", 12, 768),
    _bert("tensorflow/bert_multi_cased_L-12_H-768_A-12/4", 12, 768),
    _bert("google/electra_small/2", 12, 256, projection=True),
    _albert("tensorflow/albert_en_base/3", 12, 768),
    _bert("google/experts/bert/wiki_books/2", 12, 768, source="experts_pages"),
    _bert("google/experts/bert/pubmed/2", 12, 768, source="experts_pages"),
    _image_sizes("google/bit/m-r50x1/1", 2048, 224, "bit_pages"),
    _image_sizes("google/bit/m-r50x3/1", 6144, 224, "bit_pages"),
    _image_sizes("google/bit/m-r101x1/1", 2048, 224, "bit_pages"),
    _image_sizes("google/bit/s-r50x1/1", 2048, 224, "bit_pages"),
    _image_sizes("sayakpaul/vit_b16_fe/1", 768, 224, "vit_pages"),
    _image_sizes("sayakpaul/vit_s16_fe/1", 384, 224, "vit_pages"),
    ModuleFacts(_TFHUB + "google/bird-vocalization-classifier/4", "windowed_audio", SOURCES["perch_page"], 1280,
                sample_rate=32000),
    ModuleFacts(_TFHUB + "google/nonsemantic-speech-benchmark/frill/1", "clip_frames", SOURCES["frill_page"], 2048,
                sample_rate=16000),
    ModuleFacts(_TFHUB + "google/sentence-t5/st5-base/1", "sentence_encoder", SOURCES["st5_page"], 768,
                list_output=True),
)}


def facts_for(handle: str) -> ModuleFacts | None:
    """The documented facts of the module at ``handle`` (None: a module zoo has no facts for).

    Example:
        >>> facts_for("https://tfhub.dev/google/electra_small/2").stem[-1]
        'embedding_projection'
        >>> facts_for("/my/own/module") is None
        True
    """
    return FACTS.get(handle)
