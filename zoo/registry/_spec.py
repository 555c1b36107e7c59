"""`BackboneSpec`: the data that describes one backbone (no TensorFlow needed).

A spec is plain data, validated on construction, so that listing the registry
never imports TensorFlow. Loading code reads these fields; see ``zoo.models._backbones``.

Example:
    >>> from zoo.registry._spec import BackboneSpec
    >>> spec = BackboneSpec(name="my_cnn", modality="vision", handle="/models/my_cnn",
    ...                     output_dim=256, input_shape=(224, 224, 3))
    >>> spec.input_description
    '224x224x3 RGB 0-255'
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass, field
from typing import Any

from zoo.errors import InvalidSpecError

__all__ = ["BackboneSpec", "MODALITIES", "FORMATS", "POOLINGS", "check_handle"]

MODALITIES = ("vision", "text", "audio")
FORMATS = ("saved_model_2", "hub")
INPUT_RANGES = ((0.0, 1.0), (-1.0, 1.0))
POOLINGS = ("output", "mean")
_NAME_RE = re.compile(r"[a-z][a-z0-9_.\-]*\Z")  # \Z: "$" would accept a trailing newline
_SHA_RE = re.compile(r"[0-9a-f]{64}\Z")
_ALLOWED_SCHEMES = ("https://", "gs://")
_KAGGLE_PAGES = "https://www.kaggle.com/models/"


def check_handle(handle: str, field_name: str = "handle", *, owner: str = "?") -> str:
    """Return ``handle`` if zoo may load from it, else raise `InvalidSpecError`.

    Accepted: ``https://`` URLs (tfhub.dev, Kaggle), ``gs://`` paths and local
    directories. ``http://`` only with ``ZOO_ALLOW_HTTP=1``.

    Example:
        >>> check_handle("https://tfhub.dev/google/yamnet/1")
        'https://tfhub.dev/google/yamnet/1'
    """
    if not isinstance(handle, str) or not handle.strip():
        raise InvalidSpecError(f"backbone {owner!r}: field {field_name!r} must be a non-empty string, got {handle!r}")
    if handle.startswith(_ALLOWED_SCHEMES):
        return handle
    if handle.startswith("http://"):
        if os.environ.get("ZOO_ALLOW_HTTP") == "1":
            return handle
        raise InvalidSpecError(
            f"backbone {owner!r}: field {field_name!r} uses plain http ({handle!r}); "
            "use https:// or set ZOO_ALLOW_HTTP=1 to allow unencrypted downloads"
        )
    if handle.startswith("file://"):
        return handle
    if "://" in handle:
        scheme = handle.split("://", 1)[0]
        raise InvalidSpecError(
            f"backbone {owner!r}: field {field_name!r} has unsupported scheme {scheme + '://'!r} "
            f"in {handle!r}; use https://, gs:// or a local directory"
        )
    return handle


def _check_shape(n: str, shape: Any) -> tuple:
    if (not isinstance(shape, (tuple, list)) or len(shape) != 3
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape) or shape[2] != 3):
        raise InvalidSpecError(f"backbone {n!r}: field 'input_shape' must be [H, W, 3] with positive ints, got {shape!r}")
    return tuple(shape)


def _positive(n: str, fname: str, v: Any, required: bool = False) -> Any:
    if (v is not None or required) and (isinstance(v, bool) or not isinstance(v, int) or v <= 0):
        raise InvalidSpecError(f"backbone {n!r}: field {fname!r} must be a positive integer, got {v!r}")
    return v


def _check_range(n: str, value: Any) -> tuple:
    try:
        rng = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        rng = None
    if rng not in INPUT_RANGES:
        raise InvalidSpecError(f"backbone {n!r}: field 'input_range' must be [0, 1] or [-1, 1], got {value!r}")
    return rng


def _check_blocks(n: str, pattern: Any, stages: Any) -> tuple:
    if pattern is not None:
        try:
            rx = re.compile(pattern)
        except (re.error, TypeError) as exc:
            raise InvalidSpecError(f"backbone {n!r}: field 'block_pattern' is not a valid regex ({exc}): {pattern!r}") from None
        if rx.groups != 1:
            raise InvalidSpecError(f"backbone {n!r}: field 'block_pattern' needs exactly one group, e.g. 'layer_(\\d+)/'")
    if not isinstance(stages, (tuple, list)) or not all(isinstance(p, str) and p for p in stages):
        raise InvalidSpecError(f"backbone {n!r}: field 'block_stages' must be a list of non-empty block id prefixes, "
                               f"got {stages!r}")
    if stages and pattern is None:
        raise InvalidSpecError(f"backbone {n!r}: field 'block_stages' orders the blocks of block_pattern; give one")
    return tuple(stages)


# The fields that belong to one kind of raw input, as data: kind, default, requirement, check.
_KIND_FIELDS = {"input_shape": "vision", "input_range": "vision", "sample_rate": "audio"}
_KIND_DEFAULTS = {"input_range": (0.0, 1.0), "sample_rate": 16000}
_KIND_REQUIRED = {"input_shape": "[224, 224, 3]"}
_CHECK_FIELD = {"input_shape": _check_shape, "input_range": _check_range,
                "sample_rate": lambda n, v: _positive(n, "sample_rate", v)}
_DESCRIBE_INPUT = {
    "vision": lambda s: "{}x{}x{} RGB 0-255".format(*s.input_shape),  # raw pixels; mapped to input_range inside
    "audio": lambda s: f"waveform {s.sample_rate} Hz mono",
    "text": lambda s: "strings",
}


@dataclass(frozen=True)
class BackboneSpec:
    """Everything zoo needs to know to load and use one backbone.

    Fields:
        name: registry name (lower case, ``[a-z0-9_.-]``).
        modality: ``"vision"``, ``"text"`` or ``"audio"``.
        handle: TF Hub URL (tfhub.dev / Kaggle), ``gs://`` path or local directory.
        output_dim: width of the embedding the backbone returns.
        preprocessor: handle of a separate preprocessing module (BERT), or None.
        input_shape: vision only, ``(H, W, 3)`` the module expects.
        sample_rate: audio only, Hz of the waveform the module expects.
        output_key: which output of a dict-returning module is the embedding.
        fine_tunable: whether the module's variables may be trained.
        family, plugin, license, tags, description: catalogue metadata.
        sha256: optional pin of the module archive's digest.
        block_pattern: regex with one group that captures a block's id in variable
            names (``'transformer/layer_(\\d+)/'``; ids sort naturally, ``5b`` < ``6a``; an
            optional group that does not take part counts as ``0``); for ``freeze="top:K"``
            and ``layer_decay``. None: generic grouping (one block per top-level scope).
        block_stages: block id prefixes in network order, where natural order is not (TF-Slim's ``Mixed_6a``
            between ``Repeat/block35_N`` and ``Repeat_1/block17_N``): ids sort by prefix, then naturally.
        blocks: number of numbered blocks ``block_pattern`` finds in the real module
            (checked at load: a different count gives a `BlockCountWarning`).
        seq_length: text models with a preprocessor: tokens per example (None: the
            preprocessing module's own default, read from the module).
        format: ``"saved_model_2"`` (TF2 SavedModel) or ``"hub"`` (legacy TF1 Hub
            format: frozen use only), as the model page states.
        input_range: vision only, the pixel range the module wants: ``(0, 1)`` (TF Hub's
            image convention) or ``(-1, 1)``; zoo converts 0-255 pixels to it.
        pooling: text encoders returning a dict: ``"output"`` (take ``output_key``, e.g.
            ``pooled_output``) or ``"mean"`` (mean of ``sequence_output`` over the tokens
            of ``input_mask``, as sentence-transformer models are meant to be used).
        page: URL of the model page (None: derived from a tfhub.dev handle).
        kaggle: the Kaggle Models page a tfhub.dev handle redirects to (``https://www.kaggle.com/models/
            OWNER/MODEL/FRAMEWORK/VARIATION/VERSION``; usable as a handle too), where it is known.
        contract: the calling contract (`zoo.models.contracts`) by name; None: the contract that
            lists the entry's ``family``, else the default for its modality.
        text_ops: the module needs ``tensorflow_text`` ops registered.
        pretrained: False for zoo's randomly initialised starter backbones.
        builder: ``"module:function"`` that creates ``handle`` locally if missing.
        override: set by a user registry entry that replaces another one.
        source: where the spec came from (plugin name or TOML path).

    Example:
        >>> BackboneSpec(name="use", modality="text", output_dim=512,
        ...              handle="https://tfhub.dev/google/universal-sentence-encoder/4").family
        ''
    """

    name: str
    modality: str
    handle: str
    output_dim: int
    preprocessor: str | None = None
    input_shape: tuple[int, int, int] | None = None
    sample_rate: int | None = None
    output_key: str | None = None
    fine_tunable: bool = True
    family: str = ""
    plugin: str = ""
    license: str = ""
    tags: tuple[str, ...] = ()
    description: str = ""
    sha256: str | None = None
    block_pattern: str | None = None
    block_stages: tuple[str, ...] = ()
    blocks: int | None = None
    seq_length: int | None = None
    format: str = "saved_model_2"
    input_range: tuple[float, float] | None = None
    pooling: str = "output"
    page: str | None = None
    kaggle: str | None = None
    contract: str | None = None
    text_ops: bool = False
    pretrained: bool = True
    builder: str | None = None
    override: bool = False
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        n = self.name
        if not isinstance(n, str) or not _NAME_RE.match(n):
            raise InvalidSpecError(
                f"field 'name' must be lower case letters, digits, '_', '.', '-' and start with a letter; got {n!r}"
            )
        if self.modality not in MODALITIES:
            raise InvalidSpecError(f"backbone {n!r}: field 'modality' must be one of {MODALITIES}, got {self.modality!r}")
        check_handle(self.handle, owner=n)
        if self.preprocessor is not None:
            check_handle(self.preprocessor, "preprocessor", owner=n)
        for fname in ("output_dim", "blocks", "seq_length"):
            _positive(n, fname, getattr(self, fname), required=fname == "output_dim")
        for fname, kind in _KIND_FIELDS.items():  # fields that only one kind of raw input has
            if getattr(self, fname) is None and kind == self.modality and fname in _KIND_DEFAULTS:
                object.__setattr__(self, fname, _KIND_DEFAULTS[fname])
            value = getattr(self, fname)
            if value is None:
                if kind == self.modality and fname in _KIND_REQUIRED:
                    raise InvalidSpecError(f"backbone {n!r}: a {kind} backbone needs field {fname!r}, "
                                           f"e.g. {_KIND_REQUIRED[fname]}")
                continue
            if kind != self.modality:
                raise InvalidSpecError(f"backbone {n!r}: field {fname!r} is for {kind} backbones only, got {value!r}")
            object.__setattr__(self, fname, _CHECK_FIELD[fname](n, value))
        for fname in ("output_key", "family", "plugin", "license", "description", "source", "contract"):
            v = getattr(self, fname)
            if v is not None and not isinstance(v, str):
                raise InvalidSpecError(f"backbone {n!r}: field {fname!r} must be a string, got {v!r}")
        for fname in ("fine_tunable", "text_ops", "pretrained", "override"):
            if not isinstance(getattr(self, fname), bool):
                raise InvalidSpecError(f"backbone {n!r}: field {fname!r} must be true or false, got {getattr(self, fname)!r}")
        if not isinstance(self.tags, (tuple, list)) or not all(isinstance(t, str) for t in self.tags):
            raise InvalidSpecError(f"backbone {n!r}: field 'tags' must be a list of strings, got {self.tags!r}")
        object.__setattr__(self, "tags", tuple(self.tags))
        if self.sha256 is not None and (not isinstance(self.sha256, str) or not _SHA_RE.match(self.sha256)):
            raise InvalidSpecError(f"backbone {n!r}: field 'sha256' must be 64 lower-case hex digits, got {self.sha256!r}")
        object.__setattr__(self, "block_stages", _check_blocks(n, self.block_pattern, self.block_stages))
        for fname, allowed in (("format", FORMATS), ("pooling", POOLINGS)):
            if getattr(self, fname) not in allowed:
                raise InvalidSpecError(f"backbone {n!r}: field {fname!r} must be one of {allowed}, got {getattr(self, fname)!r}")
        if self.page is not None and not (isinstance(self.page, str) and self.page.startswith("https://")):
            raise InvalidSpecError(f"backbone {n!r}: field 'page' must be an https:// URL, got {self.page!r}")
        if self.kaggle is not None and not (isinstance(self.kaggle, str) and self.kaggle.startswith(_KAGGLE_PAGES)):
            raise InvalidSpecError(f"backbone {n!r}: field 'kaggle' must be a {_KAGGLE_PAGES}... page, got {self.kaggle!r}")
        if self.builder is not None and (not isinstance(self.builder, str) or ":" not in self.builder):
            raise InvalidSpecError(f"backbone {n!r}: field 'builder' must look like 'package.module:function', got {self.builder!r}")

    @property
    def input_description(self) -> str:
        """Short human description of the raw input the backbone takes.

        Example:
            >>> BackboneSpec(name="y", modality="audio", handle="/m", output_dim=8).input_description
            'waveform 16000 Hz mono'
        """
        return _DESCRIBE_INPUT[self.modality](self)

    @property
    def model_page(self) -> str | None:
        """The model page: ``page`` if set, else the tfhub.dev handle itself (it is the page's URL).

        Example:
            >>> BackboneSpec(name="y", modality="audio", handle="https://tfhub.dev/google/yamnet/1", output_dim=8).model_page
            'https://tfhub.dev/google/yamnet/1'
        """
        if self.page:
            return self.page
        if self.handle.startswith(("https://tfhub.dev/", _KAGGLE_PAGES)):
            return self.handle
        return None

    def to_dict(self) -> dict[str, Any]:
        """All fields as a JSON-friendly dict.

        Example:
            >>> BackboneSpec(name="y", modality="audio", handle="/m", output_dim=8).to_dict()["sample_rate"]
            16000
        """
        d = dataclasses.asdict(self)
        d["input_shape"] = list(self.input_shape) if self.input_shape else None
        d["input_range"] = list(self.input_range) if self.input_range else None
        d["page"] = self.model_page
        d["kaggle"] = self.kaggle or (self.handle if self.handle.startswith(_KAGGLE_PAGES) else None)
        d["tags"], d["block_stages"] = list(self.tags), list(self.block_stages)
        return d

    def replace(self, **changes: Any) -> "BackboneSpec":
        """A copy with some fields changed (validated again).

        Example:
            >>> s = BackboneSpec(name="y", modality="audio", handle="/m", output_dim=8)
            >>> s.replace(handle="/mirror/y").handle
            '/mirror/y'
        """
        return dataclasses.replace(self, **changes)


SPEC_FIELDS = tuple(f.name for f in dataclasses.fields(BackboneSpec))
