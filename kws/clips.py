"""Reading labelled clips at run time: a ``<root>/<label>/*`` tree, decoded with bad files reported.

This is the part of the data layer that the runtime (``kws eval``, ``kws detect``) needs; it
lives in ``kws`` so that the dependency points down: ``kws.datasets`` builds on it, never the
other way round.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable, NamedTuple

import numpy as np

from kws.audio import list_audio_files, read_audio, wav_truncation
from kws.errors import AudioError

#: A file whose int16 samples all have ``|x| <=`` this many LSB is silent (about -84 dBFS).
SILENT_PEAK_LSB = 2
#: The Speech Commands folder of long noise recordings: not a label.
BACKGROUND_NOISE_FOLDER = "_background_noise_"


class BadFile(NamedTuple):
    """A file that was skipped, and why."""

    path: str
    reason: str


class DecodedFiles(NamedTuple):
    """Audio of the files that decoded, and the ones that did not."""

    kept: list[int]
    """Indices (into the input list) of the files that decoded."""
    pcm: list[np.ndarray]
    """int16 PCM per kept file, ``shape=(n,)``."""
    bad_files: list[BadFile]


def header_problem(path: str | os.PathLike) -> str | None:
    """Why the file's header is unusable, or ``None`` when it looks fine (no decoding)."""
    import soundfile as sf

    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return "file is empty (0 bytes)"
        info = sf.info(str(path))
    except (OSError, RuntimeError, ValueError, sf.LibsndfileError) as exc:
        return f"not a readable audio file ({exc})"
    if info.frames <= 0:
        return "contains no audio samples"
    if info.samplerate <= 0 or info.channels <= 0:
        return f"bad header (sample rate {info.samplerate} Hz, {info.channels} channels)"
    if path.suffix.lower() == ".wav":
        return wav_truncation(path)
    return None


def read_clip(
    path: str | os.PathLike, *, sample_rate: int = 16000, silent_peak_lsb: int = SILENT_PEAK_LSB
) -> np.ndarray:
    """Read a clip as int16 PCM, rejecting truncated files and digital silence.

    Returns
    -------
    np.ndarray [shape=(n,), int16]

    Raises
    ------
    AudioError
        unreadable, empty, truncated, NaN/inf, or silent; the message names the file.
    """
    pcm = read_audio(path, sample_rate)
    if Path(path).suffix.lower() == ".wav":
        problem = wav_truncation(path)
        if problem is not None:
            raise AudioError(f"{path}: {problem}")
    peak = int(np.max(np.abs(pcm.astype(np.int32)))) if pcm.size else 0
    if peak <= silent_peak_lsb:
        raise AudioError(f"{path}: silent (peak |x| = {peak} LSB <= {silent_peak_lsb} LSB)")
    return pcm


def error_reason(exc: AudioError, path: str | os.PathLike) -> str:
    """An AudioError message without the leading ``<path>: ``."""
    return str(exc).removeprefix(f"{path}: ")


def decode_files(paths: Iterable[str | os.PathLike], *, sample_rate: int = 16000,
                 silent_peak_lsb: int = SILENT_PEAK_LSB) -> DecodedFiles:
    """Read many files, skipping and reporting the ones that fail (unreadable, truncated, NaN, silent)."""
    kept, pcm, bad = [], [], []
    for index, path in enumerate(paths):
        try:
            audio = read_clip(path, sample_rate=sample_rate, silent_peak_lsb=silent_peak_lsb)
        except AudioError as exc:
            bad.append(BadFile(str(path), error_reason(exc, path)))
            continue
        kept.append(index)
        pcm.append(audio)
    return DecodedFiles(kept=kept, pcm=pcm, bad_files=bad)


def fit_to_clip(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """Fit a clip to one classification window: the one windowing rule of training and evaluation.

    A longer clip keeps its loudest ``n_samples`` window (most energy; the first on ties), so a
    word anywhere in a 3 s recording is found; a shorter one is zero-padded evenly on both sides
    (one more zero at the end when odd).

    Parameters
    ----------
    audio : np.ndarray [shape=(n,)], int16 PCM or float
    n_samples : int

    Returns
    -------
    np.ndarray [shape=(n_samples,)], same dtype (a copy)
    """
    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(f"fit_to_clip expects 1-D audio, got shape {audio.shape}")
    if n_samples < 0:
        raise ValueError(f"n_samples must be >= 0, got {n_samples}")
    size = audio.size
    if size <= n_samples:
        before = (n_samples - size) // 2
        return np.pad(audio, (before, n_samples - size - before))
    energy = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    start = int(np.argmax(energy[n_samples:] - energy[:-n_samples]))
    return audio[start : start + n_samples].copy()


def label_folders(root: str | os.PathLike, exclude: Iterable[str] = (BACKGROUND_NOISE_FOLDER,)) -> list[str]:
    """Sorted names of the label sub-folders of ``root`` (hidden and excluded folders skipped)."""
    excluded = set(exclude)
    return sorted(p.name for p in Path(root).iterdir()
                  if p.is_dir() and not p.name.startswith(".") and p.name not in excluded)


def labelled_files(root: str | os.PathLike, labels: Iterable[str]) -> list[tuple[Path, str]]:
    """``(file, label)`` for every audio file of ``<root>/<label>/``, sorted by label then name."""
    root = Path(root)
    return [(path.resolve(), label) for label in sorted(labels) for path in list_audio_files(root / label)]


__all__ = ["BACKGROUND_NOISE_FOLDER", "SILENT_PEAK_LSB", "BadFile", "DecodedFiles", "decode_files", "error_reason", "fit_to_clip",
           "header_problem", "label_folders", "labelled_files", "read_clip"]
