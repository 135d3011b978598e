/* int8 kernels with TFLite reference semantics; see kws_kernels.h. */
#include "kws_kernels.h"

#include <stddef.h>
#include <string.h>

#include "kws_fixedpoint.h"

/* ---- optional DSP (SIMD32) path ------------------------------------------------------------- */
#if defined(KWS_TEST_EMULATE_DSP)
#include "kws_dsp_emulation.h"
#define KWS_USE_DSP 1
#define KWS_SXTB16(x) kws_emu_sxtb16(x)
#define KWS_SXTAB16(a, x) kws_emu_sxtab16((a), (x))
#define KWS_SMLAD(a, b, acc) kws_emu_smlad((a), (b), (acc))
#define KWS_SMLABB(a, b, acc) kws_emu_smlabb((a), (b), (acc))
#define KWS_SMLATT(a, b, acc) kws_emu_smlatt((a), (b), (acc))
#elif defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>
#define KWS_USE_DSP 1
#define KWS_SXTB16(x) __sxtb16(x)
#define KWS_SXTAB16(a, x) __sxtab16((a), (x))
#define KWS_SMLAD(a, b, acc) __smlad((a), (b), (acc))
#define KWS_SMLABB(a, b, acc) __smlabb((a), (b), (acc))
#define KWS_SMLATT(a, b, acc) __smlatt((a), (b), (acc))
#else
#define KWS_USE_DSP 0
#endif

#if KWS_USE_DSP
/* Four int8 values as one word (little-endian lanes: byte n is element n); memcpy compiles to
 * one unaligned LDR on the M4. */
static inline int32_t kws_load4(const int8_t *p) {
    int32_t w;
    memcpy(&w, p, sizeof w);
    return w;
}
/* Rotate right by 8: brings bytes 1 and 3 to the positions SXTB16 reads. */
static inline int32_t kws_ror8(int32_t x) {
    uint32_t u = (uint32_t)x;
    return (int32_t)((u >> 8) | (u << 24));
}
/* SXTB16 / SXTAB16 of bytes 1 and 3: on the core, the rotation is the instruction's own ROR #8
 * operand (GCC does not fuse a separate rotate into it). */
