"""`describe_module`: what a backbone's cached module really is, measured (``zoo info NAME --module``).

The evidence behind every registry entry, and the tool for a user's own module:
format, signatures, the call's input and output structure, the embedding width,
variable counts, the blocks as zoo groups them (first and last variable of each)
and what ``top:K`` would train. Reads the cache only: a module that is not cached
gives `ModuleNotCachedError` with the command that fetches it.

Example:
    report = describe_module(zoo.get("bert_small"))
    report["blocks"]["count"], report["top_k"]["1"]["scopes"][-1]
    # -> (4, 'pooler_transform')
"""

from __future__ import annotations

from typing import Any

from zoo.models._blocks import scope_names
from zoo.registry import BackboneSpec

__all__ = ["describe_module", "format_report"]


def _structure(value: Any) -> Any:
    """Shapes and dtypes of a (nested) traced structure, as plain strings."""
    if isinstance(value, dict):
        return {k: _structure(v) for k, v in sorted(value.items())}
    if isinstance(value, (list, tuple)):
        return [_structure(v) for v in value]
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None and dtype is not None:
        dims = "x".join("?" if d is None else str(d) for d in shape.as_list()) if shape.rank is not None else "?"
        return f"{dtype.name}[{dims}]"
    return repr(value)


def _call_signature(obj: Any) -> dict:
    fn = getattr(obj, "__call__", None)
    for cf in getattr(fn, "concrete_functions", None) or []:
        args, kwargs = cf.structured_input_signature
        return {"inputs": _structure(args[0] if args else kwargs), "outputs": _structure(cf.structured_outputs)}
    sigs = getattr(obj, "signatures", {}) or {}
    if "default" in sigs:
        cf = sigs["default"]
        return {"inputs": _structure(cf.structured_input_signature[1]), "outputs": _structure(cf.structured_outputs)}
    return {}


def describe_module(spec: BackboneSpec) -> dict:
    """Load ``spec``'s cached module(s) and measure what zoo sees (see the module docs).

    Example:
        describe_module(zoo.get("mobilenet_v2"))["blocks"]["count"]
        # -> 17
    """
    from zoo import hub as zhub
    from zoo.models._backbones import ensure_local_module, load_backbone

    ensure_local_module(spec)
    path = zhub.resolve(spec.handle, sha256=spec.sha256, offline=True)
    if spec.preprocessor:
        zhub.resolve(spec.preprocessor, offline=True)
    bb = load_backbone(spec)
    layer = bb.module
    obj = layer._func  # noqa: SLF001 - the loaded module object
    raw = getattr(obj, "module", obj)  # a TF1 module is wrapped for its signature
    groups = bb.groups
    report: dict[str, Any] = {
        "name": spec.name, "handle": spec.handle, "path": path, "format": bb.format,
        "signatures": sorted(getattr(raw, "signatures", {}) or {}),
        "call": _call_signature(raw),
        "trainable_variables": len(layer._trainable_weights),  # noqa: SLF001 - before any freeze selection
        "non_trainable_variables": len(layer.non_trainable_weights) - len(layer._trainable_weights)  # noqa: SLF001
        if not layer.trainable else len(layer.non_trainable_weights),
        "fine_tunable": spec.fine_tunable,
    }
    if bb.pre is not None:
        pre = bb.pre._func  # noqa: SLF001
        report["preprocessor"] = {
            "handle": spec.preprocessor, "seq_length": bb.seq_length,
            "has_tokenize": hasattr(pre, "tokenize"), "has_bert_pack_inputs": hasattr(pre, "bert_pack_inputs"),
            "call": _call_signature(pre),
        }
    report["output_dim"] = _measured_dim(bb, spec)
    blocks = [{"id": i, "variables": len(b), "first": b[0].name, "last": b[-1].name}
              for i, b in zip(groups.ids, groups.blocks)]
    report["blocks"] = {
        "pattern": groups.pattern, "count": len(groups), "registry": spec.blocks,
        "matched": groups.matched if groups.pattern else None,
        "stem": {"variables": len(groups.stem),
                 "scopes": scope_names(groups.stem, groups.pattern, depth=1, sample=groups.variables)},
        "list": blocks,
        "first_scopes": scope_names(groups.variables, depth=1, limit=8),
    }
    report["top_k"] = {}
    for k in (1, 2):
        if groups.matched and k <= len(groups):
            chosen = groups.top(k)
            report["top_k"][str(k)] = {"variables": len(chosen),
                                       "scopes": scope_names(chosen, groups.pattern, depth=1)}
    return report


def _measured_dim(bb: Any, spec: BackboneSpec) -> int | None:
    try:
        return int(bb(bb.contract.dummy_input(spec, 1)).shape[-1])
    except Exception as exc:  # noqa: BLE001 - reported, not raised: the report is the diagnosis
        return f"call failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}"  # type: ignore[return-value]


def format_report(report: dict) -> str:
    """The report as aligned text for the terminal.

    Example:
        >>> print(format_report({"name": "m", "format": "saved_model_2", "blocks": {"count": 0, "list": []}}))
        name    m
        format  saved_model_2
        blocks  0
    """
    lines = []
    scalars = {k: v for k, v in report.items() if not isinstance(v, (dict, list))}
    scalars.update({"signatures": ", ".join(report["signatures"])} if report.get("signatures") else {})
    scalars["blocks"] = report["blocks"]["count"]
    width = max(len(k) for k in scalars)
    lines += [f"{k.ljust(width)}  {v}" for k, v in scalars.items()]
    if report.get("call"):
        lines.append(f"call inputs   {report['call'].get('inputs')}")
        lines.append(f"call outputs  {report['call'].get('outputs')}")
    if report.get("preprocessor"):
        p = report["preprocessor"]
        lines.append(f"preprocessor  {p['handle']}: seq_length {p['seq_length']}, tokenize "
                     f"{'yes' if p['has_tokenize'] else 'no'}, bert_pack_inputs {'yes' if p['has_bert_pack_inputs'] else 'no'}")
    b = report["blocks"]
    if b.get("pattern"):
        lines.append(f"block pattern '{b['pattern']}' (registry blocks = {b['registry']}): "
                     + (f"{b['count']} blocks" if b["matched"] else "MATCHES NO VARIABLE: top:K is refused"))
    if b.get("stem"):
        lines.append(f"stem ({b['stem']['variables']} variables, trained by 'full' only): {', '.join(b['stem']['scopes'])}")
    for blk in b["list"]:
        lines.append(f"  block {blk['id']:<14} {blk['variables']:>4} variables  {blk['first']} .. {blk['last']}")
    for k, t in report.get("top_k", {}).items():
        lines.append(f"top:{k} trains {t['variables']} variables: {', '.join(t['scopes'])}")
    if b.get("pattern") and not b["matched"]:
        lines.append(f"the module's variables are named like: {', '.join(b['first_scopes'])}")
    return "\n".join(lines)
