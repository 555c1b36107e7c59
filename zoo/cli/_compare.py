"""``zoo compare``: rank backbones on the user's data (see `zoo.compare`).

Example (prose: it needs cached modules)::

    main(["compare", "mobilenet_v2", "efficientnet_b0", "--data", "flowers", "--folds", "5"])
    # -> the ranked table; compare/compare.json, .csv and .png
"""

from __future__ import annotations

import argparse
import json

from zoo.quiet import quiet_tensorflow

__all__ = ["cmd_compare"]


def cmd_compare(args: argparse.Namespace) -> int:
    """Run `zoo.compare` with the command's arguments; print the table (or the JSON record)."""
    from zoo.runs import compare, parse_budget

    if args.names and (args.modality or args.tag):
        from zoo.errors import ConfigurationError

        raise ConfigurationError("give backbone names or --modality/--tag, not both")
    parse_budget(args.budget)  # a bad duration fails before TensorFlow loads
    quiet_tensorflow()
    result = compare(args.names, args.data, task=args.task, folds=args.folds, val_split=args.val_split or 0.2,
                     budget=args.budget, out=args.out, modality=args.modality, tag=args.tag, mlp=args.mlp,
                     fine_tune_top=args.fine_tune_top, batch_size=args.batch_size, seed=args.seed,
                     say=(lambda _m: None) if args.json else print)
    if args.json:
        print(json.dumps(result.record, indent=2, default=str))
    else:
        print(result.table())
        print(f"results: {result.out}/compare.json, compare.csv, compare.png")
    return 0
