"""The ``zoo`` command line. ``list``, ``info``, ``plugins`` and ``tasks`` never import TensorFlow.

Errors print one line on stderr (``zoo: error: ...``) and exit with status 2.

Example:
    main(["list", "--modality", "audio", "yam*"])
    # -> 0
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

from zoo.errors import PluginError, ZooError
from zoo.registry import hookimpl
from zoo.registry import PluginWarning
from zoo.registry import MODALITIES

__all__ = ["main", "build_parser", "format_table"]

EPILOG = {
    "list": "examples:\n  zoo list\n  zoo list --modality vision 'efficientnet*'\n  zoo list --tag multilingual --json",
    "info": "examples:\n  zoo info bert_small\n  zoo info yamnet --json\n"
            "  zoo info efficientnet_b0 --module     # load the cached module: blocks, top:K, signatures",
    "plugins": "examples:\n  zoo plugins\n  ZOO_PLUGINS=vision zoo plugins",
    "tasks": "examples:\n  zoo tasks",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, like every zoo error
        raise _UsageError(f"{self.prog}: {message} (see --help)")


class _UsageError(Exception):
    pass


def format_table(rows: list[list[str]], header: list[str]) -> str:
    """Left-aligned columns separated by two spaces.

    Example:
        >>> print(format_table([["a", "1"]], ["name", "dim"]))
        name  dim
        a     1
    """
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *rows]]
    return "\n".join(lines)


def _cmd_list(args: argparse.Namespace) -> int:
    import zoo

    specs = zoo.list_backbones(modality=args.modality, pattern=args.pattern, tag=args.tag)
    if args.json:
        print(json.dumps([s.to_dict() for s in specs], indent=2))
        return 0
    rows = [[s.name, s.modality, str(s.output_dim), s.input_description, s.family, s.plugin] for s in specs]
    print(format_table(rows, ["NAME", "MODALITY", "DIM", "INPUT", "FAMILY", "PLUGIN"]))
    return 0


def _cmd_info(args: argparse.Namespace) -> int:
    import zoo
    from zoo.models import default_freeze

    run_json = Path(args.name).expanduser() / "run.json"
    if run_json.is_file():  # a run folder: what produced it (no TensorFlow)
        from zoo.runs import format_provenance

        info = json.loads(run_json.read_text(encoding="utf-8"))
        print(json.dumps(info, indent=2) if args.json else format_provenance(info))
        return 0

    spec = zoo.get(args.name)
    if args.module:  # measures the cached module: the only form of `zoo info` that imports TensorFlow
        from zoo.models import describe_module, format_report

        report = describe_module(spec)
        print(json.dumps(report, indent=2, default=str) if args.json else format_report(report))
        return 0
    d = spec.to_dict()
    d.pop("extra", None)
    d["default_freeze"] = default_freeze(spec)
    d["blocks"] = spec.blocks if spec.block_pattern else None
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    if spec.override:
        print(f"NOTE: {spec.name} is overridden by {spec.source}")
    if not spec.pretrained:
        print(f"NOTE: {spec.name} is NOT pretrained (random weights, built locally)")
    width = max(len(k) for k in d)
    for k, v in d.items():
        if isinstance(v, list):
            v = (", ".join(map(str, v)) if k == "tags" else "x".join(map(str, v)) if k == "input_shape"
                 else "[{:g}, {:g}]".format(*v) if k == "input_range" else ", ".join(map(str, v)))
        if k == "blocks" and v is None:
            v = ("counted from the module's variables at build time (generic grouping)" if spec.source != "registry.toml"
                 else "not published for this module: top:K and layer_decay are refused")
        if k == "kaggle" and v is None and spec.handle.startswith("https://tfhub.dev/"):
            v = "not recorded; the tfhub.dev page redirects to it"
        print(f"{k.ljust(width)}  {'' if v is None else v}")
    if spec.block_pattern and spec.fine_tunable:
        print(f"{'top:K'.ljust(width)}  trains the K highest of the {spec.blocks} blocks that block_pattern finds "
              "(numbered from the bottom) and the variables above them; the stem below the first block trains "
              f"only under 'full'. `zoo info {spec.name} --module` shows the real variables of each block")
    return 0


def _cmd_plugins(args: argparse.Namespace) -> int:
    import zoo

    plugins = zoo.list_plugins()
    if args.json:
        print(json.dumps([p.__dict__ for p in plugins], indent=2))
        return 0
    rows = []
    for p in plugins:
        what = ", ".join(filter(None, [
            f"{len(p.backbones)} backbones" if p.backbones else "", f"{len(p.tasks)} tasks" if p.tasks else "",
            f"{len(p.contracts)} contracts" if p.contracts else "",
        ])) or "-"
        rows.append([p.name, p.dist or "-", p.version or "-", "built-in" if p.builtin else "third-party",
                     p.status if p.status == "ok" else f"FAILED: {p.error}", what])
    print(format_table(rows, ["PLUGIN", "DIST", "VERSION", "KIND", "STATUS", "REGISTERED"]))
    return 1 if any(p.status != "ok" for p in plugins) and args.strict else 0


def _cmd_tasks(args: argparse.Namespace) -> int:
    import zoo

    rows = [[t.name, "/".join(t.modalities) or "all", "yes" if t.needs_num_classes else "no", t.description]
            for t in zoo.list_tasks()]
    print(format_table(rows, ["TASK", "MODALITIES", "NUM_CLASSES", "DESCRIPTION"]))
    return 0


class Commands:
    """What a ``register_commands(cli)`` hook receives: ``cli.add(name, help, run)`` adds a
    subcommand and returns its argparse parser (add arguments to it); ``run(args) -> int``.

    Example:
        >>> sub = argparse.ArgumentParser().add_subparsers()
        >>> Commands(sub).add("hello", "say hello", lambda args: 0).prog.endswith("hello")
        True
    """

    def __init__(self, sub: Any) -> None:
        self._sub = sub
        self.names: list[str] = []

    def add(self, name: str, help: str, run: Callable[[argparse.Namespace], int] | None = None, *,  # noqa: A002
            epilog: str | None = None) -> argparse.ArgumentParser:
        """Add subcommand ``name``; `PluginError` if another command has that name."""
        if name in self.names:
            raise PluginError(f"command {name!r} is registered twice")
        self.names.append(name)
        parser = self._sub.add_parser(name, help=help, description=help, epilog=epilog or EPILOG.get(name),
                                      formatter_class=argparse.RawDescriptionHelpFormatter)
        if run is not None:
            parser.set_defaults(func=run)
        return parser


@hookimpl
def register_commands(cli: Commands) -> None:
    """zoo's registry commands (``list``, ``info``, ``plugins``, ``tasks``; no TensorFlow).

    Example:
        >>> cli = Commands(argparse.ArgumentParser().add_subparsers()); register_commands(cli); cli.names
        ['list', 'info', 'plugins', 'tasks']
    """
    s = cli.add("list", "list registered backbones", _cmd_list)
    s.add_argument("pattern", nargs="?", help="shell-style wildcard on the name, e.g. 'efficientnet*'")
    s.add_argument("--modality", choices=list(MODALITIES))
    s.add_argument("--tag")
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s = cli.add("info", "show every field of one backbone, or what produced a run folder", _cmd_info)
    s.add_argument("name", help="a registered backbone, or a run folder (prints its run.json record)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--module", action="store_true",
                   help="load the cached module and print what was measured (format, signatures, blocks, top:K)")
    s = cli.add("plugins", "list loaded plugins, what each registered, and failures", _cmd_plugins)
    s.add_argument("--json", action="store_true")
    s.add_argument("--strict", action="store_true", help="exit 1 if a plugin failed")
    cli.add("tasks", "list registered tasks", _cmd_tasks)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser of the ``zoo`` command: zoo's commands and those plugins add through
    the ``register_commands`` hook (a plugin whose hook fails is skipped with a warning).

    Example:
        >>> build_parser().parse_args(["info", "use"]).name
        'use'
    """
    from zoo.cli import _batch as cli_batch
    from zoo.cli import _contrastive as cli_contrastive
    from zoo.cli import _heavy as cli_heavy
    from zoo.registry import get_registry

    p = _Parser(prog="zoo", description="zoo: a multi-modal TF Hub model zoo for transfer learning.",
                formatter_class=argparse.RawDescriptionHelpFormatter,
                epilog="examples:\n  zoo demo\n  zoo list --modality vision\n  zoo train mobilenet_v2 --task classification --data ./flowers --out runs/flowers")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    cli = Commands(sub)
    register_commands(cli)  # built-ins: the same hook as plugins
    cli_heavy.register_commands(cli)
    cli_batch.register_commands(cli)
    cli_contrastive.register_commands(cli)
    try:
        plugin_impls = get_registry().pm.hook.register_commands.get_hookimpls()
    except ZooError:  # e.g. a broken user registry file: the command that needs the registry reports it
        plugin_impls = []
    for impl in plugin_impls:
        try:
            impl.function(cli=cli)
        except Exception as exc:  # noqa: BLE001 - a plugin must never break the CLI
            warnings.warn(f"zoo plugin {impl.plugin_name!r}: register_commands failed ({type(exc).__name__}: {exc}); "
                          "its commands are skipped", PluginWarning, stacklevel=2)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status.

    Example:
        main(["info", "no_such_model"])
        # -> 2
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    saved_format = warnings.formatwarning  # main() may run in-process (tests, notebooks): restore on return
    with warnings.catch_warnings():
        warnings.simplefilter("default", UserWarning)
        warnings.formatwarning = lambda msg, cat, *a, **k: f"zoo: warning: {' '.join(str(msg).split())}\n"
        try:
            return _main(argv)
        finally:
            warnings.formatwarning = saved_format


def _main(argv: list[str]) -> int:
    from zoo.cli._batch import split_beam_args

    try:
        argv, beam_args = split_beam_args(argv)
        args = build_parser().parse_args(argv)
        args.beam_args = beam_args
        if getattr(args, "check_args", None):  # what argparse cannot express, before the command runs
            args.check_args(args)
        return int(args.func(args) or 0)
    except _UsageError as exc:  # argparse echoes raw argv (e.g. unrecognized arguments): keep it one line
        print(f"zoo: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except ZooError as exc:
        msg = " ".join(str(exc).split())
        print(f"zoo: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("zoo: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # pragma: no cover
        return 0
