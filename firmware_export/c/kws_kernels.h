/* int8 neural-network kernels with the exact arithmetic of the TFLite (Micro) reference kernels.
 * Tensors are NHWC int8 with batch 1; every (multiplier, shift) was computed at export time
 * (kws.firmware_export.model_c), so no kernel uses floating point. C99, no allocation.
 * On a core with the DSP extension (__ARM_FEATURE_DSP: Cortex-M4/M7/M33...) the convolution,
 * depthwise and fully-connected inner loops use the 2 x int16 SIMD instructions; the sums are
 * the same int32 values, so both paths give identical outputs. */
#ifndef KWS_KERNELS_H
#define KWS_KERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CONV_2D and DEPTHWISE_CONV_2D. Sizes and offsets are int16 (the emitter checks they fit); the
 * bias is either int32 (`bias`), or int16 (`bias16`, when every value of the layer fits), or
 * absent (both NULL). Shifts are int8. */
typedef struct {
    int16_t in_h, in_w, in_c;          /* input [in_h][in_w][in_c] */
    int16_t out_h, out_w, out_c;       /* output [out_h][out_w][out_c] */
    int16_t k_h, k_w;                  /* kernel size */
    int16_t stride_h, stride_w;
    int16_t dilation_h, dilation_w;
    int16_t pad_h, pad_w;              /* top / left padding (TFLite ComputePadding) */
    int16_t depth_multiplier;          /* depthwise: out_c = in_c * depth_multiplier; conv: 1 */
    int16_t input_offset;              /* -input zero point */
    int16_t output_offset;             /* output zero point */
    int16_t act_min, act_max;          /* fused activation clamp, int8 domain */
    const int8_t *filter;              /* conv: [out_c][k_h][k_w][in_c]; depthwise: [k_h][k_w][out_c] */
    const int32_t *bias;               /* [out_c] int32, or NULL */
    const int16_t *bias16;             /* [out_c] int16 when bias is NULL, or NULL (no bias) */
    const int32_t *multiplier;         /* [out_c] Q31 per-channel multipliers (>= 0) */
    const int8_t *shift;               /* [out_c] per-channel shifts (> 0: left) */
} kws_conv_params_t;

/* Layers over time only (kws_conv_time_s8, kws_depthwise_time_s8): the fields of kws_conv_params_t
 * that such a layer needs, in 36 bytes instead of 60 (the generated code has one per layer). */
typedef struct {
    int16_t in_h, in_c, out_h, out_c;  /* input [in_h][in_c], output [out_h][out_c] */
    int16_t k_h, stride, pad;          /* taps, stride and top padding over time */
    int16_t input_offset;              /* -input zero point */
    int8_t output_offset;              /* output zero point */
    int8_t act_min, act_max;           /* fused activation clamp */
    int8_t bias32;                     /* bias is int32_t (1) or int16_t (0) */
    const int8_t *filter;              /* conv: [out_c][k_h][in_c], then 3 zero bytes when in_c % 4 != 0
                                          (read, multiplied by 0); depthwise: [k_h][out_c] */
    const void *bias;                  /* [out_c], or NULL (no bias) */
    const int32_t *multiplier;         /* [out_c] Q31 per-channel multipliers (>= 0) */
    const int8_t *shift;               /* [out_c] */
} kws_time_params_t;

/* FULLY_CONNECTED: output[b][u] from input[b][depth] and weights[u][depth]. */
typedef struct {
    int16_t batches, depth, units;
    int16_t input_offset, output_offset;
    int16_t act_min, act_max;
    const int8_t *weights;             /* [units][depth] */
    const int32_t *bias;               /* [units] int32, or NULL */
    const int16_t *bias16;             /* [units] int16 when bias is NULL, or NULL */
    const int32_t *multiplier;         /* [units] (the same value repeated for per-tensor weights) */
    const int8_t *shift;               /* [units] */
} kws_fc_params_t;