#if defined(KWS_TEST_EMULATE_DSP)
#define KWS_SXTB16_ROR8(x) KWS_SXTB16(kws_ror8(x))
#define KWS_SXTAB16_ROR8(a, x) KWS_SXTAB16((a), kws_ror8(x))
#else
static inline int32_t kws_sxtb16_ror8(int32_t x) {
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline int32_t kws_sxtab16_ror8(int32_t a, int32_t x) {
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}
#define KWS_SXTB16_ROR8(x) kws_sxtb16_ror8(x)
#define KWS_SXTAB16_ROR8(a, x) kws_sxtab16_ror8((a), (x))
#endif
/* The same 16-bit value in both lanes. */
static inline int32_t kws_dup16(int32_t v) {
    uint32_t u = (uint32_t)v & 0xFFFFu;
    return (int32_t)(u | (u << 16));
}
#endif

/* Two dot products sharing one input vector (two output channels): the DSP path unpacks x once. */
static inline void kws_dot2_s8(const int8_t *x, const int8_t *w0, const int8_t *w1, int32_t n, int32_t x_offset,
                               int32_t *acc0, int32_t *acc1) {
    int32_t a0 = *acc0, a1 = *acc1;
    int32_t i = 0;
#if KWS_USE_DSP
    const int32_t offset2 = kws_dup16(x_offset);
    for (; i + 4 <= n; i += 4) {
        const int32_t xw = kws_load4(x + i);
        const int32_t x02 = KWS_SXTAB16(offset2, xw);
        const int32_t x13 = KWS_SXTAB16_ROR8(offset2, xw);
        const int32_t u = kws_load4(w0 + i);
        const int32_t v = kws_load4(w1 + i);
        a0 = KWS_SMLAD(x02, KWS_SXTB16(u), a0);
        a0 = KWS_SMLAD(x13, KWS_SXTB16_ROR8(u), a0);
        a1 = KWS_SMLAD(x02, KWS_SXTB16(v), a1);
        a1 = KWS_SMLAD(x13, KWS_SXTB16_ROR8(v), a1);
    }
#endif
    for (; i < n; ++i) {
        const int32_t xv = (int32_t)x[i] + x_offset;
        a0 += (int32_t)w0[i] * xv;
        a1 += (int32_t)w1[i] * xv;
    }
    *acc0 = a0;
    *acc1 = a1;
}

/* ---- requantization ------------------------------------------------------------------------- */

/* Arithmetic shift right of a signed value (GCC and Clang define >> on negative values so). */
#if defined(__GNUC__)
#define KWS_ASR32(x, s) ((x) >> (s))
#define KWS_ASR64(x, s) ((x) >> (s))
#else
#define KWS_ASR32(x, s) kws_asr32((x), (s))
#define KWS_ASR64(x, s) kws_asr64((x), (s))
#endif

/* 2**30 + 2**(30+e) for shift = -e < 0, built from its two words (see kws_requant). */
KWS_INLINE int64_t kws_requant_round(int32_t shift) {
    return shift == -1 ? (int64_t)0xC0000000u
                       : (int64_t)(((uint64_t)((uint32_t)1 << (-shift - 2)) << 32) | ((uint32_t)1 << 30));
}

/* kws_multiply_by_quantized_multiplier for a multiplier q31 >= 0 (every conv, fully-connected and
 * ADD multiplier is), with the same result for every int32 x, in a few instructions.
 *  - SaturatingRoundingDoublingHighMul(x, q31): with q31 >= 0 the saturating case cannot occur,
 *    and (ab + nudge) / 2**31 truncated toward zero (nudge 2**30 for ab >= 0, 1 - 2**30 otherwise)
 *    equals r = floor((ab + 2**30) / 2**31) for both signs (ab = x * q31).
 *  - RoundingDivideByPOT(r, e), e = -shift >= 1, halves away from zero, is
 *    floor((r - [r < 0] + 2**(e-1)) / 2**e); as floor(floor(u / m) / n) = floor(u / (m n)) the two
 *    steps are one: floor((ab + 2**30 + 2**(30+e) - [r < 0] * 2**31) / 2**(31+e)).
 *  - [r < 0] may be replaced by [x < 0]: they differ only when x < 0 and ab >= -2**30 (q31 = 0, or
 *    x = -1 with q31 = 2**30), where r = 0 and the sum divided by 2**(31+e) stays in
 *    [1/2 - 2**-e, 1/2 - 2**(-1-e)): the result is 0 either way.
 * So: one 64-bit multiply-accumulate onto a constant, a second one for the sign term, and the high
 * word shifted right by e - 1 (31 + e >= 32). No intermediate overflows int64 (|ab| < 2**62). */
KWS_INLINE int32_t kws_requant(int32_t x, int32_t q31, int32_t shift) {
    int64_t t;
    if (shift >= 0) {
        x = (int32_t)((uint32_t)x << shift);
        return (int32_t)KWS_ASR64((int64_t)x * q31 + ((int64_t)1 << 30), 31);
    }
    t = kws_requant_round(shift);
    t += (int64_t)x * q31 + (int64_t)(int32_t)((uint32_t)x >> 31) * INT32_MIN;
    return KWS_ASR32((int32_t)KWS_ASR64(t, 32), -shift - 1);
}

/* kws_requant(x, q31, shift) for shift < 0, given round = kws_requant_round(shift) and e1 = -shift - 1. */
KWS_INLINE int32_t kws_requant_neg32(int32_t x, int32_t q31, int64_t round, int32_t e1) {
#if KWS_USE_DSP && !defined(KWS_TEST_EMULATE_DSP)
    /* the two 64-bit multiply-accumulates as SMLAL (GCC widens the sign term to a UMULL otherwise) */
    uint32_t t_lo = (uint32_t)round, sign = (uint32_t)x >> 31, min = 0x80000000u;
    int32_t t_hi = (int32_t)KWS_ASR64(round, 32);
    __asm__("smlal %0, %1, %2, %3" : "+r"(t_lo), "+r"(t_hi) : "r"(x), "r"(q31));
    __asm__("smlal %0, %1, %2, %3" : "+r"(t_lo), "+r"(t_hi) : "r"(sign), "r"(min));
    return KWS_ASR32(t_hi, e1);
#else
    const int64_t t = round + (int64_t)x * q31 + (int64_t)(int32_t)((uint32_t)x >> 31) * INT32_MIN;
    return KWS_ASR32((int32_t)KWS_ASR64(t, 32), e1);
#endif
}

/* The same + output zero point, clamped to [lo, hi]. */
KWS_INLINE int8_t kws_requant_neg(int32_t x, int32_t q31, int64_t round, int32_t e1, int32_t zero, int32_t lo,
                                  int32_t hi) {
    return (int8_t)kws_clamp32(kws_requant_neg32(x, q31, round, e1) + zero, lo, hi);
}

/* Bias of channel c (int32, int16 or none). */
KWS_INLINE int32_t kws_bias(const int32_t *bias, const int16_t *bias16, int32_t c) {
    return bias != NULL ? bias[c] : (bias16 != NULL ? bias16[c] : 0);
}

/* Bias of channel c of a time-only layer. */
KWS_INLINE int32_t kws_time_bias(const kws_time_params_t *p, int32_t c) {
    return p->bias == NULL ? 0 : p->bias32 ? ((const int32_t *)p->bias)[c] : ((const int16_t *)p->bias)[c];
}

#if defined(__GNUC__)
#define KWS_NOINLINE __attribute__((noinline))
#else
#define KWS_NOINLINE
#endif


/* Channel c of a time-only layer at n positions: out[t * out_step] from the accumulator
 * acc[t * acc_step] plus the channel's bias, requantized with the channel's constants made once.
 * The one store of kws_conv_time_s8 and kws_depthwise_time_s8. */
static KWS_NOINLINE void kws_store_channel(const kws_time_params_t *p, int32_t c, const int32_t *acc,
                                           int32_t acc_step, int32_t n, int8_t *out, int32_t out_step) {
    const int32_t q31 = p->multiplier[c], shift = p->shift[c], bias = kws_time_bias(p, c);
    const int32_t zero = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int64_t round = shift < 0 ? kws_requant_round(shift) : 0;
    for (; n > 0; --n, acc += acc_step, out += out_step) {
        const int32_t v = *acc + bias;
        *out = (int8_t)kws_clamp32((shift < 0 ? kws_requant_neg32(v, q31, round, -shift - 1)
                                              : kws_requant(v, q31, shift)) + zero, lo, hi);
    }
}

/* Channels c .. c + count - 1 at one position from their accumulators acc[0 .. count - 1]. */
static KWS_NOINLINE void kws_conv_store_run(const kws_conv_params_t *p, int32_t c, int32_t count, const int32_t *acc,
                                            int8_t *o) {
    const int32_t zero = p->output_offset, lo = p->act_min, hi = p->act_max;
    int32_t j;
    for (j = 0; j < count; ++j) {
        const int32_t q31 = p->multiplier[c + j], shift = p->shift[c + j];
        if (shift < 0) {
            o[j] = kws_requant_neg(acc[j], q31, kws_requant_round(shift), -shift - 1, zero, lo, hi);
        } else {
            o[j] = (int8_t)kws_clamp32(kws_requant(acc[j], q31, shift) + zero, lo, hi);
        }
    }
}

/* ---- CONV_2D ------------------------------------------------------------------------------- */

/* Valid taps [*k0, *k1) of a kernel of k taps starting at input row i0 of n rows (dilation 1). */
static inline void kws_valid_taps(int32_t i0, int32_t k, int32_t n, int32_t *k0, int32_t *k1) {
    *k0 = i0 < 0 ? -i0 : 0;
    *k1 = k < n - i0 ? k : n - i0;
    if (*k1 < *k0) *k1 = *k0;
}

/* Two input rows x0, x1 of n values, plus the input offset, as int16 in SXTB16 lane order: per
 * 4 values, (x0: 0 2 1 3) then (x1: 0 2 1 3), i.e. the words (0 2), (1 3) of each row. Values past
 * n, up to a multiple of 4, are 0, so whatever weights they meet add nothing. Unpacked once per row
 * pair and reused by every output channel. */
static void kws_pack2(const int8_t *x0, const int8_t *x1, int32_t n, int32_t offset, int16_t *packed) {
    int32_t i;
    for (i = 0; i < ((n + 3) & ~3); ++i) {
        int16_t *at = packed + (i & ~3) * 2 + ((i & 1) << 1) + ((i >> 1) & 1);
        at[0] = (int16_t)(i < n ? x0[i] + offset : 0);
        at[4] = (int16_t)(i < n ? x1[i] + offset : 0);
    }
}

/* acc[2 * position + channel] += packed rows . weight rows w0, w1 (two output channels), n4 groups
 * of 4 values: 16 multiply-accumulates per 8 SMLAD on the DSP path. */
static KWS_NOINLINE void kws_dot2x2_packed(const int16_t *packed, const int8_t *w0, const int8_t *w1, int32_t n4,
                                           int32_t *acc) {
    int32_t a00 = acc[0], a01 = acc[1], a10 = acc[2], a11 = acc[3];
    for (; n4 > 0; --n4, packed += 8, w0 += 4, w1 += 4) {
#if KWS_USE_DSP
        const int32_t u = kws_load4(w0), v = kws_load4(w1);
        const int32_t x0 = kws_load4((const int8_t *)packed), x1 = kws_load4((const int8_t *)(packed + 2));
        const int32_t x2 = kws_load4((const int8_t *)(packed + 4)), x3 = kws_load4((const int8_t *)(packed + 6));
        int32_t w02 = KWS_SXTB16(u), w13 = KWS_SXTB16_ROR8(u);
        a00 = KWS_SMLAD(x0, w02, a00);
        a00 = KWS_SMLAD(x1, w13, a00);
        a10 = KWS_SMLAD(x2, w02, a10);
        a10 = KWS_SMLAD(x3, w13, a10);
        w02 = KWS_SXTB16(v);
        w13 = KWS_SXTB16_ROR8(v);
        a01 = KWS_SMLAD(x0, w02, a01);
        a01 = KWS_SMLAD(x1, w13, a01);
        a11 = KWS_SMLAD(x2, w02, a11);
        a11 = KWS_SMLAD(x3, w13, a11);
#else
        a00 += packed[0] * w0[0] + packed[1] * w0[2] + packed[2] * w0[1] + packed[3] * w0[3];
        a01 += packed[0] * w1[0] + packed[1] * w1[2] + packed[2] * w1[1] + packed[3] * w1[3];
        a10 += packed[4] * w0[0] + packed[5] * w0[2] + packed[6] * w0[1] + packed[7] * w0[3];
        a11 += packed[4] * w1[0] + packed[5] * w1[2] + packed[6] * w1[1] + packed[7] * w1[3];
#endif
    }
    acc[0] = a00;
    acc[1] = a01;
    acc[2] = a10;
    acc[3] = a11;
}

/* Convolution over time only (W == 1, kernel width 1, dilation 1): the valid taps of an output
 * row are one contiguous run of input and filter, so each output is a dot product without bounds
 * checks; two rows with the same valid taps and two channels are computed together. The run, at
 * most KWS_CONV_ROW values (KWS_CONV_TIME_FITS), is unpacked once per row pair and rounded up to
 * a multiple of 4 with zeros; the filter rows are read as far (past the last row, the filter ends
 * in 3 zero bytes when in_c is not a multiple of 4). */
void kws_conv_time_s8(const kws_time_params_t *p, const int8_t *input, int8_t *output) {
    const int32_t in_c = p->in_c, out_c = p->out_c, k_h = p->k_h, in_h = p->in_h, stride = p->stride;
    const int32_t filter_size = k_h * in_c;
    int32_t oy = 0;
    int16_t packed[2 * KWS_CONV_ROW];
    while (oy < p->out_h) {
        const int32_t iy0 = oy * stride - p->pad;
        int32_t k0, k1, k0b = -1, k1b = -1, oc, n;
        int two;
        const int8_t *x0;
        int8_t *out0 = output + oy * out_c;
        kws_valid_taps(iy0, k_h, in_h, &k0, &k1);
        if (oy + 1 < p->out_h) kws_valid_taps(iy0 + stride, k_h, in_h, &k0b, &k1b);
        two = k0b == k0 && k1b == k1;
        n = (k1 - k0) * in_c;
        x0 = input + (iy0 + k0) * in_c;
        kws_pack2(x0, two ? x0 + stride * in_c : x0, n, p->input_offset, packed);
        for (oc = 0; oc < out_c; oc += 2) {
            const int pair = oc + 1 < out_c;
            const int8_t *w0 = p->filter + oc * filter_size + k0 * in_c;
            int32_t acc[4] = {0, 0, 0, 0};
            kws_dot2x2_packed(packed, w0, pair ? w0 + filter_size : w0, (n + 3) >> 2, acc);
            kws_store_channel(p, oc, acc, 2, 1 + two, out0 + oc, out_c);
            if (pair) kws_store_channel(p, oc + 1, acc + 1, 2, 1 + two, out0 + oc + 1, out_c);
        }
        oy += two ? 2 : 1;
    }
}

/* The kws_time_params_t of a time-only layer given as kws_conv_params_t. */
static void kws_time_params(const kws_conv_params_t *p, kws_time_params_t *t) {
    t->in_h = p->in_h;
    t->in_c = p->in_c;
    t->out_h = p->out_h;
    t->out_c = p->out_c;
    t->k_h = p->k_h;
    t->stride = p->stride_h;
    t->pad = p->pad_h;
    t->input_offset = p->input_offset;
    t->output_offset = (int8_t)p->output_offset;
    t->act_min = (int8_t)p->act_min;
    t->act_max = (int8_t)p->act_max;
    t->bias32 = p->bias != NULL;
    t->bias = p->bias != NULL ? (const void *)p->bias : (const void *)p->bias16;
    t->filter = p->filter;
    t->multiplier = p->multiplier;
    t->shift = p->shift;
}

void kws_conv2d_s8(const kws_conv_params_t *p, const int8_t *input, int8_t *output) {
    const int32_t taps = p->k_h * p->k_w;
    const int32_t filter_size = taps * p->in_c;
    int32_t oy, ox, oc, ky, kx;
    if (p->in_w == 1 && p->out_w == 1 && p->k_w == 1 && p->dilation_h == 1 && p->in_c % 4 == 0 &&
        KWS_CONV_TIME_FITS(p->k_h, p->in_c)) {  /* (a filter without zero bytes at its end: whole groups of 4) */
        kws_time_params_t t;
        kws_time_params(p, &t);
        kws_conv_time_s8(&t, input, output);
        return;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_h;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_w;
            int8_t *out = output + (oy * p->out_w + ox) * p->out_c;
            for (oc = 0; oc < p->out_c; oc += 2) {
                const int pair = oc + 1 < p->out_c;
                const int8_t *f0 = p->filter + oc * filter_size;
                const int8_t *f1 = pair ? f0 + filter_size : f0;
                int32_t acc0 = 0, acc1 = 0;
                for (ky = 0; ky < p->k_h; ++ky) {
                    const int32_t iy = iy0 + p->dilation_h * ky;
                    if (iy < 0 || iy >= p->in_h) continue;
                    for (kx = 0; kx < p->k_w; ++kx) {
                        const int32_t ix = ix0 + p->dilation_w * kx;
                        const int32_t tap = (ky * p->k_w + kx) * p->in_c;
                        if (ix < 0 || ix >= p->in_w) continue;
                        kws_dot2_s8(input + (iy * p->in_w + ix) * p->in_c, f0 + tap, f1 + tap, p->in_c,
                                    p->input_offset, &acc0, &acc1);
                    }
                }
                int32_t acc[2];
                acc[0] = acc0 + kws_bias(p->bias, p->bias16, oc);
                acc[1] = acc1 + (pair ? kws_bias(p->bias, p->bias16, oc + 1) : 0);
                kws_conv_store_run(p, oc, 1 + pair, acc, out + oc);
            }
        }
    }
}

