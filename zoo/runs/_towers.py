"""The two towers of a contrastive ``zoo train`` run: ``NAME`` (image or audio) and ``--text-backbone``.

Example:
    >>> from zoo.runs import RunConfig
    >>> import zoo
    >>> check_towers(RunConfig("starter_cnn", "/d", task="contrastive"), zoo.get("starter_cnn"), zoo.get_task("contrastive"))
    Traceback (most recent call last):
    ...
    zoo.errors.ConfigurationError: a contrastive run has two towers: give the text one, e.g. zoo train starter_cnn --task contrastive --text-backbone use --data captions.csv
"""

from __future__ import annotations

from typing import Any

from zoo.errors import ConfigurationError
from zoo.runs._rundir import RunConfig

__all__ = ["check_towers", "CONTRASTIVE"]

CONTRASTIVE = "contrastive"  # two backbones, (file, caption) data, retrieval recall instead of accuracy


def check_towers(cfg: RunConfig, spec: Any, task: Any) -> None:
    """A contrastive run names its text tower (``--text-backbone``); other runs must not."""
    import zoo

    if task.name != CONTRASTIVE:
        if cfg.text_backbone or cfg.projection_dim:
            raise ConfigurationError("--text-backbone / --projection-dim are for --task contrastive runs; drop them")
        return
    if not cfg.text_backbone:
        raise ConfigurationError(f"a contrastive run has two towers: give the text one, e.g. zoo train {spec.name} "
                                 "--task contrastive --text-backbone use --data captions.csv")
    from zoo.models.contracts import contract_for
    from zoo.models.contracts.text import TextContract  # the contracts that take strings (no TensorFlow at import)

    text = zoo.get(cfg.text_backbone)
    if not isinstance(contract_for(text), TextContract) or isinstance(contract_for(spec), TextContract):
        raise ConfigurationError(f"a contrastive run pairs an image or audio backbone (NAME, here {spec.name!r}: "
                                 f"{spec.modality}) with a text one (--text-backbone, here {text.name!r}: {text.modality})")
    if cfg.freeze or cfg.schedule:
        raise ConfigurationError("a contrastive run keeps each tower's default freeze (image / audio tower locked, the "
                                 "text tower as its backbone defaults: LiT); drop --freeze / --schedule, or use the "
                                 "Python API: zoo.build([...], task='contrastive', freeze={name: ...})")
    if cfg.projection_dim is not None and (isinstance(cfg.projection_dim, bool) or not isinstance(cfg.projection_dim, int)
                                           or cfg.projection_dim < 1):
        raise ConfigurationError(f"--projection-dim must be a positive integer, got {cfg.projection_dim!r}")
