/* Portable C versions of the few Arm DSP (SIMD32) instructions that kws_kernels.c uses, for TEST
 * BUILDS ONLY: compiling kws_kernels.c with -DKWS_TEST_EMULATE_DSP on a host runs the Cortex-M4
 * code path (packing, lane order, accumulation) through these, so it is checked bit for bit
 * against the plain C path without an Arm core. Never used on a device. */
#ifndef KWS_DSP_EMULATION_H
#define KWS_DSP_EMULATION_H

#include <stdint.h>

static inline int32_t kws_emu_lane_lo(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x & 0xFFFFu); }
static inline int32_t kws_emu_lane_hi(uint32_t x) { return (int32_t)(int16_t)(uint16_t)(x >> 16); }
static inline int32_t kws_emu_byte(uint32_t x, int n) { return (int32_t)(int8_t)(uint8_t)((x >> (8 * n)) & 0xFFu); }
static inline int32_t kws_emu_pack(int32_t lo, int32_t hi) {
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | (((uint32_t)hi & 0xFFFFu) << 16));
}

/* SXTB16: sign-extend bytes 0 and 2 into the two 16-bit lanes. */
static inline int32_t kws_emu_sxtb16(int32_t x) {
    return kws_emu_pack(kws_emu_byte((uint32_t)x, 0), kws_emu_byte((uint32_t)x, 2));
}
/* SXTAB16: a's lanes plus the sign-extended bytes 0 and 2 of x (each lane modulo 2**16). */
static inline int32_t kws_emu_sxtab16(int32_t a, int32_t x) {
    return kws_emu_pack(kws_emu_lane_lo((uint32_t)a) + kws_emu_byte((uint32_t)x, 0),
                        kws_emu_lane_hi((uint32_t)a) + kws_emu_byte((uint32_t)x, 2));
}
/* SMLAD: acc + lo(a)*lo(b) + hi(a)*hi(b), wrapping like the instruction. */
static inline int32_t kws_emu_smlad(int32_t a, int32_t b, int32_t acc) {
    uint32_t sum = (uint32_t)acc + (uint32_t)(kws_emu_lane_lo((uint32_t)a) * kws_emu_lane_lo((uint32_t)b));
    return (int32_t)(sum + (uint32_t)(kws_emu_lane_hi((uint32_t)a) * kws_emu_lane_hi((uint32_t)b)));
}
/* SMLABB / SMLATT: acc + the product of the bottom (top) lanes. */
static inline int32_t kws_emu_smlabb(int32_t a, int32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(kws_emu_lane_lo((uint32_t)a) * kws_emu_lane_lo((uint32_t)b)));
}
static inline int32_t kws_emu_smlatt(int32_t a, int32_t b, int32_t acc) {
    return (int32_t)((uint32_t)acc + (uint32_t)(kws_emu_lane_hi((uint32_t)a) * kws_emu_lane_hi((uint32_t)b)));
}

#endif /* KWS_DSP_EMULATION_H */