/* ---- DEPTHWISE_CONV_2D --------------------------------------------------------------------- */

/* One output channel at one output position: the plain reference loop. */
static int32_t kws_depthwise_channel(const kws_conv_params_t *p, const int8_t *input, int32_t iy0, int32_t ix0,
                                     int32_t ic, int32_t oc) {
    int32_t acc = 0, ky, kx;
    for (ky = 0; ky < p->k_h; ++ky) {
        const int32_t iy = iy0 + p->dilation_h * ky;
        if (iy < 0 || iy >= p->in_h) continue;
        for (kx = 0; kx < p->k_w; ++kx) {
            const int32_t ix = ix0 + p->dilation_w * kx;
            if (ix < 0 || ix >= p->in_w) continue;
            acc += (int32_t)p->filter[(ky * p->k_w + kx) * p->out_c + oc] *
                   ((int32_t)input[(iy * p->in_w + ix) * p->in_c + ic] + p->input_offset);
        }
    }
    return acc;
}

/* acc[t] = x[t * stride ..] . w for t < n (n even), x and w int16 with 2 * pairs values: two outputs
 * per pass sharing the weight loads, one SMLAD per pair of taps and output on the DSP path. Out of
 * line, so that its few live values stay in registers. */
static KWS_NOINLINE void kws_dw_column_dots(const int16_t *x, int32_t stride, const int16_t *w, int32_t pairs,
                                            int32_t n, int32_t *acc) {
    const int16_t *w_end = w + 2 * pairs;
    for (; n > 0; n -= 2, x += 2 * stride, acc += 2) {
        const int16_t *xk = x, *wk = w;
        int32_t a0 = 0, a1 = 0;
        for (; wk < w_end; wk += 2, xk += 2) {
#if KWS_USE_DSP
            int32_t x0, x1, wv;
            memcpy(&wv, wk, sizeof wv);
            memcpy(&x0, xk, sizeof x0);
            memcpy(&x1, xk + stride, sizeof x1);
            a0 = KWS_SMLAD(x0, wv, a0);
            a1 = KWS_SMLAD(x1, wv, a1);
#else
            a0 += xk[0] * wk[0] + xk[1] * wk[1];
            a1 += xk[stride] * wk[0] + xk[stride + 1] * wk[1];
#endif
        }
        acc[0] = a0;
        acc[1] = a1;
    }
}

