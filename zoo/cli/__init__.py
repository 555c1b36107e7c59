"""The ``zoo`` command line: the parser and the built-in commands (registered through the
``register_commands`` hook, as a plugin's commands are).

Public surface: the names in ``__all__``; the ``_modules`` of this package are private.
Names load on first use (no TensorFlow at import).
"""

from __future__ import annotations

from zoo.lazy import attach

_EXPORTS = {
    "cmd_compare": "_compare",
    "cmd_export": "_export",
    "COMMAND_MODULES": "_heavy",
    "EPILOGS": "_heavy",
    "register_commands": "_heavy",
    "build_parser": "_main",
    "format_table": "_main",
    "main": "_main",
    "cmd_evaluate": "_run_commands",
    "cmd_predict": "_run_commands",
    "cmd_train": "_run_commands",
    "cmd_embed": "_batch",
    "cmd_bench": "_tools",
    "cmd_cache": "_tools",
    "cmd_demo": "_tools",
}

__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = attach(__name__, _EXPORTS)
