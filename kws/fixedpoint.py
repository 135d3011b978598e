"""The one place for integer rounding, shifting and saturation.

Every quantized path in kws (front end, model, detector) uses these helpers and
nothing else, and ``firmware_export`` mirrors them in one C header, so Python
and C round identically. All functions take and return ``np.int64`` arrays (or
Python ints) unless stated; none of them uses floating point.
"""

from __future__ import annotations

import math

import numpy as np

INT8_MIN, INT8_MAX = -128, 127
INT16_MIN, INT16_MAX = -32768, 32767
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def as_int64(x) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def round_shift_right(x, shift: int) -> np.ndarray:
    """``round(x / 2**shift)`` with ties toward +infinity: ``(x + 2**(shift-1)) >> shift``.

    The C twin is ``kws_round_shift_right`` (arithmetic shift of a signed value).
    ``shift`` must be >= 0; ``shift == 0`` returns ``x`` unchanged.
    """
    x = as_int64(x)
    if shift < 0:
        raise ValueError(f"shift must be >= 0, got {shift}")
    if shift == 0:
        return x
    return (x + (1 << (shift - 1))) >> shift


def shift_by(x, left_shift) -> np.ndarray:
    """Multiply by ``2**left_shift``: exact left shift if >= 0, else :func:`round_shift_right`.

    ``left_shift`` may be an array (element-wise shifts, as in block floating point).
    """
    x = as_int64(x)
    left = as_int64(left_shift)
    if left.ndim == 0:
        s = int(left)
        return x << s if s >= 0 else round_shift_right(x, -s)
    up = np.maximum(left, 0)
    down = np.maximum(-left, 0)
    half = np.left_shift(np.int64(1), down) >> 1  # 0 where nothing is shifted out
    return ((x << up) + half) >> down


def saturate(x, bits: int) -> np.ndarray:
    """Clamp to the signed ``bits``-bit range and return the matching numpy dtype."""
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    dtype = {8: np.int8, 16: np.int16, 32: np.int32}.get(bits, np.int64)
    return np.clip(as_int64(x), lo, hi).astype(dtype)


_POWERS_OF_TWO = np.left_shift(np.int64(1), np.arange(63, dtype=np.int64))


def bit_length(x) -> np.ndarray:
    """Number of bits needed for each non-negative value (0 -> 0), element-wise, integer-only.

    Mirrors ``64 - __builtin_clzll`` in C: the count of powers of two <= v,
    found by binary search over the 63 powers (exact for every int64).
    """
    v = as_int64(x)
    if np.any(v < 0):
        raise ValueError("bit_length expects non-negative values")
    return np.searchsorted(_POWERS_OF_TWO, v, side="right").astype(np.int64)


def isqrt_floor(x) -> np.ndarray:
    """Exact ``floor(sqrt(x))`` for non-negative int64 values, integer Newton iteration.

    Starts from ``2**ceil(bits/2)`` (always above the root) and iterates
    ``r = (r + x // r) // 2`` while it decreases, which converges to the floor
    of the square root. The C version (``kws_isqrt64``) normalises, seeds, takes Newton steps with
    32-bit divisions and corrects once; both compute
    the same mathematically defined value.
    """
    v = as_int64(x)
    r = np.left_shift(np.int64(1), (bit_length(v) + 1) // 2)
    r = np.maximum(r, 1)
    safe_v = np.maximum(v, 1)  # the root of 0 is 0; iterate on 1 to avoid dividing by zero
    while True:
        nxt = (r + safe_v // r) >> 1
        done = nxt >= r
        if np.all(done):
            return np.where(v == 0, 0, r)
        r = np.where(done, r, nxt)


# --- TFLite int8 arithmetic (used by the model runtime) -----------------------------------


def quantize_multiplier(scale: float) -> tuple[int, int]:
    """Express a positive real ``scale`` as ``q31 * 2**(shift - 31)``, q31 in [2**30, 2**31).

    Same decomposition as TFLite's ``QuantizeMultiplier`` (frexp, then round the
    mantissa to 31 bits). Returns ``(q31, shift)``; ``shift`` > 0 is a left shift.
    Runs at export/load time, never on the device path.
    """
    if scale == 0.0:
        return 0, 0
    if scale < 0:
        raise ValueError(f"scale must be >= 0, got {scale}")
    mantissa, exponent = math.frexp(scale)
    # TfLiteRound (std::round) rounds halves away from zero; Python's round() would round them
    # to even. mantissa * 2**31 has at most 22 fraction bits, so adding 0.5 is exact.
    q = math.floor(mantissa * (1 << 31) + 0.5)
    if q == 1 << 31:
        q //= 2
        exponent += 1
    if exponent < -31:
        return 0, 0
    return int(q), int(exponent)


def saturating_rounding_doubling_high_mul(a, b) -> np.ndarray:
    """TFLite/gemmlowp ``SaturatingRoundingDoublingHighMul`` for int32 inputs."""
    a = as_int64(a)
    b = as_int64(b)
    overflow = (a == INT32_MIN) & (b == INT32_MIN)
    ab = a * b
    nudge = np.where(ab >= 0, 1 << 30, 1 - (1 << 30))
    # C integer division truncates toward zero; numpy's // floors, so divide magnitudes.
    num = ab + nudge
    high = np.sign(num) * (np.abs(num) >> 31)
    return np.where(overflow, INT32_MAX, high)


def rounding_divide_by_pot(x, exponent) -> np.ndarray:
    """TFLite ``RoundingDivideByPOT``: divide by ``2**exponent``, ties away from zero."""
    x = as_int64(x)
    exponent = as_int64(exponent)
    mask = (np.int64(1) << exponent) - 1
    remainder = x & mask
    threshold = (mask >> 1) + (x < 0)
    return (x >> exponent) + (remainder > threshold)


def multiply_by_quantized_multiplier(x, q31, shift) -> np.ndarray:
    """TFLite ``MultiplyByQuantizedMultiplier``: ``x * q31 * 2**(shift-31)``, int32 semantics."""
    x = as_int64(x)
    shift = as_int64(shift)
    left = np.maximum(shift, 0)
    right = np.maximum(-shift, 0)
    return rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x * (np.int64(1) << left), q31), right)
