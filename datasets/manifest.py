"""The record that every data source produces, and its JSON-lines manifest.

A manifest is a ``.jsonl`` file, one :class:`ClipRecord` per line. Real
folders, the Speech Commands recipe and synthetic speech all produce the same
records, so training and the dataset summary treat every source alike.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Iterable

from kws.audio import AUDIO_EXTENSIONS
from kws.errors import DataError
from kws.fileio import atomic_path

SOURCE_REAL = "real"
SOURCE_SYNTHETIC = "synthetic"


@dataclasses.dataclass(frozen=True, kw_only=True)
class ClipRecord:
    """One labelled audio clip."""

    path: str
    """Path of the audio file (absolute, or relative to the manifest's folder)."""
    label: str
    """Class label, e.g. ``"yes"``, ``"_unknown_"``, ``"_silence_"``."""
    speaker: str
    """Speaker id (real data) or voice id (synthetic data); used for disjoint splits."""
    source: str
    """``"real"`` or ``"synthetic"``."""
    text: str = ""
    """Spoken word or phrase, when known."""
    meta: dict = dataclasses.field(default_factory=dict)
    """Source-specific details (TTS engine, voice, settings, original file, ...)."""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict, *, where: str = "") -> "ClipRecord":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise DataError(f"{where}: unknown manifest keys {sorted(unknown)}")
        try:
            return cls(**data)
        except TypeError as exc:
            raise DataError(f"{where}: bad manifest record ({exc})") from exc


def write_manifest(path: str | os.PathLike, records: Iterable[ClipRecord]) -> None:
    """Write records as JSON lines, atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            for record in records:
                f.write(record.to_json() + "\n")


def read_manifest(path: str | os.PathLike) -> list[ClipRecord]:
    """Read a JSON-lines manifest; relative paths are resolved against its folder."""
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{path}: is a directory, not a manifest file")
    if not path.is_file():
        raise DataError(f"{path}: manifest not found")
    if path.suffix.lower() in AUDIO_EXTENSIONS:
        raise DataError(f"{path}: is an audio file, not a manifest (.jsonl); to summarise recordings give their "
                        f"<label>/ folder's parent folder")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise DataError(f"{path}: not a text file; a manifest is JSON lines (.jsonl), one clip per line") from None
    records = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{line_no}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg})") from exc
        record = ClipRecord.from_dict(data, where=where)
        if not os.path.isabs(record.path):
            record = dataclasses.replace(record, path=str(path.parent / record.path))
        records.append(record)
    return records
