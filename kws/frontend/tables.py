"""``tables(config)``: every integer constant of the front end, from one pure function.

The Python reference (:mod:`kws.frontend.pipeline`) and the generated C read
only these tables; nothing is copied by hand. Floats appear here, at table
generation time, and nowhere on the sample path.

Scale bookkeeping (why ``mel_scale_log2`` is 46 by default): int16 PCM is the
float signal times 2**15; the Q15 window adds 2**15; a frame is then shifted by
``e`` bits so its peak has ``block_norm_bits`` bits (block floating point);
the real-FFT split keeps a factor 2; the Q15 mel weights add 2**15. So the
integer mel energy is the float mel energy times 2**(46 + e), and the log
subtracts ``(46 + e)`` in the log2 domain.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np

from kws.config import (DCT_FRAC_BITS, FFT_PEAK_BITS, LOG2_FRAC_BITS, MEL_SCALE_LOG2, MEL_WEIGHT_FRAC_BITS,
                        PCM_FRAC_BITS, WINDOW_FRAC_BITS, FrontendConfig)
from kws.errors import ConfigError
from kws.frontend.fft import TWIDDLE_FRAC_BITS, bit_reverse_indices
from kws.frontend.mel import mel_filterbank, sparse_bands

__all__ = ["DCT_FRAC_BITS", "LOG2_FRAC_BITS", "LOG2_MANTISSA_BITS", "LOG2_TABLE_BITS", "MEL_WEIGHT_FRAC_BITS",
           "PCM_FRAC_BITS", "WINDOW_FRAC_BITS", "FrontendTables", "tables"]

LOG2_TABLE_BITS = 8  # 256 linear-interpolation segments: max error ~3e-6 in log2 units
LOG2_MANTISSA_BITS = 30  # mantissa normalised into [2**30, 2**31)


@dataclasses.dataclass(frozen=True, eq=False)
class FrontendTables:
    """Integer tables and constants of one :class:`FrontendConfig`. Arrays are read-only."""

    config: FrontendConfig
    window_q15: np.ndarray  # [window_samples] int16, periodic Hann, saturated to 32767
    block_norm_bits: int  # a frame's peak after normalisation has this many bits (no FFT overflow)
    fft_cos_q30: np.ndarray  # [fft_size // 4] int32, cos(2 pi k / (fft_size/2))
    fft_sin_q30: np.ndarray  # [fft_size // 4] int32
    fft_bitrev: np.ndarray  # [fft_size // 2] int32 bit-reversal permutation
    first_bin: int  # lowest FFT bin any mel band uses
    n_bins_used: int  # bins first_bin .. first_bin + n_bins_used - 1 are computed
    split_cos_q30: np.ndarray  # [n_bins_used] int32, cos(2 pi k / fft_size) for the used bins
    split_sin_q30: np.ndarray  # [n_bins_used] int32
    mel_band_start: np.ndarray  # [n_mel] int32 first FFT bin of each band
    mel_band_n_bins: np.ndarray  # [n_mel] int32 number of bins of each band
    mel_weights_q15: np.ndarray  # [sum(mel_band_n_bins)] int32, Q15 triangle weights
    mel_scale_log2: int  # integer mel = float mel * 2**(mel_scale_log2 + e)
    log2_table_q16: np.ndarray  # [2**LOG2_TABLE_BITS + 1] int32, log2(1 + i/256) in Q16
    dct_q15: np.ndarray  # [n_mfcc, n_mel] int16, ln(2) * orthonormal DCT-II in Q15
    mfcc_shift: int  # right shift from (Q15 DCT * Q16 log2) to Q(mfcc_frac_bits)

    @property
    def used_bins(self) -> np.ndarray:
        return np.arange(self.first_bin, self.first_bin + self.n_bins_used)


def _q(values, frac_bits: int) -> np.ndarray:
    return np.round(np.asarray(values, dtype=np.float64) * (1 << frac_bits)).astype(np.int64)


def hann_window(n: int) -> np.ndarray:
    """Periodic Hann window (as ``scipy.signal.get_window('hann', n)`` and librosa)."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def dct_matrix(n_mfcc: int, n_mel: int) -> np.ndarray:
    """Orthonormal DCT-II basis [shape=(n_mfcc, n_mel), float64] (scipy ``dct(norm='ortho')``)."""
    k = np.arange(n_mfcc)[:, None]
    j = np.arange(n_mel)[None, :]
    basis = np.cos(np.pi * k * (2 * j + 1) / (2 * n_mel)) * math.sqrt(2.0 / n_mel)
    basis[0] /= math.sqrt(2.0)
    return basis


