"""Calling contracts: how each family of modules is called, served and tested (the extension point).

A family of modules that zoo does not know is one new `Contract` subclass plus registry
entries: a plugin registers it with the ``register_contracts`` hook; inside zoo, a new
module in this package is found and registered through the same hook (every
`Contract` subclass with a ``name`` defined in a public module here). Entries name it
(``contract = "..."``) or list their ``family`` in its ``families``. Built-in contracts:

==========================  ========  ==============================================
contract                    modality  modules
==========================  ========  ==============================================
``image_feature_vector``    vision    image feature vectors (MobileNet, EfficientNet, ...)
``bert_encoder``            text      BERT-style encoder + preprocessing module
``sentence_encoder``        text      strings -> vector (USE, NNLM)
``framed_audio``            audio     one clip per call, per-frame embeddings (YAMNet)
``windowed_audio``          audio     5 s windows through ``infer_tf`` (bird vocalization classifier)
``clip_frames``             audio     one clip as ``[1, T]``, per-frame embeddings (FRILL)
==========================  ========  ==============================================

No TensorFlow is imported here: contracts import it inside their methods.

Example:
    >>> import zoo
    >>> contract_for(zoo.get("bert_small")).name, contract_for(zoo.get("yamnet")).name
    ('bert_encoder', 'framed_audio')
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from zoo.models.contracts._base import Contract
from zoo.errors import ConfigurationError
from zoo.registry import hookimpl

__all__ = ["Contract", "contract_for", "contract_named", "contract_for_export", "builtin_contracts",
           "register_contracts"]
_ORDER = ("image", "bert", "text", "framed_audio")  # the first modules, in this order; others by name


def builtin_contracts() -> list[Contract]:
    """One instance of every contract class defined in this package's public modules.

    Example:
        >>> [c.name for c in builtin_contracts()][:4]
        ['image_feature_vector', 'bert_encoder', 'sentence_encoder', 'framed_audio']
    """
    names = sorted((m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")),
                   key=lambda n: (_ORDER.index(n) if n in _ORDER else len(_ORDER), n))
    found: list[Contract] = []
    for mod_name in names:
        module = importlib.import_module(f"{__name__}.{mod_name}")
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, Contract) and value.name
                    and value.__module__ == module.__name__):
                found.append(value())
    return found

# an entry that names no contract and whose family no contract lists: by its raw input
_BY_MODALITY = {"vision": "image_feature_vector", "text": "sentence_encoder", "audio": "framed_audio"}


@hookimpl
def register_contracts(register):
    """Register zoo's built-in contracts (plugins add theirs through the same hook).

    Example:
        >>> seen = []; register_contracts(seen.append); [c.name for c in seen][:2]
        ['image_feature_vector', 'bert_encoder']
    """
    for contract in builtin_contracts():
        register(contract)


def _contracts() -> dict[str, Contract]:
    from zoo.registry import get_registry

    return get_registry().contracts


def contract_named(name: str) -> Contract:
    """The registered contract called ``name`` (`ConfigurationError` listing the known ones otherwise).

    Example:
        >>> contract_named("framed_audio").modality
        'audio'
    """
    known = _contracts()
    if name not in known:
        raise ConfigurationError(f"unknown contract {name!r}; registered contracts: {', '.join(sorted(known))} "
                                 "(a plugin adds one with the register_contracts hook)")
    return known[name]


def contract_for(spec: Any) -> Contract:
    """The contract of a backbone: its ``contract`` field, else the contract that lists its
    ``family``, else (a user's own entry) by its raw input: a text entry with a
    ``preprocessor`` is a ``bert_encoder``.

    Example:
        >>> import zoo
        >>> contract_for(zoo.BackboneSpec(name="m", modality="vision", handle="/m", output_dim=8,
        ...                               input_shape=(32, 32, 3))).name
        'image_feature_vector'
    """
    if getattr(spec, "contract", None):
        contract = contract_named(spec.contract)
        if contract.modality != spec.modality:
            raise ConfigurationError(f"backbone {spec.name!r}: contract {contract.name!r} takes {contract.modality} "
                                     f"input, but the entry's modality is {spec.modality!r}")
        return contract
    known = _contracts()
    family = getattr(spec, "family", "")
    for contract in known.values():
        if family and family in contract.families and contract.modality == spec.modality:
            return contract
    if getattr(spec, "preprocessor", None) and "bert_encoder" in known and spec.modality == known["bert_encoder"].modality:
        return known["bert_encoder"]
    return known[_BY_MODALITY[spec.modality]]


def contract_for_export(meta: dict) -> Contract:
    """The contract of an exported model, from its metadata (``contract``, else its modality).

    Example:
        >>> contract_for_export({"modality": "text"}).serving_input
        'text'
    """
    name = meta.get("contract") or _BY_MODALITY.get(meta.get("modality", ""), "")
    return contract_named(name)