/* Depthwise over time only (W == 1, kernel width 1, dilation 1, depth multiplier 1), channel by
 * channel: the channel's input column, plus the input offset, is copied as int16 into a scratch
 * column whose padding rows are 0 (they add nothing, as in TFLite), and its taps into an int16 row
 * padded to an even number of taps with 0; each output is then a dot product of int16 pairs without
 * bounds checks (kws_dw_column_dots), requantized with the channel's constants made once
 * (kws_store_channel). The
 * column is long enough for an even number of outputs (an odd last one is computed, not stored).
 * The emitter calls this only for layers that fit the scratch (KWS_DW_TIME_FITS);
 * kws_depthwise_conv2d_s8 checks the same. */
void kws_depthwise_time_s8(const kws_time_params_t *p, const int8_t *input, int8_t *output) {
    const int32_t ch = p->out_c, stride = p->stride, out_h = p->out_h, pairs = (p->k_h + 1) >> 1;
    const int32_t len = (out_h + (out_h & 1) - 1) * stride + 2 * pairs, in_offset = p->input_offset;
    const int32_t count = kws_clamp32(len - p->pad, 0, p->in_h), k_h = p->k_h;
    int16_t column[KWS_DW_COLUMN], weights[2 * KWS_DW_TAP_PAIRS];
    int32_t acc[KWS_DW_COLUMN];
    int16_t *const valid = column + p->pad;
    int32_t c, k;
    memset(column, 0, sizeof column);
    memset(weights, 0, sizeof weights);
    for (c = 0; c < ch; ++c) {
        const int8_t *x = input + c, *f = p->filter + c;
        for (k = 0; k < count; ++k, x += ch) valid[k] = (int16_t)(*x + in_offset);
        for (k = 0; k < k_h; ++k, f += ch) weights[k] = *f;
        kws_dw_column_dots(column, stride, weights, pairs, out_h + (out_h & 1), acc);
        kws_store_channel(p, c, acc, 1, out_h, output + c, ch);
    }
}