def _readonly(**arrays: np.ndarray) -> dict[str, np.ndarray]:
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


@functools.lru_cache(maxsize=16)
def tables(config: FrontendConfig) -> FrontendTables:
    """Compute all integer tables for ``config`` (pure; cached per config)."""
    n_fft = config.fft_size
    m = n_fft // 2
    window = np.minimum(_q(hann_window(config.window_samples), WINDOW_FRAC_BITS), 32767).astype(np.int16)

    # Headroom: |Z| of the m-point FFT <= m * sqrt(2) * 2**b must stay below 2**30 (int32 with sign
    # and one spare bit for the split's A +- B): b = 29 - log2(n_fft) gives 2**29.5 at most.
    block_norm_bits = FFT_PEAK_BITS - int(math.log2(n_fft))

    angles = 2.0 * np.pi * np.arange(m // 2) / m
    fft_cos = _q(np.cos(angles), TWIDDLE_FRAC_BITS).astype(np.int32)
    fft_sin = _q(np.sin(angles), TWIDDLE_FRAC_BITS).astype(np.int32)

    weights = mel_filterbank(config.sample_rate_hz, n_fft, config.n_mel, config.lower_hz, config.upper_hz)
    weights_q15 = np.minimum(_q(weights, MEL_WEIGHT_FRAC_BITS), 32767)
    band_start, band_n_bins, flat_weights = sparse_bands(weights_q15)
    if np.any(band_n_bins <= 0):
        empty = int(np.flatnonzero(band_n_bins <= 0)[0])
        raise ConfigError(f"FrontendConfig: mel band {empty} covers no FFT bin; lower n_mel or raise fft_size")
    if np.any(np.diff(band_start) < 0):
        raise ConfigError("FrontendConfig: mel bands must start at non-decreasing FFT bins")
    first_bin = int(band_start.min())
    last_bin = int((band_start + band_n_bins).max())
    bins = np.arange(first_bin, last_bin)
    split_angles = 2.0 * np.pi * bins / n_fft

    mel_scale_log2 = MEL_SCALE_LOG2  # the log floor's shift range is checked by validate_frontend

    log2_table = _q(np.log2(1.0 + np.arange((1 << LOG2_TABLE_BITS) + 1) / (1 << LOG2_TABLE_BITS)), LOG2_FRAC_BITS)
    dct = _q(math.log(2.0) * dct_matrix(config.n_mfcc, config.n_mel), DCT_FRAC_BITS).astype(np.int16)

    arrays = _readonly(
        window_q15=window,
        fft_cos_q30=fft_cos,
        fft_sin_q30=fft_sin,
        fft_bitrev=bit_reverse_indices(m).astype(np.int32),
        split_cos_q30=_q(np.cos(split_angles), TWIDDLE_FRAC_BITS).astype(np.int32),
        split_sin_q30=_q(np.sin(split_angles), TWIDDLE_FRAC_BITS).astype(np.int32),
        mel_band_start=band_start,
        mel_band_n_bins=band_n_bins,
        mel_weights_q15=flat_weights,
        log2_table_q16=log2_table.astype(np.int32),
        dct_q15=dct,
    )
    return FrontendTables(
        config=config,
        block_norm_bits=block_norm_bits,
        first_bin=first_bin,
        n_bins_used=last_bin - first_bin,
        mel_scale_log2=mel_scale_log2,
        mfcc_shift=DCT_FRAC_BITS + LOG2_FRAC_BITS - config.mfcc_frac_bits,
        **arrays,
    )
