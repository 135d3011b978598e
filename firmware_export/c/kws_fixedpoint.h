/* The one C mirror of kws/fixedpoint.py: rounding, saturation, TFLite int8 multipliers.
 * Every generated kws file uses these and nothing else for rounding, so C rounds like Python.
 * C99, no floating point, no undefined behaviour for the documented input ranges. */
#ifndef KWS_FIXEDPOINT_H
#define KWS_FIXEDPOINT_H

#include <stdint.h>

#if defined(__GNUC__)
#define KWS_INLINE static inline __attribute__((always_inline))
#else
#define KWS_INLINE static inline
#endif

#define KWS_INT8_MIN (-128)
#define KWS_INT8_MAX 127
#define KWS_INT16_MIN (-32768)
#define KWS_INT16_MAX 32767

/* Arithmetic right shift of a signed value (floor division by 2**shift). Written with a
 * division-free formula so it is defined for negative values on every C99 compiler. */
KWS_INLINE int64_t kws_asr64(int64_t x, int shift) {
    return x >= 0 ? (int64_t)((uint64_t)x >> shift) : (int64_t)~(~(uint64_t)x >> shift);
}
KWS_INLINE int32_t kws_asr32(int32_t x, int shift) {
    return x >= 0 ? (int32_t)((uint32_t)x >> shift) : (int32_t)~(~(uint32_t)x >> shift);
}

/* round(x / 2**shift), ties toward +infinity: (x + 2**(shift-1)) >> shift. shift >= 0.
 * Mirrors kws.fixedpoint.round_shift_right. */
KWS_INLINE int64_t kws_round_shift_right64(int64_t x, int shift) {
    return shift == 0 ? x : kws_asr64(x + ((int64_t)1 << (shift - 1)), shift);
}
KWS_INLINE int32_t kws_round_shift_right32(int32_t x, int shift) {
    return shift == 0 ? x : kws_asr32(x + ((int32_t)1 << (shift - 1)), shift);
}

/* round(x / 2**shift) (ties toward +infinity) when the result is known to fit int32, 1 <= shift <= 32.
 * Only the low 32 bits of the shifted sum are kept, and those are the same for a logical and an
 * arithmetic shift, so this is kws_round_shift_right64 without the sign branch (cheap on Cortex-M). */
KWS_INLINE int32_t kws_round_shift_right64_to32(int64_t x, int shift) {
    return (int32_t)(uint32_t)(((uint64_t)x + ((uint64_t)1 << (shift - 1))) >> shift);
}

/* Multiply by 2**left_shift: exact left shift if >= 0, else rounding right shift
 * (kws.fixedpoint.shift_by). The left shift is done on the unsigned image (no UB). */
KWS_INLINE int64_t kws_shift_by64(int64_t x, int left_shift) {
    return left_shift >= 0 ? (int64_t)((uint64_t)x << left_shift) : kws_round_shift_right64(x, -left_shift);
}

