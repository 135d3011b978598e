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
/* The same 16-bit value in both lanes. */
static inline int32_t kws_dup16(int32_t v) {
    uint32_t u = (uint32_t)v & 0xFFFFu;
    return (int32_t)(u | (u << 16));
}
#endif

/* acc + sum_i w[i] * (x[i] + x_offset), i < n (int32, as TFLite accumulates). */
static inline int32_t kws_dot_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t x_offset, int32_t acc) {
    int32_t i = 0;
#if KWS_USE_DSP
    const int32_t offset2 = kws_dup16(x_offset);
    for (; i + 4 <= n; i += 4) {
        const int32_t xw = kws_load4(x + i);
        const int32_t ww = kws_load4(w + i);
        acc = KWS_SMLAD(KWS_SXTAB16(offset2, xw), KWS_SXTB16(ww), acc);             /* elements 0, 2 */
        acc = KWS_SMLAD(KWS_SXTAB16(offset2, kws_ror8(xw)), KWS_SXTB16(kws_ror8(ww)), acc); /* 1, 3 */
    }
#endif
    for (; i < n; ++i) {
        acc += (int32_t)w[i] * ((int32_t)x[i] + x_offset);
    }
    return acc;
}

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
        const int32_t x13 = KWS_SXTAB16(offset2, kws_ror8(xw));
        const int32_t u = kws_load4(w0 + i);
        const int32_t v = kws_load4(w1 + i);
        a0 = KWS_SMLAD(x02, KWS_SXTB16(u), a0);
        a0 = KWS_SMLAD(x13, KWS_SXTB16(kws_ror8(u)), a0);
        a1 = KWS_SMLAD(x02, KWS_SXTB16(v), a1);
        a1 = KWS_SMLAD(x13, KWS_SXTB16(kws_ror8(v)), a1);
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

/* Per-channel requantization: MultiplyByQuantizedMultiplier, + output zero point, activation clamp. */
static inline int8_t kws_requantize(int32_t acc, int32_t multiplier, int32_t shift, int32_t output_offset,
                                    int32_t act_min, int32_t act_max) {
    acc = kws_multiply_by_quantized_multiplier(acc, multiplier, (int)shift) + output_offset;
    return (int8_t)kws_clamp32(acc, act_min, act_max);
}

/* ---- CONV_2D ------------------------------------------------------------------------------- */

void kws_conv2d_s8(const kws_conv_params_t *p, const int8_t *input, int8_t *output) {
    const int32_t taps = p->k_h * p->k_w;
    const int32_t filter_size = taps * p->in_c;
    int32_t oy, ox, oc, ky, kx;
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
                        const int8_t *x;
                        if (ix < 0 || ix >= p->in_w) continue;
                        x = input + (iy * p->in_w + ix) * p->in_c;
                        if (pair) {
                            kws_dot2_s8(x, f0 + tap, f1 + tap, p->in_c, p->input_offset, &acc0, &acc1);
                        } else {
                            acc0 = kws_dot_s8(x, f0 + tap, p->in_c, p->input_offset, acc0);
                        }
                    }
                }
                if (p->bias != NULL) acc0 += p->bias[oc];
                out[oc] = kws_requantize(acc0, p->multiplier[oc], p->shift[oc], p->output_offset, p->act_min,
                                         p->act_max);
                if (pair) {
                    if (p->bias != NULL) acc1 += p->bias[oc + 1];
                    out[oc + 1] = kws_requantize(acc1, p->multiplier[oc + 1], p->shift[oc + 1], p->output_offset,
                                                 p->act_min, p->act_max);
                }
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

void kws_depthwise_conv2d_s8(const kws_conv_params_t *p, const int8_t *input, int8_t *output) {
    int32_t oy, ox, ic, m;
    for (oy = 0; oy < p->out_h; ++oy) {
        const int32_t iy0 = oy * p->stride_h - p->pad_h;
        for (ox = 0; ox < p->out_w; ++ox) {
            const int32_t ix0 = ox * p->stride_w - p->pad_w;
            int8_t *out = output + (oy * p->out_w + ox) * p->out_c;
            ic = 0;
#if KWS_USE_DSP
            if (p->depth_multiplier == 1) {
                /* four channels at a time: lanes (0, 2) and (1, 3) of each word, one accumulator each */
                const int32_t offset2 = kws_dup16(p->input_offset);
                for (; ic + 4 <= p->in_c; ic += 4) {
                    int32_t acc[4] = {0, 0, 0, 0};
                    int32_t ky, kx, c;
                    for (ky = 0; ky < p->k_h; ++ky) {
                        const int32_t iy = iy0 + p->dilation_h * ky;
                        if (iy < 0 || iy >= p->in_h) continue;
                        for (kx = 0; kx < p->k_w; ++kx) {
                            const int32_t ix = ix0 + p->dilation_w * kx;
                            int32_t xw, ww, x02, x13, w02, w13;
                            if (ix < 0 || ix >= p->in_w) continue;
                            xw = kws_load4(input + (iy * p->in_w + ix) * p->in_c + ic);
                            ww = kws_load4(p->filter + (ky * p->k_w + kx) * p->out_c + ic);
                            x02 = KWS_SXTAB16(offset2, xw);
                            x13 = KWS_SXTAB16(offset2, kws_ror8(xw));
                            w02 = KWS_SXTB16(ww);
                            w13 = KWS_SXTB16(kws_ror8(ww));
                            acc[0] = KWS_SMLABB(x02, w02, acc[0]);
                            acc[2] = KWS_SMLATT(x02, w02, acc[2]);
                            acc[1] = KWS_SMLABB(x13, w13, acc[1]);
                            acc[3] = KWS_SMLATT(x13, w13, acc[3]);
                        }
                    }
                    for (c = 0; c < 4; ++c) {
                        const int32_t oc = ic + c;
                        if (p->bias != NULL) acc[c] += p->bias[oc];
                        out[oc] = kws_requantize(acc[c], p->multiplier[oc], p->shift[oc], p->output_offset,
                                                 p->act_min, p->act_max);
                    }
                }
            }
#endif
            for (; ic < p->in_c; ++ic) {
                for (m = 0; m < p->depth_multiplier; ++m) {
                    const int32_t oc = ic * p->depth_multiplier + m;
                    int32_t acc = kws_depthwise_channel(p, input, iy0, ix0, ic, oc);
                    if (p->bias != NULL) acc += p->bias[oc];
                    out[oc] = kws_requantize(acc, p->multiplier[oc], p->shift[oc], p->output_offset, p->act_min,
                                             p->act_max);
                }
            }
        }
    }
}