void kws_depthwise_conv2d_s8(const kws_conv_params_t *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, ic, m;
    if (p->in_w == 1 && p->out_w == 1 && p->k_w == 1 && p->dilation_h == 1 && p->depth_multiplier == 1 &&
        KWS_DW_TIME_FITS(p->out_h, p->stride_h, p->k_h)) {
        kws_time_params_t t;
        kws_time_params(p, &t);
        kws_depthwise_time_s8(&t, input, output);
        return;
    }
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_h;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_w;
            int8_t *out = output + (oy * p->out_w + ox) * p->out_c;
            for (ic = 0; ic < p->in_c; ++ic) {
                for (m = 0; m < p->depth_multiplier; ++m) {
                    const int32_t oc = ic * p->depth_multiplier + m;
                    const int32_t acc = kws_depthwise_channel(p, input, iy0, ix0, ic, oc) +
                                        kws_bias(p->bias, p->bias16, oc);
                    kws_conv_store_run(p, oc, 1, &acc, out + oc);
                }
            }
        }
    }
}

/* ---- FULLY_CONNECTED ----------------------------------------------------------------------- */

static inline int8_t kws_fc_out(const kws_fc_params_t *p, int32_t acc, int32_t u) {
    acc = kws_requant(acc + kws_bias(p->bias, p->bias16, u), p->multiplier[u], p->shift[u]) + p->output_offset;
    return (int8_t)kws_clamp32(acc, p->act_min, p->act_max);
}

