"""Fixed-point real FFT: an N/2-point complex radix-2 FFT on packed input, then a split step.

Data are integers below 2**30 in magnitude held in int64 arrays (int32 in C);
twiddles are Q30. Each complex product is accumulated exactly and rounded once
(:func:`kws.fixedpoint.round_shift_right` by 30). There is no per-stage
scaling: the caller normalises the input block so it cannot overflow (see
``FrontendTables.block_norm_bits``).
"""

from __future__ import annotations

import numpy as np

from kws.config import TWIDDLE_FRAC_BITS
from kws.fixedpoint import as_int64, round_shift_right

__all__ = ["TWIDDLE_FRAC_BITS", "bit_reverse_indices", "complex_fft", "real_fft_bins"]


def bit_reverse_indices(n: int) -> np.ndarray:
    """Bit-reversal permutation of ``range(n)``, n a power of two."""
    bits = n.bit_length() - 1
    idx = np.arange(n)
    rev = np.zeros(n, dtype=np.int64)
    for b in range(bits):
        rev |= ((idx >> b) & 1) << (bits - 1 - b)
    return rev


def _complex_mul_q30(re, im, cos_q30, sin_q30):
    """(re + j im) * (cos - j sin), each component rounded once."""
    half = np.int64(1 << (TWIDDLE_FRAC_BITS - 1))
    out_re = re * cos_q30
    out_re += im * sin_q30
    out_re += half
    out_re >>= TWIDDLE_FRAC_BITS
    out_im = im * cos_q30
    out_im -= re * sin_q30
    out_im += half
    out_im >>= TWIDDLE_FRAC_BITS
    return out_re, out_im  # == round_shift_right(re*c + im*s, 30), in place for speed


def complex_fft(re: np.ndarray, im: np.ndarray, cos_q30: np.ndarray, sin_q30: np.ndarray, bitrev: np.ndarray):
    """In-order output of a radix-2 decimation-in-time FFT along the last axis.

    Parameters
    ----------
    re, im : np.ndarray [shape=(frames, m), int64]
    cos_q30, sin_q30 : np.ndarray [shape=(m // 2,), int64], cos/sin(2 pi k / m) in Q30
    bitrev : np.ndarray [shape=(m,)] bit-reversal permutation

    Returns
    -------
    (re, im) : np.ndarray [shape=(frames, m), int64]
    """
    m = re.shape[-1]
    frames = re.shape[0]
    re = as_int64(re)[:, bitrev]
    im = as_int64(im)[:, bitrev]
    out_re = np.empty_like(re)
    out_im = np.empty_like(im)
    size = 2
    while size <= m:
        half = size // 2
        groups = m // size
        re4 = re.reshape(frames, groups, 2, half)
        im4 = im.reshape(frames, groups, 2, half)
        a_re, a_im = re4[:, :, 0, :], im4[:, :, 0, :]
        b_re, b_im = re4[:, :, 1, :], im4[:, :, 1, :]
        if half == 1:  # the only twiddle is 1: the product is exact, skip it
            t_re, t_im = b_re, b_im
        else:
            step = m // size
            c = cos_q30[::step][:half]
            s = sin_q30[::step][:half]
            t_re, t_im = _complex_mul_q30(b_re, b_im, c, s)
        o_re = out_re.reshape(frames, groups, 2, half)
        o_im = out_im.reshape(frames, groups, 2, half)
        np.add(a_re, t_re, out=o_re[:, :, 0, :])
        np.subtract(a_re, t_re, out=o_re[:, :, 1, :])
        np.add(a_im, t_im, out=o_im[:, :, 0, :])
        np.subtract(a_im, t_im, out=o_im[:, :, 1, :])
        re, out_re = out_re, re
        im, out_im = out_im, im
        size *= 2
    return re, im


def real_fft_bins(z_re: np.ndarray, z_im: np.ndarray, bins: np.ndarray, split_cos_q30: np.ndarray,
                  split_sin_q30: np.ndarray):
    """Twice the real-input spectrum X[k] at ``bins``, from the packed N/2-point FFT Z.

    With z[n] = x[2n] + j x[2n+1] and M = N/2:
    2 X[k] = A - j W_N^k B, A = Z[k] + conj Z[M-k], B = Z[k] - conj Z[M-k].
    The factor 2 is kept (not divided out) to keep one more bit.

    Returns
    -------
    (re, im) : np.ndarray [shape=(frames, len(bins)), int64], 2 * X[bins]
    """
    m = z_re.shape[-1]
    mirror = (m - bins) % m
    k = bins % m
    a_re = z_re[:, k] + z_re[:, mirror]
    a_im = z_im[:, k] - z_im[:, mirror]
    b_re = z_re[:, k] - z_re[:, mirror]
    b_im = z_im[:, k] + z_im[:, mirror]
    x_re = a_re + round_shift_right(split_cos_q30 * b_im - split_sin_q30 * b_re, TWIDDLE_FRAC_BITS)
    x_im = a_im - round_shift_right(split_cos_q30 * b_re + split_sin_q30 * b_im, TWIDDLE_FRAC_BITS)
    return x_re, x_im
