"""The pluggy hooks a zoo plugin implements (project name ``"zoo"``).

A plugin is a module registered under the entry-point group ``zoo.plugins``::

    import zoo

    @zoo.hookimpl
    def register_backbones(register):
        register(zoo.BackboneSpec(name="my_cnn", modality="vision", handle="/m/my_cnn",
                                  output_dim=512, input_shape=(224, 224, 3)))

Example:
    >>> from zoo.hookspecs import hookimpl
    >>> callable(hookimpl)
    True
"""

from __future__ import annotations

from typing import Callable

import pluggy

__all__ = ["hookimpl", "hookspec", "PROJECT", "ENTRY_POINT_GROUP", "ZooSpecs"]

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
    def register_tasks(self, register: Callable) -> None:
        """Call ``register(zoo.TaskSpec(...))`` once per task the plugin provides.

        Example:
            >>> @hookimpl
            ... def register_tasks(register): pass
        """