void kws_fully_connected_s8(const kws_fc_params_t *p, const int8_t *input, int8_t *output) {
    int32_t b, u;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * p->depth;
        int8_t *out = output + b * p->units;
        for (u = 0; u < p->units; u += 2) {
            int32_t acc0 = 0, acc1 = 0;
            const int8_t *w0 = p->weights + u * p->depth;
            const int pair = u + 1 < p->units;
            kws_dot2_s8(x, w0, pair ? w0 + p->depth : w0, p->depth, p->input_offset, &acc0, &acc1);
            out[u] = kws_fc_out(p, acc0, u);
            if (pair) out[u + 1] = kws_fc_out(p, acc1, u + 1);
        }
    }
}

/* ---- pooling ------------------------------------------------------------------------------- */

void kws_avg_pool2d_s8(const kws_pool_params_t *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, c, y, x;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_h;
        const int32_t y_start = iy0 < 0 ? -iy0 : 0;
        const int32_t y_end = p->k_h < p->in_h - iy0 ? p->k_h : p->in_h - iy0;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_w;
            const int32_t x_start = ix0 < 0 ? -ix0 : 0;
            const int32_t x_end = p->k_w < p->in_w - ix0 ? p->k_w : p->in_w - ix0;
            for (c = 0; c < p->channels; ++c) {
                int32_t acc = 0, count = 0;
                for (y = y_start; y < y_end; ++y) {
                    for (x = x_start; x < x_end; ++x) {
                        acc += input[((iy0 + y) * p->in_w + ix0 + x) * p->channels + c];
                        ++count;
                    }
                }
                if (count > 0) {  /* round half away from zero, C division truncating as TFLite's */
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                }
                output[(oy * p->out_w + ox) * p->channels + c] = (int8_t)kws_clamp32(acc, p->act_min, p->act_max);
            }
        }
    }
}

