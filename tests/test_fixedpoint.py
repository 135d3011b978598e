import math

import numpy as np
import pytest

from kws import fixedpoint as fx


def test_round_shift_right_rounds_half_up():
    assert fx.round_shift_right([3, -3, 5, -5, 4, -4, 7], 1).tolist() == [2, -1, 3, -2, 2, -2, 4]
    assert fx.round_shift_right([123], 0).tolist() == [123]
    with pytest.raises(ValueError):
        fx.round_shift_right([1], -1)


def test_shift_by_per_element_matches_scalar_shifts():
    rng = np.random.default_rng(0)
    x = rng.integers(-(2**30), 2**30, 500)
    shifts = rng.integers(-12, 12, 500)
    expected = [fx.shift_by(v, int(s)).item() for v, s in zip(x, shifts)]
    assert fx.shift_by(x, shifts).tolist() == expected


def test_saturate_clamps_and_sets_dtype():
    out = fx.saturate([-1000, -128, 0, 127, 1000], 8)
    assert out.dtype == np.int8 and out.tolist() == [-128, -128, 0, 127, 127]
    assert fx.saturate([40000, -40000], 16).tolist() == [32767, -32768]


def test_bit_length_matches_python_for_all_magnitudes():
    values = [0, 1, 2, 3, 255, 256] + [2**k - 1 for k in range(1, 64)] + [2**k for k in range(63)]
    assert fx.bit_length(values).tolist() == [int(v).bit_length() for v in values]


def test_isqrt_floor_is_exact():
    rng = np.random.default_rng(1)
    values = np.concatenate([np.arange(2000), rng.integers(0, 2**62, 20000), [2**62 - 1, 2**63 - 1, 2**61]])
    assert fx.isqrt_floor(values).tolist() == [math.isqrt(int(v)) for v in values]


def test_quantize_multiplier_reconstructs_scale():
    for scale in [1e-6, 0.0039215, 0.25, 0.5, 0.999999, 1.0, 3.7, 1000.0]:
        q31, shift = fx.quantize_multiplier(scale)
        assert 2**30 <= q31 < 2**31
        assert math.isclose(q31 * 2.0 ** (shift - 31), scale, rel_tol=2**-30)
    assert fx.quantize_multiplier(0.0) == (0, 0)


def _tflite_mbqm(x: int, q: int, shift: int) -> int:
    """Plain-int transcription of TFLite's MultiplyByQuantizedMultiplier (for cross-checking)."""
    left, right = max(shift, 0), max(-shift, 0)
    a = x * (1 << left)
    a = max(min(a, 2**31 - 1), -(2**31))
    if a == q == -(2**31):
        high = 2**31 - 1
    else:
        ab = a * q
        nudge = (1 << 30) if ab >= 0 else 1 - (1 << 30)
        high = int((ab + nudge) / (1 << 31)) if abs(ab + nudge) < 2**52 else (abs(ab + nudge) >> 31) * (1 if ab + nudge >= 0 else -1)
    mask = (1 << right) - 1
    remainder = high & mask
    threshold = (mask >> 1) + (1 if high < 0 else 0)
    return (high >> right) + (1 if remainder > threshold else 0)


def test_multiply_by_quantized_multiplier_matches_tflite_semantics():
    rng = np.random.default_rng(2)
    xs = rng.integers(-(2**20), 2**20, 300)
    for scale in [0.00123, 0.0451, 0.3, 0.73]:
        q, shift = fx.quantize_multiplier(scale)
        got = fx.multiply_by_quantized_multiplier(xs, q, shift).tolist()
        assert got == [_tflite_mbqm(int(x), q, shift) for x in xs]
        assert np.allclose(got, xs * scale, atol=1.0)


def test_quantize_multiplier_rounds_halves_away_from_zero_like_tflite():
    # mantissa * 2**31 == 2**30 + 0.5 exactly: TFLite's std::round gives 2**30 + 1 (round() would give 2**30)
    scale = (2**30 + 0.5) / 2**31
    assert fx.quantize_multiplier(scale) == (2**30 + 1, 0)
    assert fx.quantize_multiplier((2**30 + 1.5) / 2**31) == (2**30 + 2, 0)
