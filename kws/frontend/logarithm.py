"""Integer log2 with a 257-entry table and linear interpolation."""

from __future__ import annotations

import numpy as np

from kws.fixedpoint import as_int64, bit_length, round_shift_right
from kws.frontend.tables import LOG2_FRAC_BITS, LOG2_MANTISSA_BITS, LOG2_TABLE_BITS

_REMAINDER_BITS = LOG2_MANTISSA_BITS - LOG2_TABLE_BITS


def log2_q16(value: np.ndarray, table_q16: np.ndarray) -> np.ndarray:
    """``log2(value)`` in Q16 for positive int64 values.

    The value is normalised to a mantissa in [2**30, 2**31) (right shifts
    truncate), the top 8 fraction bits index the table, the remaining 22 bits
    interpolate linearly between neighbouring entries.

    Returns
    -------
    np.ndarray [same shape, int64], at most ~2**22 in magnitude
    """
    v = as_int64(value)
    if np.any(v <= 0):
        raise ValueError("log2_q16 needs positive values")
    msb = bit_length(v) - 1
    right = np.maximum(msb - LOG2_MANTISSA_BITS, 0)
    left = np.maximum(LOG2_MANTISSA_BITS - msb, 0)
    mantissa = (v >> right) << left
    fraction = mantissa - (1 << LOG2_MANTISSA_BITS)
    index = fraction >> _REMAINDER_BITS
    remainder = fraction & ((1 << _REMAINDER_BITS) - 1)
    table = as_int64(table_q16)
    low = table[index]
    step = table[index + 1] - low
    return (msb << LOG2_FRAC_BITS) + low + round_shift_right(step * remainder, _REMAINDER_BITS)