void kws_max_pool2d_s8(const kws_pool_params_t *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, c, y, x;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_h;
        const int32_t y_start = iy0 < 0 ? -iy0 : 0;
        const int32_t y_end = p->k_h < p->in_h - iy0 ? p->k_h : p->in_h - iy0;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_w;
            const int32_t x_start = ix0 < 0 ? -ix0 : 0;
            const int32_t x_end = p->k_w < p->in_w - ix0 ? p->k_w : p->in_w - ix0;
            for (c = 0; c < p->channels; ++c) {
                int32_t best = KWS_INT8_MIN;
                for (y = y_start; y < y_end; ++y) {
                    for (x = x_start; x < x_end; ++x) {
                        const int32_t v = input[((iy0 + y) * p->in_w + ix0 + x) * p->channels + c];
                        if (v > best) best = v;
                    }
                }
                output[(oy * p->out_w + ox) * p->channels + c] = (int8_t)kws_clamp32(best, p->act_min, p->act_max);
            }
        }
    }
}

/* ---- ADD ----------------------------------------------------------------------------------- */

/* kws_requant with the constants of kws_requant_neg32 made by the caller when shift < 0. */
KWS_INLINE int32_t kws_rescale(int32_t x, int32_t q31, int32_t shift, int64_t round, int32_t e1) {
    return shift < 0 ? kws_requant_neg32(x, q31, round, e1) : kws_requant(x, q31, shift);
}

/* n elements of an ADD; inline, so a model without broadcasting links the plain loop alone. */
KWS_INLINE void kws_add_run(const kws_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output,
                            int32_t n) {
    const int32_t s1 = p->input1_shift, s2 = p->input2_shift, so = p->output_shift;
    const int64_t r1 = s1 < 0 ? kws_requant_round(s1) : 0, r2 = s2 < 0 ? kws_requant_round(s2) : 0;
    const int64_t ro = so < 0 ? kws_requant_round(so) : 0;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int32_t a = (int32_t)((uint32_t)((int32_t)input1[i] + p->input1_offset) << p->left_shift);
        const int32_t b = (int32_t)((uint32_t)((int32_t)input2[i] + p->input2_offset) << p->left_shift);
        const int32_t sum = kws_rescale(a, p->input1_multiplier, s1, r1, -s1 - 1) +
                            kws_rescale(b, p->input2_multiplier, s2, r2, -s2 - 1);
        output[i] = (int8_t)kws_clamp32(kws_rescale(sum, p->output_multiplier, so, ro, -so - 1) + p->output_offset,
                                        p->act_min, p->act_max);
    }
}

void kws_add_s8(const kws_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
    kws_add_run(p, input1, input2, output, p->size);
}

void kws_add_broadcast_s8(const kws_add_broadcast_params_t *p, const int8_t *input1, const int8_t *input2,
                          int8_t *output) {
    const int32_t inner = p->add.size;
    int32_t o, r;
    for (o = 0; o < p->outer; ++o) {
        for (r = 0; r < p->repeat; ++r) {
            const int32_t at = (o * p->repeat + r) * inner;
            kws_add_run(&p->add, input1 + (p->broadcast_input == 1 ? o * inner : at),
                        input2 + (p->broadcast_input == 2 ? o * inner : at), output + at, inner);
        }
    }
}

/* ---- SOFTMAX ------------------------------------------------------------------------------- */

