"""Errors of the firmware exporter."""

from __future__ import annotations

from kws.errors import KwsError


class ExportError(KwsError):
    """Something ``kws export`` cannot do: a model it cannot turn into C (the message names the
    layer, the operator and the option), a missing tool (with its apt package), a failed build, or a
    difference between C and Python found by ``--verify`` (the first one named)."""


__all__ = ["ExportError"]
