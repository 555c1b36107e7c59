"""The registry: backbones and tasks collected from plugins and user TOML files.

Built once per process, lazily, on first use. Plugins come from entry points
in the group ``zoo.plugins`` (the built-in vision, text and audio plugins too),
then the user registry file adds or overrides entries. Nothing here imports
TensorFlow.

Environment:
    ZOO_PLUGINS=a,b                  load only these entry-point plugins
    ZOO_DISABLE_PLUGIN_AUTOLOAD=1    load no entry-point plugin unless named in ZOO_PLUGINS
    ZOO_REGISTRY=path.toml           user registry file (default ~/.config/zoo/registry.toml)

Example:
    >>> import zoo
    >>> [s.name for s in zoo.list_backbones(pattern="mobilenet_v3_*_075")]
    ['mobilenet_v3_large_075', 'mobilenet_v3_small_075']
"""

from __future__ import annotations

import difflib
import importlib
import os
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from zoo.registry._catalogue import load_registry_file, spec_from_entry, user_registry_path
from zoo.registry._contract import Contract
from zoo.errors import (  # noqa: I001
    ZooWarning,
    DuplicateBackboneError, InvalidSpecError, UnknownBackboneError, UnknownTaskError,
)
from zoo.registry._hookspecs import ENTRY_POINT_GROUP, HOOK_NAMES, PROJECT, ZooSpecs
from zoo.registry._spec import MODALITIES, BackboneSpec

__all__ = ["PluginInfo", "PluginWarning", "Registry", "closest", "BUILTIN_PLUGINS"]

BUILTIN_DIST = "zoo"
# zoo's own contracts and tasks: loaded by name, like entry-point plugins, through the same hooks
BUILTIN_PLUGINS = (("contracts", "zoo.models.contracts"), ("tasks", "zoo.registry._tasks"))


# what a broken plugin may raise and the registry isolates: errors, and a plugin's own sys.exit();
# KeyboardInterrupt, GeneratorExit and MemoryError are the process's, never swallowed
_PLUGIN_FAILURES = (Exception, SystemExit)


class PluginWarning(ZooWarning):
    """A plugin was skipped because it failed; the message names it and the error."""


@dataclass
class PluginInfo:
    """What `zoo plugins` shows for one plugin.

    Example:
        >>> PluginInfo(name="vision").status
        'ok'
    """

    name: str
    dist: str = ""
    version: str = ""
    builtin: bool = False
    status: str = "ok"
    error: str = ""
    backbones: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    contracts: list[str] = field(default_factory=list)


def closest(name: str, choices: list[str], n: int = 3) -> list[str]:
    """Registered names closest to ``name`` (for "did you mean").

    Example:
        >>> closest("mobilenet_v9", ["mobilenet_v2", "use"])
        ['mobilenet_v2']
    """
    found = difflib.get_close_matches(str(name), choices, n=n, cutoff=0.5)
    prefix = [c for c in choices if str(name) and c.startswith(str(name)) and c not in found]
    return (found + prefix)[:n]


