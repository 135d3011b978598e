"""Errors of the C export."""

from kws.errors import KwsError


class ExportError(KwsError):
    """A model or setting the exporter cannot emit, a missing tool, or a failed build/verification."""
