"""Exception types raised by kws.

Every error a user can cause (bad audio, bad config, mismatched model) is a
``KwsError`` subclass whose message names the file or setting and the problem,
so the CLI can print it without a traceback.
"""


class KwsError(Exception):
    """Base class for every error caused by user input."""


class AudioError(KwsError):
    """An audio file or buffer that cannot be used (unreadable, empty, NaN, ...)."""


class ConfigError(KwsError):
    """A configuration file or value that is malformed or inconsistent."""


class ModelError(KwsError):
    """A model that cannot be loaded or does not match the running front end."""


class DataError(KwsError):
    """A dataset folder or manifest that cannot be used."""


class BuildError(KwsError):
    """A C build that cannot run (compiler missing) or fails (the message holds its output)."""
