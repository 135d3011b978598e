"""HTK mel scale and the triangular filterbank, in float (for tables) and integer (to apply).

The float weights equal ``librosa.filters.mel(htk=True, norm=None)``; the
integer path applies them as Q15 weights over the few FFT bins each band covers.
"""

from __future__ import annotations

import numpy as np

from kws.fixedpoint import as_int64


def hz_to_mel(freq_hz):
    """HTK mel scale: 2595 * log10(1 + f / 700)."""
    return 2595.0 * np.log10(1.0 + np.asarray(freq_hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel):
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(sample_rate_hz: int, fft_size: int, n_mel: int, lower_hz: float, upper_hz: float) -> np.ndarray:
    """Triangular HTK mel filters with peak 1 (no area normalisation).

    Returns
    -------
    np.ndarray [shape=(n_mel, fft_size // 2 + 1), float64]
    """
    bin_hz = np.arange(fft_size // 2 + 1) * (sample_rate_hz / fft_size)
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(lower_hz), hz_to_mel(upper_hz), n_mel + 2))
    weights = np.zeros((n_mel, bin_hz.size))
    for band in range(n_mel):
        left, centre, right = edges_hz[band : band + 3]
        rising = (bin_hz - left) / (centre - left)
        falling = (right - bin_hz) / (right - centre)
        weights[band] = np.maximum(0.0, np.minimum(rising, falling))
    return weights


def sparse_bands(weights_q15: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Compress a dense integer filterbank to (band_start_bin, band_n_bins, flat weights).

    Each band keeps the contiguous run of bins from its first to its last
    non-zero weight, which is how the C code walks it.
    """
    starts, lengths, flat = [], [], []
    for row in weights_q15:
        nonzero = np.flatnonzero(row)
        first, last = (int(nonzero[0]), int(nonzero[-1])) if nonzero.size else (0, -1)
        starts.append(first)
        lengths.append(last - first + 1)
        flat.extend(row[first : last + 1].tolist())
    return (np.array(starts, dtype=np.int32), np.array(lengths, dtype=np.int32), np.array(flat, dtype=np.int32))


def apply_mel(magnitude: np.ndarray, first_bin: int, band_start: np.ndarray, band_n_bins: np.ndarray,
              weights_q15: np.ndarray) -> np.ndarray:
    """Integer mel energies: per band, sum of Q15 weight * magnitude over its bins.

    Parameters
    ----------
    magnitude : np.ndarray [shape=(frames, n_bins_used), int64], bins from ``first_bin``
    band_start, band_n_bins : np.ndarray [shape=(n_mel,), int32] absolute FFT bin indices
    weights_q15 : np.ndarray [shape=(sum(band_n_bins),), int32]

    Returns
    -------
    np.ndarray [shape=(frames, n_mel), int64], scale 2**15 times the float mel energy.
    """
    columns = np.concatenate([np.arange(s, s + n) for s, n in zip(band_start, band_n_bins)]) - first_bin
    products = as_int64(magnitude)[:, columns] * as_int64(weights_q15)[None, :]
    offsets = np.concatenate([[0], np.cumsum(band_n_bins)[:-1]])
    return np.add.reduceat(products, offsets, axis=1)
