"""Errors of the firmware exporter."""

from __future__ import annotations

from kws.errors import KwsError


class ExportError(KwsError):
    """A model (or setting) that the C exporter cannot turn into C code.

    The message names the layer (the operator's output tensor), the operator and
    the option or tensor property that is not supported.
    """


__all__ = ["ExportError"]