class Registry:
    """Backbones and tasks from every plugin plus the user registry file.

    Example:
        >>> reg = Registry().load()
        >>> reg.get("yamnet").modality
        'audio'
    """

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(PROJECT)
        self.pm.add_hookspecs(ZooSpecs)
        self.backbones: dict[str, BackboneSpec] = {}
        self.tasks: dict[str, Any] = {}
        self.contracts: dict[str, Any] = {}
        self.plugins: list[PluginInfo] = []

    # ---- loading -------------------------------------------------------------------------
    def load(self, extra_plugins: list[tuple[str, Any]] | None = None) -> "Registry":
        """Load entry-point plugins, ``extra_plugins`` ``(name, module)``, then the user file."""
        for name, module_name in BUILTIN_PLUGINS:  # built-ins use the same hooks as plugins
            module = importlib.import_module(module_name)
            self._add_plugin(name, module, PluginInfo(name=name, dist=BUILTIN_DIST, builtin=True,
                                                      version=_dist_version(BUILTIN_DIST)))
        for ep in self._entry_points():
            dist = ep.dist.name if ep.dist is not None else ""
            info = PluginInfo(name=ep.name, dist=dist, version=ep.dist.version if ep.dist else "",
                              builtin=_normal(dist) == BUILTIN_DIST)
            try:
                module = ep.load()
            except _PLUGIN_FAILURES as exc:  # a plugin must never break the registry
                if isinstance(exc, MemoryError):
                    raise
                self._fail(info, f"failed to import: {type(exc).__name__}: {exc}")
                continue
            self._add_plugin(ep.name, module, info)
        for name, module in extra_plugins or []:
            self._add_plugin(name, module, PluginInfo(name=name, version=getattr(module, "__version__", "")))
        self._apply_user_file()
        return self

    @staticmethod
    def _entry_points() -> list[metadata.EntryPoint]:
        allow = {p.strip() for p in os.environ.get("ZOO_PLUGINS", "").split(",") if p.strip()}
        no_auto = os.environ.get("ZOO_DISABLE_PLUGIN_AUTOLOAD", "").lower() in ("1", "true", "yes")
        eps = list(metadata.entry_points(group=ENTRY_POINT_GROUP))
        seen: set[str] = set()
        chosen = []
        for ep in eps:
            dist = ep.dist.name if ep.dist is not None else ""
            if ep.name in seen:
                continue
            if allow and ep.name not in allow and dist not in allow:
                continue
            if no_auto and not allow:
                continue
            seen.add(ep.name)
            chosen.append(ep)
        # built-ins first, so that a third-party plugin is the one blamed for a clash
        chosen.sort(key=lambda e: (_normal(e.dist.name if e.dist else "") != BUILTIN_DIST, e.name))
        return chosen

    def _fail(self, info: PluginInfo, message: str) -> None:
        message = " ".join(message.split())  # one line in `zoo plugins` and in the warning
        info.status, info.error = "failed", message
        info.backbones, info.tasks, info.contracts = [], [], []
        self.plugins.append(info)
        warnings.warn(f"zoo plugin {info.name!r} skipped: {message}", PluginWarning, stacklevel=3)

    def _add_plugin(self, name: str, module: Any, info: PluginInfo) -> None:
        staged_b: dict[str, BackboneSpec] = {}
        staged_t: dict[str, Any] = {}
        staged_c: dict[str, Any] = {}

        def register_contract(contract: Any) -> None:
            if isinstance(contract, type) and issubclass(contract, Contract):
                contract = contract()
            if not isinstance(contract, Contract) or not contract.name or contract.modality not in MODALITIES:
                raise InvalidSpecError(f"register() takes a zoo.Contract with a name and a modality in "
                                       f"{MODALITIES}, got {contract!r}")
            self._check_free(contract.name, name, staged_c, self.contracts, "contract")
            staged_c[contract.name] = contract

        def register_backbone(spec: Any) -> None:
            if not isinstance(spec, BackboneSpec):
                raise InvalidSpecError(f"register() takes a zoo.BackboneSpec, got {type(spec).__name__}")
            if not spec.plugin or spec.plugin != name:
                spec = spec.replace(plugin=name, source=spec.source or f"plugin {name}")
            self._check_free(spec.name, name, staged_b, self.backbones, "backbone")
            staged_b[spec.name] = spec

        def register_task(task: Any) -> None:
            tname = getattr(task, "name", None)
            if not isinstance(tname, str) or not tname:
                raise InvalidSpecError(f"register() takes a zoo.TaskSpec with a name, got {task!r}")
            self._check_free(tname, name, staged_t, self.tasks, "task")
            staged_t[tname] = task

        try:
            self.pm.register(module, name=name)
        except Exception as exc:  # noqa: BLE001 - e.g. a hook with a bad signature
            self._fail(info, f"cannot be registered: {exc}")
            return
        try:  # a @zoo.hookimpl whose name is no zoo hook (a typo) would otherwise do nothing, silently
            self.pm.check_pending()
        except Exception as exc:  # noqa: BLE001 - pluggy.PluginValidationError
            self.pm.unregister(name=name)
            self._fail(info, f"cannot be registered: {exc}; zoo's hooks are {', '.join(HOOK_NAMES)}")
            return
        try:
            for impl in self.pm.hook.register_contracts.get_hookimpls():
                if impl.plugin_name == name:
                    impl.function(register=register_contract)
            for impl in self.pm.hook.register_backbones.get_hookimpls():
                if impl.plugin_name == name:
                    impl.function(register=register_backbone)
            for impl in self.pm.hook.register_tasks.get_hookimpls():
                if impl.plugin_name == name:
                    impl.function(register=register_task)
        except _PLUGIN_FAILURES as exc:
            if isinstance(exc, MemoryError):
                raise
            self.pm.unregister(name=name)
            self._fail(info, f"{type(exc).__name__}: {exc}")
            return
        self.backbones.update(staged_b)
        self.tasks.update(staged_t)
        self.contracts.update(staged_c)
        info.backbones, info.tasks, info.contracts = sorted(staged_b), sorted(staged_t), sorted(staged_c)
        self.plugins.append(info)

    def _check_free(self, name: str, plugin: str, staged: dict, existing: dict, kind: str) -> None:
        if name in staged:
            raise DuplicateBackboneError(f"plugin {plugin!r} registers {kind} {name!r} twice")
        if name in existing:
            other = getattr(existing[name], "plugin", "") or "?"
            raise DuplicateBackboneError(
                f"{kind} {name!r} is registered by both plugin {other!r} and plugin {plugin!r}; rename one, or replace it "
                f"from your registry TOML with override = true"
            )

    def _apply_user_file(self) -> None:
        path = user_registry_path()
        if path is None:
            return
        entries = load_registry_file(path)  # malformed file: a RegistryFileError the user must see
        for name, entry in entries.items():
            base = self.backbones.get(name)
            if base is not None and not entry.get("override", False):
                raise DuplicateBackboneError(
                    f"{path}: entry {name!r} is already registered by plugin {base.plugin!r}; add "
                    f"'override = true' to the entry to replace it, or pick another name"
                )
            spec = spec_from_entry(name, entry, source=str(path), plugin="user", base=base)
            if base is not None:
                spec = spec.replace(override=True)
            self.backbones[name] = spec

    # ---- queries -------------------------------------------------------------------------
    def get(self, name: str) -> BackboneSpec:
        """The spec called ``name``; `UnknownBackboneError` with suggestions otherwise."""
        try:
            return self.backbones[name]
        except (KeyError, TypeError):
            pass
        hint = closest(str(name), sorted(self.backbones))
        tip = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
        raise UnknownBackboneError(f"unknown backbone {name!r}{tip} (run `zoo list` to see all)")

    def get_task(self, name: str) -> Any:
        """The task called ``name``; `UnknownTaskError` with suggestions otherwise."""
        try:
            return self.tasks[name]
        except (KeyError, TypeError):
            pass
        hint = closest(str(name), sorted(self.tasks))
        tip = f"; did you mean {', '.join(map(repr, hint))}?" if hint else ""
        raise UnknownTaskError(f"unknown task {name!r}{tip}; known tasks: {', '.join(sorted(self.tasks))}")


def _normal(dist: str) -> str:
    return dist.lower().replace("_", "-")


def _dist_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return ""


