"""The pluggy hooks a zoo plugin implements (project name ``"zoo"``).

A plugin is a module registered under the entry-point group ``zoo.plugins``::

    import zoo

    @zoo.hookimpl
    def register_backbones(register):
        register(zoo.BackboneSpec(name="my_cnn", modality="vision", handle="/m/my_cnn",
                                  output_dim=512, input_shape=(224, 224, 3)))

Example:
    >>> from zoo.registry._hookspecs import hookimpl
    >>> callable(hookimpl)
    True
"""

from __future__ import annotations

from typing import Any, Callable

import pluggy

__all__ = ["hookimpl", "hookspec", "PROJECT", "ENTRY_POINT_GROUP", "ZooSpecs", "HOOK_NAMES"]

PROJECT = "zoo"
ENTRY_POINT_GROUP = "zoo.plugins"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


class ZooSpecs:
    """Hook specifications."""

    @hookspec
    def register_backbones(self, register: Callable) -> None:
        """Call ``register(zoo.BackboneSpec(...))`` once per backbone the plugin provides.

        Example:
            >>> @hookimpl
            ... def register_backbones(register): pass
        """

    @hookspec
    def register_contracts(self, register: Callable) -> None:
        """Call ``register(contract)`` once per calling contract (a `zoo.models.contracts.Contract` instance)
        the plugin provides: how a family of modules zoo does not know is called, served and tested.

        Example:
            >>> @hookimpl
            ... def register_contracts(register): pass
        """

    @hookspec
    def register_commands(self, cli: Any) -> None:
        """Add ``zoo`` subcommands: ``cli.add(name, help, run)`` returns the argparse parser of a new
        command (add its arguments); ``run(args)`` returns the exit status. zoo's own commands
        come through this hook too; keep imports of heavy modules inside ``run``.

        Example:
            >>> @hookimpl
            ... def register_commands(cli):
            ...     cli.add("hello", "say hello", lambda args: print("hello") or 0)
        """

    @hookspec
    def register_tasks(self, register: Callable) -> None:
        """Call ``register(zoo.TaskSpec(...))`` once per task the plugin provides.

        Example:
            >>> @hookimpl
            ... def register_tasks(register): pass
        """


HOOK_NAMES = tuple(n for n in vars(ZooSpecs) if n.startswith("register_"))
