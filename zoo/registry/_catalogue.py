"""Reading backbone entries from TOML: the built-in ``registry.toml`` and user files.

Format: one table per backbone, named by the backbone::

    [my_encoder]
    modality = "text"
    handle = "/models/my_encoder"
    output_dim = 256

A user file (``ZOO_REGISTRY`` or ``~/.config/zoo/registry.toml``) may also
change an existing backbone: ``override = true`` plus the fields to change.

Example:
    >>> from zoo.registry._catalogue import parse_registry_text
    >>> entries = parse_registry_text('[m]\\nmodality = "text"\\nhandle = "/m"\\noutput_dim = 4\\n', "x.toml")
    >>> entries["m"]["output_dim"]
    4
"""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from zoo.errors import InvalidSpecError, RegistryFileError
from zoo.registry._spec import SPEC_FIELDS, BackboneSpec

__all__ = [
    "parse_registry_text",
    "load_registry_file",
    "spec_from_entry",
    "builtin_entries",
    "builtin_specs",
    "user_registry_path",
]

_TYPES: dict[str, tuple[type, ...]] = {
    "modality": (str,), "handle": (str,), "output_dim": (int,), "preprocessor": (str,),
    "input_shape": (list,), "sample_rate": (int,), "output_key": (str,), "fine_tunable": (bool,),
    "family": (str,), "license": (str,), "tags": (list,), "description": (str,), "sha256": (str,),
    "block_pattern": (str,), "block_stages": (list,), "blocks": (int,), "seq_length": (int,), "text_ops": (bool,),
    "pretrained": (bool,), "builder": (str,), "override": (bool,), "plugin": (str,),
    "format": (str,), "input_range": (list,), "pooling": (str,), "page": (str,), "kaggle": (str,), "contract": (str,),
}
_NOT_FROM_FILE = {"name", "source", "extra"}
REQUIRED = ("modality", "handle", "output_dim")


def parse_registry_text(text: str, path: str) -> dict[str, dict[str, Any]]:
    """Parse and type-check registry TOML; return ``{name: {field: value}}``.

    Raises `RegistryFileError` naming ``path``, the entry and the field.

    Example:
        >>> parse_registry_text('[a]\\nhandle = "/a"\\n', "r.toml")["a"]["handle"]
        '/a'
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryFileError(f"{path}: not valid TOML ({exc}); fix the syntax or remove the file") from None
    except RecursionError:  # tomllib recurses per nesting level: "a = [[[[...]]]]"
        raise RegistryFileError(f"{path}: arrays or tables nested too deeply; a registry entry needs no nesting") from None
    out: dict[str, dict[str, Any]] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict):
            raise RegistryFileError(
                f"{path}: entry {name!r} must be a table like [{name}] with fields, got a {type(entry).__name__}"
            )
        for key, value in entry.items():
            if key not in _TYPES:
                allowed = ", ".join(sorted(_TYPES))
                raise RegistryFileError(f"{path}: entry {name!r}: unknown field {key!r}; known fields: {allowed}")
            types = _TYPES[key]
            if isinstance(value, bool) and bool not in types:
                raise RegistryFileError(f"{path}: entry {name!r}: field {key!r} must be {types[0].__name__}, got {value!r}")
            if not isinstance(value, types):
                raise RegistryFileError(
                    f"{path}: entry {name!r}: field {key!r} must be {types[0].__name__}, got {type(value).__name__} {value!r}"
                )
        out[name] = dict(entry)
    return out


def load_registry_file(path: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Read a registry TOML file from disk (see `parse_registry_text`).

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.toml"
        >>> _ = p.write_text('[a]\\nhandle = "/a"\\n')
        >>> list(load_registry_file(p))
        ['a']
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise RegistryFileError(f"{p}: cannot read registry file ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RegistryFileError(f"{p}: registry file is not UTF-8 text") from None
    return parse_registry_text(text, str(p))


def spec_from_entry(name: str, entry: dict[str, Any], *, source: str, plugin: str = "",
                    base: BackboneSpec | None = None) -> BackboneSpec:
    """Turn one parsed entry into a `BackboneSpec`; ``base`` is the spec an override changes.

    Example:
        >>> spec_from_entry("m", {"modality": "text", "handle": "/m", "output_dim": 8}, source="x").output_dim
        8
    """
    if not isinstance(entry, dict):
        raise RegistryFileError(f"{source}: entry {name!r} must be a table of fields, got {type(entry).__name__}")
    fields = {k: v for k, v in entry.items() if k in SPEC_FIELDS and k not in _NOT_FROM_FILE}
    for key in ("input_shape", "tags", "input_range"):  # TOML arrays -> tuples; anything else is left for the spec to reject
        if isinstance(fields.get(key), list):
            fields[key] = tuple(fields[key])
    try:
        if base is not None:
            return base.replace(source=source, **fields)
        missing = [f for f in REQUIRED if f not in fields]
        if missing:
            raise RegistryFileError(
                f"{source}: entry {name!r}: missing required field {missing[0]!r} (required: {', '.join(REQUIRED)})"
            )
        fields.setdefault("plugin", plugin)
        return BackboneSpec(name=name, source=source, **fields)
    except InvalidSpecError as exc:
        raise RegistryFileError(f"{source}: entry {name!r}: {exc}") from None
    except TypeError as exc:  # pragma: no cover - guarded by _TYPES
        raise RegistryFileError(f"{source}: entry {name!r}: {exc}") from None


def builtin_entries() -> dict[str, dict[str, Any]]:
    """The parsed built-in ``registry.toml`` shipped with zoo.

    Example:
        >>> builtin_entries()["mobilenet_v2"]["output_dim"]
        1280
    """
    text = resources.files("zoo.registry").joinpath("registry.toml").read_text(encoding="utf-8")
    return parse_registry_text(text, "registry.toml")


def builtin_specs(modality: str, plugin: str) -> list[BackboneSpec]:
    """Specs of the built-in catalogue for one modality (what a built-in plugin registers).

    Example:
        >>> "yamnet" in [s.name for s in builtin_specs("audio", "audio")]
        True
    """
    return [
        spec_from_entry(name, e, source="registry.toml", plugin=plugin)
        for name, e in builtin_entries().items()
        if e.get("modality") == modality
    ]


def user_registry_path() -> Path | None:
    """The user registry file in force: ``$ZOO_REGISTRY`` or ``~/.config/zoo/registry.toml``.

    Example:
        >>> import os; os.environ["ZOO_REGISTRY"] = "/tmp/r.toml"
        >>> str(user_registry_path())
        '/tmp/r.toml'
        >>> del os.environ["ZOO_REGISTRY"]
    """
    env = os.environ.get("ZOO_REGISTRY")
    if env:
        return Path(env).expanduser()
    default = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "zoo" / "registry.toml"
    return default if default.exists() else None
