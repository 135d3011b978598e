"""Local recordings laid out as ``<root>/<label>/*.{wav,flac,ogg}``.

This is how any folder of real clips enters kws, e.g. the shared
``speech_commands_v0.02_test`` folder (12 label folders) or
``wakeword_clips`` (``alexa/``, ``jarvis/``).

Checking files
--------------
Decoding every file to look for problems is slow, so :func:`load_label_folders`
offers three levels (``check=``):

``"header"`` (default)
    open the header with ``soundfile.info``: catches empty, non-audio, corrupt
    headers, zero-length files and WAV files cut short (``data`` chunk larger
    than the file), ~0.3 ms a file.
``"decode"``
    decode each file with :func:`kws.audio.read_audio`: additionally catches
    undecodable data, NaN/inf samples and digital silence.
``"none"``
    list files only.

Files that fail are skipped and reported as ``BadFile(path, reason)``; the rest
load. Whatever was not checked up front is checked when the audio is actually
read: :func:`read_clip` raises :class:`kws.errors.AudioError` (path + reason)
and :func:`decode_records` reports such files the same way.

Silence
-------
A file is *silent* when every sample, as int16, satisfies ``|x| <= 2`` LSB
(:data:`SILENT_PEAK_LSB`, about -84 dBFS): exact digital silence or
near-zero dither, never usable audio. Quiet noise such as the Speech Commands
``_silence_`` clips (peaks of 30 LSB and up) is not silent and loads normally.

Speaker ids
-----------
Used for speaker-disjoint splits (:func:`speaker_from_name`):

1. ``[<word>_]<speaker>_nohash_<n>`` (Speech Commands): the token before ``_nohash_``.
2. Otherwise the stem is split on ``_``; a leading token equal to the label
   folder name and a trailing all-digit token (utterance number) are dropped,
   and what remains is the speaker (``0_george_12`` in folder ``0`` ->
   ``george``; ``spk07_003`` -> ``spk07``).
3. If nothing remains (``1037.wav``, ``0.flac``) the clip gets its own id,
   ``<folder>/<stem>``, so it counts as a speaker of its own.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from pathlib import Path
from typing import Callable, Iterable, Mapping, NamedTuple

import numpy as np

from kws.datasets.manifest import SOURCE_REAL, ClipRecord
from kws.datasets.speech_commands import BACKGROUND_NOISE_FOLDER, parse_nohash_name
from kws.audio import list_audio_files
from kws.clips import SILENT_PEAK_LSB, BadFile, decode_files, error_reason, header_problem, read_clip
from kws.errors import AudioError, ConfigError, DataError

CHECK_NONE = "none"
CHECK_HEADER = "header"
CHECK_DECODE = "decode"
CHECKS = (CHECK_NONE, CHECK_HEADER, CHECK_DECODE)

#: Folder names skipped when no ``labels`` are given.
DEFAULT_EXCLUDE = (BACKGROUND_NOISE_FOLDER,)


@dataclasses.dataclass(frozen=True)
class FolderLoad:
    """What :func:`load_label_folders` found."""

    root: str
    """The folder that was scanned."""
    records: list[ClipRecord]
    """One record per usable clip, sorted by label folder then file name."""
    bad_files: list[BadFile]
    """Skipped files with the reason."""

    def labels(self) -> list[str]:
        """Sorted distinct labels of the records."""
        return sorted({r.label for r in self.records})

    def counts(self) -> dict[str, int]:
        """Number of records per label."""
        counts: dict[str, int] = {}
        for record in self.records:
            counts[record.label] = counts.get(record.label, 0) + 1
        return dict(sorted(counts.items()))

    def report(self) -> str:
        """Readable summary: clips per label, then each bad file with its reason."""
        lines = [f"{self.root}: {len(self.records)} clips, {len(self.bad_files)} skipped"]
        lines += [f"  {label}: {n}" for label, n in self.counts().items()]
        lines += [f"  skipped {bad.path}: {bad.reason}" for bad in self.bad_files]
        return "\n".join(lines)


class DecodedClips(NamedTuple):
    """Audio of the records that decoded, and the ones that did not."""

    records: list[ClipRecord]
    pcm: list[np.ndarray]
    """int16 PCM per record, ``shape=(n,)``, at the requested sample rate."""
    bad_files: list[BadFile]


class SpeakerSplit(NamedTuple):
    """A speaker-disjoint split."""

    train: list[ClipRecord]
    validation: list[ClipRecord]


# --------------------------------------------------------------------------- #
# Names
# --------------------------------------------------------------------------- #


def speaker_from_name(stem: str, folder_name: str) -> str:
    """Speaker id of a clip from its file stem and label folder (rules in the module docstring)."""
    parsed = parse_nohash_name(stem)
    if parsed is not None:
        return parsed.speaker
    tokens = stem.split("_")
    if len(tokens) > 1 and tokens[0].lower() == folder_name.lower():
        tokens = tokens[1:]
    if tokens and tokens[-1].isdigit():
        tokens = tokens[:-1]
    speaker = "_".join(tokens)
    return speaker if speaker else f"{folder_name}/{stem}"


def _spoken_text(stem: str, folder_name: str) -> str:
    """The word said in the clip when the names tell it, else ``""``."""
    if not folder_name.startswith("_"):
        return folder_name
    parsed = parse_nohash_name(stem)
    return parsed.word if parsed is not None and parsed.word else ""


# --------------------------------------------------------------------------- #
# Checks
# --------------------------------------------------------------------------- #


def _file_problem(path: Path, check: str, sample_rate: int, silent_peak_lsb: int) -> str | None:
    if check == CHECK_NONE:
        return None
    if check == CHECK_HEADER:
        return header_problem(path)
    try:
        read_clip(path, sample_rate=sample_rate, silent_peak_lsb=silent_peak_lsb)
    except AudioError as exc:
        return error_reason(exc, path)
    return None


# --------------------------------------------------------------------------- #
# Loading
# --------------------------------------------------------------------------- #


def _label_folders(
    root: Path, labels: Mapping[str, str | None] | Iterable[str] | None, exclude: Iterable[str]
) -> list[tuple[Path, str]]:
    """``(folder, label)`` pairs to load, in folder-name order."""
    if labels is None:
        excluded = set(exclude)
        return [
            (p, p.name)
            for p in sorted(root.iterdir())
            if p.is_dir() and not p.name.startswith(".") and p.name not in excluded
        ]
    mapping = dict(labels) if isinstance(labels, Mapping) else {name: name for name in labels}
    pairs = []
    for name in sorted(mapping):
        folder = root / name
        if not folder.is_dir():
            raise DataError(f"{folder}: label folder {name!r} not found in {root}")
        if mapping[name] is not None:
            pairs.append((folder, mapping[name]))
    return pairs


def load_label_folders(
    root: str | os.PathLike,
    *,
    labels: Mapping[str, str | None] | Iterable[str] | None = None,
    check: str = CHECK_HEADER,
    sample_rate: int = 16000,
    silent_peak_lsb: int = SILENT_PEAK_LSB,
    exclude: Iterable[str] = DEFAULT_EXCLUDE,
    speaker_fn: Callable[[str, str], str] = speaker_from_name,
    source: str = SOURCE_REAL,
) -> FolderLoad:
    """Load ``<root>/<label>/*.{wav,flac,ogg}`` into clip records.

    Parameters
    ----------
    root : path
        Folder whose sub-folders are labels (hidden folders are ignored).
    labels : mapping or iterable of str, optional
        ``None``: every sub-folder except ``exclude``, labelled by its name.
        An iterable of folder names: only those. A mapping
        ``{folder: label}``: only those folders, relabelled (several folders
        may share a label, e.g. ``{"bed": "_unknown_", "cat": "_unknown_"}``;
        a ``None`` label skips the folder). A named folder that does not
        exist is an error.
    check : {"header", "decode", "none"}
        How much to verify each file before accepting it (see module docstring).
    sample_rate : int
        Rate in Hz used by ``check="decode"``.
    silent_peak_lsb : int
        Silence threshold for ``check="decode"``.
    exclude : iterable of str
        Folder names skipped when ``labels`` is ``None``.
    speaker_fn : callable ``(stem, folder_name) -> speaker``
        Speaker id rule; default :func:`speaker_from_name`.
    source : str
        ``source`` field of the records.

    Returns
    -------
    FolderLoad
        records (``path`` absolute, ``text`` = folder word when known,
        ``meta = {"folder": <folder name>}``) and the skipped files.

    Raises
    ------
    DataError
        ``root`` or a named label folder missing, no label folders, or a label
        folder without any usable audio file (the error names it).
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root}: folder not found")
    if check not in CHECKS:
        raise ConfigError(f"check={check!r}: choose from {CHECKS}")
    pairs = _label_folders(root, labels, exclude)
    if not pairs:
        raise DataError(f"{root}: no label folders (expected <root>/<label>/*.wav|flac|ogg)")
    records: list[ClipRecord] = []
    bad_files: list[BadFile] = []
    for folder, label in pairs:
        files = list_audio_files(folder)
        folder_bad = []
        for path in files:
            problem = _file_problem(path, check, sample_rate, silent_peak_lsb)
            if problem is not None:
                folder_bad.append(BadFile(str(path.resolve()), problem))
            else:
                records.append(_record(path, folder.name, label, speaker_fn, source))
        if len(folder_bad) == len(files):
            raise DataError(_empty_folder_message(folder, folder_bad))
        bad_files.extend(folder_bad)
    return FolderLoad(root=str(root), records=records, bad_files=bad_files)


def _record(path: Path, folder_name: str, label: str, speaker_fn: Callable[[str, str], str], source: str) -> ClipRecord:
    return ClipRecord(
        path=str(path.resolve()),
        label=label,
        speaker=speaker_fn(path.stem, folder_name),
        source=source,
        text=_spoken_text(path.stem, folder_name),
        meta={"folder": folder_name},
    )


def _empty_folder_message(folder: Path, folder_bad: list[BadFile]) -> str:
    if not folder_bad:
        return f"{folder}: label folder {folder.name!r} holds no .wav/.flac/.ogg files"
    example = folder_bad[0]
    return (
        f"{folder}: label folder {folder.name!r} has no usable audio: all {len(folder_bad)} files rejected "
        f"(e.g. {Path(example.path).name}: {example.reason})"
    )


def decode_records(
    records: Iterable[ClipRecord], *, sample_rate: int = 16000, silent_peak_lsb: int = SILENT_PEAK_LSB
) -> DecodedClips:
    """Read the audio of records, skipping and reporting files that fail.

    Returns
    -------
    DecodedClips
        the records that decoded with their int16 PCM ``[shape=(n,), int16]``,
        and ``BadFile(path, reason)`` for the others (unreadable, truncated,
        NaN/inf, silent).
    """
    records = list(records)
    decoded = decode_files([r.path for r in records], sample_rate=sample_rate, silent_peak_lsb=silent_peak_lsb)
    return DecodedClips(records=[records[i] for i in decoded.kept], pcm=decoded.pcm, bad_files=decoded.bad_files)


# --------------------------------------------------------------------------- #
# Speaker-disjoint split
# --------------------------------------------------------------------------- #


def speaker_position(speaker: str, *, salt: str = "") -> float:
    """A fixed pseudo-random number in ``[0, 1)`` per speaker: SHA-1 of ``salt + speaker``."""
    digest = hashlib.sha1((salt + speaker).encode("utf-8")).hexdigest()
    return int(digest[:15], 16) / float(16**15)


def split_by_speaker(
    records: Iterable[ClipRecord], validation_fraction: float, *, salt: str = ""
) -> SpeakerSplit:
    """Split records so that no speaker appears on both sides.

    A speaker goes to validation when ``speaker_position(speaker, salt=salt) <
    validation_fraction``. The rule depends only on the speaker id, so it is
    deterministic, independent of record order, and stable when clips are
    added. The validation share of *speakers* approaches the fraction; the
    share of clips varies with clips per speaker.

    Parameters
    ----------
    records : iterable of ClipRecord
    validation_fraction : float
        In ``[0, 1]``.
    salt : str
        Change it to draw a different (still deterministic) split.

    Returns
    -------
    SpeakerSplit
        ``(train, validation)``, each in input order.

    Raises
    ------
    ConfigError
        ``validation_fraction`` outside ``[0, 1]``.
    """
    if not 0.0 <= validation_fraction <= 1.0:
        raise ConfigError(f"validation_fraction={validation_fraction}: must be within [0, 1]")
    train, validation = [], []
    for record in records:
        side = validation if speaker_position(record.speaker, salt=salt) < validation_fraction else train
        side.append(record)
    return SpeakerSplit(train=train, validation=validation)


def speaker_fold(speaker: str, n_folds: int, *, salt: str = "") -> int:
    """The cross-validation fold (0 .. n_folds-1) of a speaker: ``floor(speaker_position * n_folds)``."""
    return min(int(speaker_position(speaker, salt=salt) * n_folds), n_folds - 1)


def split_by_fold(records: Iterable[ClipRecord], n_folds: int, fold: int, *, salt: str = "") -> SpeakerSplit:
    """Speaker-disjoint split for k-fold cross-validation: fold ``fold``'s speakers validate.

    Every speaker belongs to exactly one of ``n_folds`` folds (:func:`speaker_fold`), so the
    validation sides of the folds partition the speakers, and any other folder of recordings
    split with the same rule follows its speakers.

    Raises
    ------
    ConfigError
        ``n_folds`` < 2 or ``fold`` outside ``0 .. n_folds-1``.
    """
    if n_folds < 2 or not 0 <= fold < n_folds:
        raise ConfigError(f"fold {fold} of {n_folds}: need n_folds >= 2 and 0 <= fold < n_folds")
    train, validation = [], []
    for record in records:
        (validation if speaker_fold(record.speaker, n_folds, salt=salt) == fold else train).append(record)
    return SpeakerSplit(train=train, validation=validation)

