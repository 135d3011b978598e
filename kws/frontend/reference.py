"""Float reference MFCC: the ideal the integer front end approximates (for measuring SNR only).

Same framing (no padding), periodic Hann window, zero-padded ``fft_size``-point
magnitude spectrum, HTK mel filterbank (as ``librosa.filters.mel(htk=True,
norm=None)``), natural log with the floor ``2**log_floor_log2`` and the
orthonormal DCT-II, on PCM scaled to [-1, 1).
"""

from __future__ import annotations

import numpy as np

from kws.config import FrontendConfig
from kws.frontend.mel import mel_filterbank
from kws.frontend.pipeline import DEFAULT_CONFIG, check_pcm, frame_signal
from kws.frontend.tables import dct_matrix, hann_window


def reference_mfcc(pcm: np.ndarray, config: FrontendConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Float64 MFCC of int16 ``pcm``. Returns [shape=(frames, n_mfcc), float64] (real units)."""
    frames = frame_signal(check_pcm(pcm), config).astype(np.float64) / 32768.0
    spectrum = np.abs(np.fft.rfft(frames * hann_window(config.window_samples), n=config.fft_size, axis=1))
    weights = mel_filterbank(config.sample_rate_hz, config.fft_size, config.n_mel, config.lower_hz, config.upper_hz)
    log_mel = np.log(spectrum @ weights.T + 2.0 ** config.log_floor_log2)
    return log_mel @ dct_matrix(config.n_mfcc, config.n_mel).T


def snr_db(reference: np.ndarray, approximation: np.ndarray) -> float:
    """10 log10(sum ref^2 / sum (ref - approx)^2) over all elements."""
    reference = np.asarray(reference, np.float64)
    error = reference - np.asarray(approximation, np.float64)
    return float(10.0 * np.log10(np.sum(reference**2) / max(np.sum(error**2), 1e-300)))
