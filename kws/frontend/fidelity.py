"""Measure the integer front end against the float reference and against librosa's speed.

Used by ``kws bench frontend`` (prints the figures) and by the tests (assert
the fidelity floor). SNR is computed over all coefficients of all frames of
all clips together.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from kws.config import FrontendConfig
from kws.frontend.pipeline import compute_features_many, compute_mfcc, dequantize_features
from kws.frontend.reference import reference_mfcc, snr_db


def scale_to_dbfs(pcm: np.ndarray, peak_dbfs: float) -> np.ndarray:
    """Rescale int16 ``pcm`` so its peak sits at ``peak_dbfs`` (rounded, int16)."""
    peak = max(1, int(np.abs(pcm.astype(np.int32)).max()))
    gain = 32768.0 * 10.0 ** (peak_dbfs / 20.0) / peak
    return np.clip(np.round(pcm.astype(np.float64) * gain), -32768, 32767).astype(np.int16)


@dataclasses.dataclass(frozen=True)
class Fidelity:
    mfcc_snr_db: float
    """SNR of the int16 MFCC against the float reference."""
    feature_snr_db: float
    """SNR of the dequantised int8 features against the float reference."""
    n_clips: int
    n_frames: int


def measure_fidelity(clips: list[np.ndarray], config: FrontendConfig = FrontendConfig()) -> Fidelity:
    """SNR of the integer MFCC and of the int8 features over ``clips`` (int16 PCM)."""
    reference = np.concatenate([reference_mfcc(pcm, config) for pcm in clips])
    mfcc = np.concatenate([compute_mfcc(pcm, config) for pcm in clips]).astype(np.float64)
    features = np.concatenate(compute_features_many(clips, config))
    return Fidelity(
        mfcc_snr_db=snr_db(reference, mfcc / (1 << config.mfcc_frac_bits)),
        feature_snr_db=snr_db(reference, dequantize_features(features, config)),
        n_clips=len(clips),
        n_frames=len(reference),
    )


def librosa_mfcc(pcm: np.ndarray, config: FrontendConfig) -> np.ndarray:
    """``librosa.feature.mfcc`` with the same framing, window, bands and DCT (float, for speed only)."""
    import librosa

    audio = pcm.astype(np.float32) / 32768.0
    return librosa.feature.mfcc(
        y=audio, sr=config.sample_rate_hz, n_mfcc=config.n_mfcc, n_fft=config.fft_size,
        win_length=config.window_samples, hop_length=config.hop_samples, window="hann", center=False,
        n_mels=config.n_mel, fmin=config.lower_hz, fmax=config.upper_hz, htk=True, norm="ortho", power=1.0,
    )


def time_per_clip_s(function, clips: list[np.ndarray], repeats: int = 3) -> float:
    """Best-of-``repeats`` wall time of ``function(clips)`` divided by the number of clips."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function(clips)
        best = min(best, time.perf_counter() - start)
    return best / len(clips)


@contextlib.contextmanager
def one_core() -> Iterator[str]:
    """Run the block on one CPU (Linux sched_setaffinity), then restore the previous set.

    Yields a note of what was done, for the printed report.
    """
    if not hasattr(os, "sched_setaffinity"):
        yield "not pinned (no sched_setaffinity)"
        return
    previous = os.sched_getaffinity(0)
    core = min(previous)
    os.sched_setaffinity(0, {core})
    try:
        yield f"pinned to CPU {core}"
    finally:
        os.sched_setaffinity(0, previous)


def load_clips(folder: Path, limit: int | None, config: FrontendConfig) -> tuple[list[np.ndarray], list[str]]:
    """Read every ``*.wav`` under ``folder`` (sorted; every k-th if ``limit``); returns clips and bad files."""
    from kws.audio import read_audio
    from kws.errors import AudioError

    files = sorted(Path(folder).rglob("*.wav"))
    if limit and len(files) > limit:
        files = files[:: max(1, len(files) // limit)][:limit]
    clips, bad = [], []
    for path in files:
        try:
            clips.append(read_audio(path, config.sample_rate_hz))
        except AudioError as exc:
            bad.append(str(exc))
    return clips, bad


def native_frontend(config: FrontendConfig):
    """``(NativeFrontend, None)``, or ``(None, reason)`` when the C fast path cannot be built here."""
    from kws.errors import KwsError
    from kws.frontend.native import NativeFrontend

    try:
        return NativeFrontend(config), None
    except KwsError as exc:
        return None, str(exc).splitlines()[0]
