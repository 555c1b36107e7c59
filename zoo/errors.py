"""Every error zoo raises, in one tree.

    ZooError                      base class: catch this to catch everything zoo raises
    ├── UnknownBackboneError      also a KeyError: no backbone of that name
    ├── UnknownTaskError          also a KeyError: no task of that name
    ├── InvalidSpecError          also a ValueError: a BackboneSpec / registry entry is wrong
    ├── RegistryFileError         a registry TOML file cannot be read or is malformed
    ├── PluginError               a plugin failed to load or registered something invalid
    ├── DuplicateBackboneError    two sources registered the same name
    ├── ConfigurationError        also a ValueError: bad argument to build / fit / a CLI flag
    │   ├── FreezeSpecError       a freeze spec such as "top:99" does not fit the backbone
    │   └── StrategyError         unknown or unavailable tf.distribute strategy
    ├── InputError                also a ValueError: input data of the wrong kind, shape or range
    ├── DataError                 a data folder / CSV cannot be turned into a dataset
    ├── ModuleLoadError           a TF Hub module cannot be loaded
    │   ├── ModuleNotCachedError  offline and the module is not in the cache
    │   ├── CorruptCacheError     a cache entry is half-written or damaged
    │   ├── IntegrityError        sha256 of the module archive does not match the pin
    │   ├── OutputDimMismatchError  module returns another width than the spec says
    │   └── ModuleFormatError     the module's format cannot do what was asked (e.g. fine-tune TF1 Hub format)
    ├── UnsafeArchiveError        a bundle tries to write outside its target
    └── ExportError               a model cannot be exported in the requested format

Every message names the bad value and, where there is one, the fix; the values are also
attributes of the error (``err.handle``, ``err.path``, ``err.context``).

Warnings derive from ``ZooWarning`` (a ``UserWarning``): ``BlockCountWarning``
says that a module's measured block count differs from its registry entry.

Example:
    >>> import zoo
    >>> try:
    ...     zoo.get("mobilenet_v9")
    ... except zoo.ZooError as err:
    ...     print(type(err).__name__)
    UnknownBackboneError
"""

from __future__ import annotations

__all__ = [
    "ZooError",
    "UnknownBackboneError",
    "UnknownTaskError",
    "InvalidSpecError",
    "RegistryFileError",
    "PluginError",
    "DuplicateBackboneError",
    "ConfigurationError",
    "FreezeSpecError",
    "StrategyError",
    "InputError",
    "DataError",
    "ModuleLoadError",
    "ModuleNotCachedError",
    "CorruptCacheError",
    "IntegrityError",
    "OutputDimMismatchError",
    "UnsafeArchiveError",
    "ExportError",
    "ModuleFormatError",
    "StorageError",
    "ZooWarning",
    "BlockCountWarning",
    "CheckpointWarning",
]


class ZooError(Exception):
    """Base class of every error raised by zoo.

    Besides the message, an error carries what it is about as attributes (``handle``,
    ``path``, ``backbone``, ``expected``, ``actual``, ...; all of them in ``context``),
    so that code can act on it without parsing the text.

    Example:
        >>> err = ZooError("module is gone", handle="https://tfhub.dev/google/yamnet/1")
        >>> str(err), err.handle, err.context
        ('module is gone', 'https://tfhub.dev/google/yamnet/1', {'handle': 'https://tfhub.dev/google/yamnet/1'})
    """

    def __init__(self, *args: object, **context: object) -> None:
        super().__init__(*args)
        self.context = dict(context)
        for key, value in context.items():
            setattr(self, key, value)


class _KeyErrorMessage(KeyError):
    # KeyError.__str__ wraps the message in quotes; keep it readable.
    def __str__(self) -> str:  # pragma: no cover - trivial
        return str(self.args[0]) if self.args else ""


class UnknownBackboneError(ZooError, _KeyErrorMessage):
    """No backbone is registered under that name (message lists the closest names)."""


class UnknownTaskError(ZooError, _KeyErrorMessage):
    """No task is registered under that name (message lists the closest names)."""


class InvalidSpecError(ZooError, ValueError):
    """A BackboneSpec or registry entry has a bad field; the message names the field."""


class RegistryFileError(ZooError):
    """A registry TOML file is malformed; the message names the file, entry and field."""


class PluginError(ZooError):
    """A plugin failed to import, raised in a hook, or registered an invalid spec."""


class DuplicateBackboneError(ZooError):
    """Two plugins (or files) registered the same backbone name; both are named."""


class ConfigurationError(ZooError, ValueError):
    """A bad argument to ``zoo.build``/``zoo.fit`` or a CLI flag."""


class FreezeSpecError(ConfigurationError):
    """A freeze spec (``"frozen"``, ``"full"``, ``"top:K"``) that does not fit the backbone."""


class StrategyError(ConfigurationError):
    """An unknown or unavailable ``tf.distribute`` strategy."""


class InputError(ZooError, ValueError):
    """Input data of the wrong kind, shape, dtype or value range."""


class DataError(ZooError):
    """A data folder or CSV file cannot be turned into a dataset."""


class ModuleLoadError(ZooError):
    """A TF Hub module could not be resolved or loaded."""


class ModuleNotCachedError(ModuleLoadError):
    """Offline, and the module is not in the cache (message gives the prefetch/unpack fix)."""


class CorruptCacheError(ModuleLoadError):
    """A cache entry is half-written or damaged; the message gives its exact path."""


class IntegrityError(ModuleLoadError):
    """The module archive's sha256 differs from the registry pin (both digests named)."""


class OutputDimMismatchError(ModuleLoadError):
    """The module's embedding width differs from the spec's ``output_dim`` (both named)."""


class UnsafeArchiveError(ZooError):
    """A bundle member would be written outside the target directory, or is too large."""


class ExportError(ZooError):
    """A model cannot be exported in the requested format (e.g. unsupported TFLite ops)."""


class StorageError(ZooError):
    """A file could not be written (disk full, file size limit, quota, read-only): the error names
    the path (``err.path``) and says what was kept (the previous checkpoint or export is intact)."""


class ModuleFormatError(ModuleLoadError):
    """The module's format (e.g. legacy TF1 Hub format) cannot do what was asked; the format is named."""


class ZooWarning(UserWarning):
    """Base class of zoo's warnings: something zoo handled but that may not be what the user meant."""


class BlockCountWarning(ZooWarning):
    """A loaded module has another number of blocks than its registry entry's ``blocks`` (both named)."""


class CheckpointWarning(ZooWarning):
    """A run's newest checkpoint could not be read (truncated, corrupted): ``--resume`` continued
    from the one before it; the message names both."""