KWS_INLINE int8_t kws_sat8(int32_t x) {
    return (int8_t)(x < KWS_INT8_MIN ? KWS_INT8_MIN : (x > KWS_INT8_MAX ? KWS_INT8_MAX : x));
}
KWS_INLINE int16_t kws_sat16(int64_t x) {
    return (int16_t)(x < KWS_INT16_MIN ? KWS_INT16_MIN : (x > KWS_INT16_MAX ? KWS_INT16_MAX : x));
}
KWS_INLINE int32_t kws_clamp32(int32_t x, int32_t lo, int32_t hi) {
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Number of bits needed for a non-negative value (0 -> 0): kws.fixedpoint.bit_length. */
KWS_INLINE int kws_bit_length64(uint64_t v) {
#if defined(__GNUC__)
    return v ? 64 - __builtin_clzll(v) : 0;
#else
    int n = 0;
    while (v) { v >>= 1; ++n; }
    return n;
#endif
}
KWS_INLINE int kws_bit_length32(uint32_t v) {
#if defined(__GNUC__)
    return v ? 32 - __builtin_clz(v) : 0;
#else
    return kws_bit_length64(v);
#endif
}

/* Multiply by 2**left_shift on 32 bits: exact left shift if >= 0, else rounding right shift.
 * The caller keeps the result inside int32 (kws.fixedpoint.shift_by). */
KWS_INLINE int32_t kws_shift_by32(int32_t x, int left_shift) {
    return left_shift >= 0 ? (int32_t)((uint32_t)x << left_shift) : kws_round_shift_right32(x, -left_shift);
}

/* floor(sqrt(x)) for x in [2**30, 2**32) (result in [2**15, 2**16)): a tangent line of sqrt seeds
 * three integer Newton steps (32-bit divisions; each step leaves y >= floor(sqrt(x))), and a
 * downward correction makes the result exact (it runs at most once or twice). */
KWS_INLINE uint32_t kws_isqrt32_normalized(uint32_t x) {
    uint32_t y = 24578u + (((x >> 16) * 43691u) >> 16);  /* 2**16 * (0.375 + t / 1.5), t = x / 2**32 */
    y = (y + x / y) >> 1;
    y = (y + x / y) >> 1;
    y = (y + x / y) >> 1;
    while ((uint64_t)y * y > x) --y;
    return y;
}

/* Exact floor(sqrt(v)) for every uint32 (kws.fixedpoint.isqrt_floor). No bit-by-bit loop: an even
 * left shift puts the top bit at 30 or 31, then kws_isqrt32_normalized. */
KWS_INLINE uint32_t kws_isqrt32(uint32_t v) {
    if (v == 0) return 0;
    int half = (32 - kws_bit_length32(v)) >> 1;
    return kws_isqrt32_normalized(v << (2 * half)) >> half;
}

/* Exact floor(sqrt(v)) for every uint64 (result < 2**32), without 64-bit division or 64-bit
 * variable shifts: normalise by an even shift 2h < 32 of the two 32-bit halves, take the root of
 * the high word, then one "Karatsuba square root" step in base 2**16 (P. Zimmermann, 1999) with a
 * 32-bit division and a single correction. The intermediate values that exceed 32 bits only in
 * passing (r1 * 2**16, s before its correction) are exact modulo 2**32 and end below 2**32. */
KWS_INLINE uint32_t kws_isqrt64(uint64_t v) {
    uint32_t vh = (uint32_t)(v >> 32), vl = (uint32_t)v;
    if (vh == 0) return kws_isqrt32(vl);
    int shift = (32 - kws_bit_length32(vh)) & ~1;             /* 2h, even, 0 .. 30 */
    uint32_t hi = (vh << shift) | ((vl >> 1) >> (31 - shift)); /* top word of v * 2**2h, in [2**30, 2**32) */
    uint32_t lo = vl << shift;
    uint32_t s1 = kws_isqrt32_normalized(hi);                 /* in [2**15, 2**16) */
    uint32_t r1 = hi - s1 * s1;                               /* 0 <= r1 <= 2 * s1 < 2**17 */
    uint32_t a1 = lo >> 16, a0 = lo & 0xFFFFu;
    uint32_t q = ((r1 << 15) | (a1 >> 1)) / s1;               /* floor((r1 * 2**16 + a1) / (2 * s1)) <= 2**16 */
    uint32_t u = ((r1 << 16) | a1) - 2u * s1 * q;             /* < 2 * s1 (exact modulo 2**32) */
    uint32_t s = (s1 << 16) + q;
    if ((((uint64_t)u << 16) | a0) < (uint64_t)q * q) --s;    /* remainder would be negative */
    return s >> (shift >> 1);
}

/* ---- TFLite int8 arithmetic (gemmlowp semantics, as the TFLite Micro reference kernels) ---- */

/* SaturatingRoundingDoublingHighMul: high 32 bits of 2*a*b, rounded, saturating the one
 * overflow case a == b == INT32_MIN. */
KWS_INLINE int32_t kws_sat_rounding_doubling_high_mul(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    int64_t num = ab + nudge;
    /* C division truncates toward zero: that is what gemmlowp does here */
    return (int32_t)(num / ((int64_t)1 << 31));
}

/* RoundingDivideByPOT: x / 2**exponent rounded half away from zero, 0 <= exponent <= 31. */
KWS_INLINE int32_t kws_rounding_divide_by_pot(int32_t x, int exponent) {
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return kws_asr32(x, exponent) + (remainder > threshold ? 1 : 0);
}

/* MultiplyByQuantizedMultiplier: x * q31 * 2**(shift - 31) with TFLite's double rounding.
 * shift > 0 is a left shift applied before the high multiply (kws.fixedpoint). */
KWS_INLINE int32_t kws_multiply_by_quantized_multiplier(int32_t x, int32_t q31, int shift) {
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    return kws_rounding_divide_by_pot(
        kws_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left), q31), right);
}

