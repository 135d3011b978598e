"""Where the real recordings live.

The shared real data (see ``shared/data/README.md``) is read in place, never
copied into the project. Its location is, in order of preference:

1. the environment variable ``KWS_DATA`` when it is set and not empty;
2. ``<repo>/../shared/data/real``, the layout of the development machines.

Functions here only compute paths; :func:`require_data_folder` additionally
checks that a folder exists and says how to point kws at it when it does not.
"""

from __future__ import annotations

import os
from pathlib import Path

from kws.errors import DataError

#: Environment variable naming the folder that holds the real recordings.
DATA_ENV_VAR = "KWS_DATA"


def repo_root() -> Path:
    """The repository's root folder (the parent of the ``datasets`` package).

    Meaningful for a source checkout or an editable install, which is how the
    project is used.
    """
    return Path(__file__).resolve().parent.parent


def data_root() -> Path:
    """The folder holding the real recordings.

    Returns
    -------
    Path
        ``$KWS_DATA`` if set and not empty (``~`` expanded), otherwise
        ``<repo>/../shared/data/real``. The folder is not required to exist.
    """
    value = os.environ.get(DATA_ENV_VAR, "").strip()
    if value:
        return Path(value).expanduser()
    return repo_root().parent / "shared" / "data" / "real"


def data_folder(*parts: str) -> Path:
    """``data_root()`` joined with ``parts``, e.g. ``data_folder("background_noise")``."""
    return data_root().joinpath(*parts)


def require_data_folder(*parts: str) -> Path:
    """Like :func:`data_folder`, but raise :class:`DataError` if the folder is missing.

    Raises
    ------
    DataError
        naming the missing folder and the ``KWS_DATA`` variable.
    """
    folder = data_folder(*parts)
    if not folder.is_dir():
        raise DataError(
            f"{folder}: data folder not found (set {DATA_ENV_VAR} to the folder holding the real recordings)"
        )
    return folder