/* AVERAGE_POOL_2D / MAX_POOL_2D (input and output share scale and zero point). */
typedef struct {
    int32_t in_h, in_w, channels;
    int32_t out_h, out_w;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t act_min, act_max;
} kws_pool_params_t;

/* ADD of two int8 tensors of the same shape (TFLite: left shift 20, two input rescales, one output rescale). */
typedef struct {
    int32_t size;
    int32_t input1_offset, input2_offset;   /* -zero points */
    int32_t left_shift;
    int32_t input1_multiplier, input1_shift;
    int32_t input2_multiplier, input2_shift;
    int32_t output_multiplier, output_shift;
    int32_t output_offset;
    int32_t act_min, act_max;
} kws_add_params_t;

/* ADD with one input broadcast (BC-ResNet's residual): the output is [outer][repeat][add.size]; the input
 * named by broadcast_input (1 or 2) is [outer][add.size], read again for every repeat. */
typedef struct {
    kws_add_params_t add;
    int32_t outer, repeat;
    int32_t broadcast_input;
} kws_add_broadcast_params_t;

/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128) over the last axis. */
typedef struct {
    int32_t rows, depth;
    int32_t input_multiplier;    /* beta * input scale * 2**26 as Q31 multiplier ... */
    int32_t input_left_shift;    /* ... and its left shift (>= 0) */
    int32_t diff_min;            /* differences below this give exp = 0 */
} kws_softmax_params_t;

void kws_conv2d_s8(const kws_conv_params_t *params, const int8_t *input, int8_t *output);
void kws_depthwise_conv2d_s8(const kws_conv_params_t *params, const int8_t *input, int8_t *output);
/* The same for layers that convolve over time only (in_w == out_w == k_w == 1, dilation_h == 1; and
 * depth_multiplier == 1 for the depthwise one), with their own parameter struct: kws_conv2d_s8 / kws_depthwise_conv2d_s8 call these for
 * such layers, and generated code calls them directly so the general loops need not be linked. */
void kws_conv_time_s8(const kws_time_params_t *params, const int8_t *input, int8_t *output);
void kws_depthwise_time_s8(const kws_time_params_t *params, const int8_t *input, int8_t *output);
/* Scratch of kws_conv_time_s8 (on the stack): two input rows of up to KWS_CONV_ROW values (k_h * in_c,
 * rounded up to a multiple of 4) as int16; the layers it takes (model_c.conv_time_fits mirrors this). */
#define KWS_CONV_ROW 96
#define KWS_CONV_TIME_FITS(k_h, in_c) ((((k_h) * (in_c) + 3) & ~3) <= KWS_CONV_ROW)
/* Scratch of kws_depthwise_time_s8 (on the stack): a column of KWS_DW_COLUMN int16 values and
 * 2 * KWS_DW_TAP_PAIRS taps; the layers it takes (model_c.depthwise_time_fits mirrors this). */
#define KWS_DW_COLUMN 128
#define KWS_DW_TAP_PAIRS 8
#define KWS_DW_TIME_FITS(out_h, stride, k_h) \
    ((k_h) <= 2 * KWS_DW_TAP_PAIRS && ((out_h) + ((out_h) & 1) - 1) * (stride) + (k_h) + 1 <= KWS_DW_COLUMN)
void kws_fully_connected_s8(const kws_fc_params_t *params, const int8_t *input, int8_t *output);
void kws_avg_pool2d_s8(const kws_pool_params_t *params, const int8_t *input, int8_t *output);
void kws_max_pool2d_s8(const kws_pool_params_t *params, const int8_t *input, int8_t *output);
void kws_add_s8(const kws_add_params_t *params, const int8_t *input1, const int8_t *input2, int8_t *output);
void kws_add_broadcast_s8(const kws_add_broadcast_params_t *params, const int8_t *input1, const int8_t *input2,
                          int8_t *output);
void kws_softmax_s8(const kws_softmax_params_t *params, const int8_t *input, int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* KWS_KERNELS_H */