/* MultiplyByQuantizedMultiplierGreaterThanOne: x * 2**left_shift, then the rounding high multiply
 * (left_shift >= 0; the caller keeps x * 2**left_shift inside int32). */
KWS_INLINE int32_t kws_multiply_by_quantized_multiplier_gt_one(int32_t x, int32_t q31, int left_shift) {
    return kws_sat_rounding_doubling_high_mul((int32_t)((uint32_t)x << left_shift), q31);
}

/* ---- gemmlowp fixed-point functions used by the int8 softmax (raw int32 values) ---- */

/* SaturatingRoundingMultiplyByPOT with a positive exponent: x * 2**exponent, saturated. 0 < exponent < 31. */
KWS_INLINE int32_t kws_saturating_left_shift(int32_t x, int exponent) {
    const int32_t threshold = (int32_t)(((int32_t)1 << (31 - exponent)) - 1);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

/* RoundingHalfSum: (a + b) / 2 rounded half away from zero, computed in 64 bits. */
KWS_INLINE int32_t kws_rounding_half_sum(int32_t a, int32_t b) {
    int64_t sum = (int64_t)a + (int64_t)b;
    return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* exp(a) for a in [-1/4, 0), Q0.31 in and out (Taylor series around -1/8, gemmlowp constants). */
KWS_INLINE int32_t kws_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a) {
    const int32_t constant_term = 1895147668;  /* exp(-1/8) in Q0.31 */
    const int32_t constant_1_over_3 = 715827883;
    int32_t x = a + ((int32_t)1 << 28);  /* a + 1/8 */
    int32_t x2 = kws_sat_rounding_doubling_high_mul(x, x);
    int32_t x3 = kws_sat_rounding_doubling_high_mul(x2, x);
    int32_t x4 = kws_sat_rounding_doubling_high_mul(x2, x2);
    int32_t x4_over_4 = kws_rounding_divide_by_pot(x4, 2);
    int32_t poly = kws_rounding_divide_by_pot(
        kws_sat_rounding_doubling_high_mul(x4_over_4 + x3, constant_1_over_3) + x2, 1);
    return constant_term + kws_sat_rounding_doubling_high_mul(constant_term, x + poly);
}

/* exp(a) for a <= 0: a in Q5.26 (5 integer bits, as the int8 softmax uses), result in Q0.31. */
KWS_INLINE int32_t kws_exp_on_negative_values_q5_26(int32_t a) {
    static const int32_t multipliers[7] = {  /* exp(-2**k) in Q0.31 for k = -2 .. 4 */
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t one_quarter = (int32_t)1 << 24;
    const int32_t a_mod_quarter_minus_one_quarter = (a & (one_quarter - 1)) - one_quarter;
    int32_t result = kws_exp_on_interval_between_negative_one_quarter_and_0_excl(
        kws_saturating_left_shift(a_mod_quarter_minus_one_quarter, 5));
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    int k;
    for (k = 0; k < 7; ++k) {
        if (remainder & ((int32_t)1 << (24 + k))) {
            result = kws_sat_rounding_doubling_high_mul(result, multipliers[k]);
        }
    }
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + a) for a in [0, 1): a in Q0.31, result in Q0.31 (Newton-Raphson, 3 steps, gemmlowp). */
KWS_INLINE int32_t kws_one_over_one_plus_x_for_x_in_0_1(int32_t a) {
    const int32_t half_denominator = kws_rounding_half_sum(a, INT32_MAX);
    const int32_t constant_48_over_17 = 1515870810;     /* Q2.29 */
    const int32_t constant_neg_32_over_17 = -1010580540; /* Q2.29 */
    int32_t x = constant_48_over_17 + kws_sat_rounding_doubling_high_mul(half_denominator, constant_neg_32_over_17);
    int i;
    for (i = 0; i < 3; ++i) {
        int32_t half_denominator_times_x = kws_sat_rounding_doubling_high_mul(half_denominator, x);
        int32_t one_minus = ((int32_t)1 << 29) - half_denominator_times_x;
        x = x + kws_saturating_left_shift(kws_sat_rounding_doubling_high_mul(x, one_minus), 2);
    }
    return kws_saturating_left_shift(x, 1);
}

#endif /* KWS_FIXEDPOINT_H */