/* ---- FULLY_CONNECTED ----------------------------------------------------------------------- */

void kws_fully_connected_s8(const kws_fc_params_t *p, const int8_t *input, int8_t *output) {
    int32_t b, u;
    for (b = 0; b < p->batches; ++b) {
        const int8_t *x = input + b * p->depth;
        int8_t *out = output + b * p->units;
        for (u = 0; u < p->units; u += 2) {
            int32_t acc0 = 0, acc1 = 0;
            const int8_t *w0 = p->weights + u * p->depth;
            if (u + 1 < p->units) {
                kws_dot2_s8(x, w0, w0 + p->depth, p->depth, p->input_offset, &acc0, &acc1);
                if (p->bias != NULL) acc1 += p->bias[u + 1];
                out[u + 1] = kws_requantize(acc1, p->multiplier[u + 1], p->shift[u + 1], p->output_offset,
                                            p->act_min, p->act_max);
            } else {
                acc0 = kws_dot_s8(x, w0, p->depth, p->input_offset, 0);
            }
            if (p->bias != NULL) acc0 += p->bias[u];
            out[u] = kws_requantize(acc0, p->multiplier[u], p->shift[u], p->output_offset, p->act_min, p->act_max);
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

void kws_add_s8(const kws_add_params_t *p, const int8_t *input1, const int8_t *input2, int8_t *output) {
    int32_t i;
    for (i = 0; i < p->size; ++i) {
        const int32_t a = ((int32_t)input1[i] + p->input1_offset) * ((int32_t)1 << p->left_shift);
        const int32_t b = ((int32_t)input2[i] + p->input2_offset) * ((int32_t)1 << p->left_shift);
        const int32_t sa = kws_multiply_by_quantized_multiplier(a, p->input1_multiplier, (int)p->input1_shift);
        const int32_t sb = kws_multiply_by_quantized_multiplier(b, p->input2_multiplier, (int)p->input2_shift);
        const int32_t sum = kws_multiply_by_quantized_multiplier(sa + sb, p->output_multiplier, (int)p->output_shift);
        output[i] = (int8_t)kws_clamp32(sum + p->output_offset, p->act_min, p->act_max);
    }
}

/* ---- SOFTMAX ------------------------------------------------------------------------------- */

void kws_softmax_s8(const kws_softmax_params_t *p, const int8_t *input, int8_t *output) {
    int32_t r, c;
    for (r = 0; r < p->rows; ++r) {
        const int8_t *x = input + r * p->depth;
        int8_t *out = output + r * p->depth;
        int32_t max_in_row = KWS_INT8_MIN, sum_of_exps = 0, headroom_plus_one, num_bits_over_unit, exponent;
        int32_t shifted_scale;
        for (c = 0; c < p->depth; ++c) {
            if (x[c] > max_in_row) max_in_row = x[c];
        }
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = kws_multiply_by_quantized_multiplier_gt_one(diff, p->input_multiplier,
                                                                                   (int)p->input_left_shift);
                /* exp in Q0.31, rescaled to the Q12.19 accumulator */
                sum_of_exps += kws_rounding_divide_by_pot(kws_exp_on_negative_values_q5_26(scaled), 12);
            }
        }
        /* 1 / sum: normalise the sum to [1, 2) and use 1 / (1 + x) for x in [0, 1) */
        headroom_plus_one = 32 - kws_bit_length32((uint32_t)sum_of_exps);
        num_bits_over_unit = 12 - headroom_plus_one;
        shifted_scale = kws_one_over_one_plus_x_for_x_in_0_1(
            (int32_t)(((uint32_t)sum_of_exps << headroom_plus_one) - ((uint32_t)1 << 31)));
        exponent = num_bits_over_unit + 31 - 8;
        for (c = 0; c < p->depth; ++c) {
            const int32_t diff = (int32_t)x[c] - max_in_row;
            if (diff >= p->diff_min) {
                const int32_t scaled = kws_multiply_by_quantized_multiplier_gt_one(diff, p->input_multiplier,
                                                                                   (int)p->input_left_shift);
                const int32_t e = kws_exp_on_negative_values_q5_26(scaled);
                const int32_t unsat = kws_rounding_divide_by_pot(kws_sat_rounding_doubling_high_mul(shifted_scale, e),
                                                                 (int)exponent);
                out[c] = (int8_t)kws_clamp32(unsat + KWS_INT8_MIN, KWS_INT8_MIN, KWS_INT8_MAX);
            } else {
                out[c] = (int8_t)KWS_INT8_MIN;
            }
        }
    }
}