/* The softmax runs once per inference on a few values: its gemmlowp helpers are out of line here
 * (one copy each; kws_fixedpoint.h's inline versions stay as they are for every other user). */
static KWS_NOINLINE int32_t kws_sm_mul(int32_t a, int32_t b) {
    return kws_sat_rounding_doubling_high_mul(a, b);
}
static KWS_NOINLINE int32_t kws_sm_div_pot(int32_t x, int32_t exponent) {
    return kws_rounding_divide_by_pot(x, (int)exponent);
}

/* kws_exp_on_negative_values_q5_26(input_multiplier * diff) for a difference diff <= 0 (both passes
 * call it). The operations are those of kws_fixedpoint.h in the same order; the one simplification:
 * the argument of the [-1/4, 0) polynomial, (a mod 1/4) - 1/4 in [-2**24, 0), shifted left by 5 never
 * reaches the saturation threshold 2**26 - 1 of kws_saturating_left_shift, so it is a plain shift. */
static KWS_NOINLINE int32_t kws_softmax_exp(const kws_softmax_params_t *p, int32_t diff) {
    static const int32_t multipliers[7] = {  /* exp(-2**k) in Q0.31 for k = -2 .. 4 */
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242};
    const int32_t constant_term = 1895147668;  /* exp(-1/8) in Q0.31 */
    const int32_t a = kws_sm_mul((int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
    const int32_t a_mod_quarter_minus_one_quarter = (a & (((int32_t)1 << 24) - 1)) - ((int32_t)1 << 24);
    const int32_t remainder = a_mod_quarter_minus_one_quarter - a;
    const int32_t x = (int32_t)((uint32_t)a_mod_quarter_minus_one_quarter << 5) + ((int32_t)1 << 28);
    const int32_t x2 = kws_sm_mul(x, x), x3 = kws_sm_mul(x2, x);
    const int32_t x4_over_4 = kws_sm_div_pot(kws_sm_mul(x2, x2), 2);
    const int32_t poly = kws_sm_div_pot(kws_sm_mul(x4_over_4 + x3, 715827883) + x2, 1);  /* 715827883: 1/3 */
    int32_t result = constant_term + kws_sm_mul(constant_term, x + poly), k;
    for (k = 0; k < 7; ++k) {
        if (remainder & ((int32_t)1 << (24 + k))) result = kws_sm_mul(result, multipliers[k]);
    }
    return a == 0 ? INT32_MAX : result;
}

void kws_softmax_s8(const kws_softmax_params_t *p, const int8_t *input, int8_t *output) {
    int32_t r, c, i;
    for (r = 0; r < p->rows; ++r, input += p->depth, output += p->depth) {
        int32_t max_in_row = KWS_INT8_MIN, sum_of_exps = 0, headroom_plus_one, half_denominator, x;
        for (c = 0; c < p->depth; ++c) {
            if (input[c] > max_in_row) max_in_row = input[c];
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)input[c] - max_in_row;
            /* exp in Q0.31, rescaled to the Q12.19 accumulator */
            if (diff >= p->diff_min) sum_of_exps += kws_sm_div_pot(kws_softmax_exp(p, diff), 12);
        }
        /* 1 / sum: normalise the sum to [1, 2) and use 1 / (1 + x) for x in [0, 1)
         * (kws_one_over_one_plus_x_for_x_in_0_1: Newton-Raphson, 3 steps) */
        headroom_plus_one = 32 - kws_bit_length32((uint32_t)sum_of_exps);
        half_denominator = kws_rounding_half_sum(
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31)), INT32_MAX);
        x = 1515870810 + kws_sm_mul(half_denominator, -1010580540);  /* 48/17 - 32/17 d, Q2.29 */
        for (i = 0; i < 3; ++i) {
            const int32_t one_minus = ((int32_t)1 << 29) - kws_sm_mul(half_denominator, x);
            x += kws_saturating_left_shift(kws_sm_mul(x, one_minus), 2);
        }
        x = kws_saturating_left_shift(x, 1);
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)input[c] - max_in_row;
            int32_t out = KWS_INT8_MIN;
            if (diff >= p->diff_min) {
                /* exponent: (12 - headroom_plus_one) + 31 - 8 */
                out = kws_clamp32(kws_sm_div_pot(kws_sm_mul(x, kws_softmax_exp(p, diff)), 35 - headroom_plus_one) +
                                  KWS_INT8_MIN, KWS_INT8_MIN, KWS_INT8_MAX);
            }
            output[c] = (int8_t)out;
        }
    }
}
