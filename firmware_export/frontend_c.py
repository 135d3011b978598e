"""Emit the fixed-point MFCC front end as C99 (``kws_frontend.h`` / ``kws_frontend.c``).

The generated C reproduces :mod:`kws.frontend.pipeline` bit for bit. Every table comes from
:func:`kws.frontend.tables.tables` through :func:`cgen.c_array`; every size and shift is a
``KWS_*`` macro of :func:`frontend_constants`, which the integrator writes into
``kws_config.h`` with :func:`cgen.define_block`. The C file checks, at compile time, that the
``kws_config.h`` it is built with describes the same front end as its tables.

Integer widths on the device path (the bounds are enforced by ``validate_frontend``):

- windowed frame: int16 sample * Q15 window < 2**30, then shifted so the peak has
  ``block_norm_bits`` bits: |x| <= 2**block_norm_bits;
- FFT data int32 (|Z| <= 2**28.5 plus rounding), products int64, one rounding per product;
- |2 X[k]| <= 2**30 (int32), energy re**2 + im**2 < 2**61 (uint64), magnitude exact
  ``floor(sqrt)`` (``kws_isqrt64``, no 64-bit division);
- mel energies and the log floor int64, log2 in Q16 (int32), DCT accumulator int64.
"""

from __future__ import annotations

import hashlib

import numpy as np

from kws.config import FrontendConfig
from kws.errors import ConfigError
from kws.firmware_export.cgen import c_array
from kws.frontend.fft import TWIDDLE_FRAC_BITS
from kws.frontend.tables import (LOG2_FRAC_BITS, LOG2_MANTISSA_BITS, LOG2_TABLE_BITS, FrontendTables,
                                 tables)

# Constants the C file checks against kws_config.h (the others are only used through macros).
_CHECKED = ("KWS_SAMPLE_RATE_HZ", "KWS_WINDOW_SAMPLES", "KWS_HOP_SAMPLES", "KWS_FFT_SIZE", "KWS_N_MEL",
            "KWS_N_MFCC", "KWS_FIRST_BIN", "KWS_N_BINS_USED", "KWS_MEL_N_WEIGHTS", "KWS_BLOCK_NORM_BITS",
            "KWS_MEL_SCALE_LOG2", "KWS_MFCC_SHIFT", "KWS_LOG_FLOOR_LOG2", "KWS_MFCC_FRAC_BITS",
            "KWS_FEATURE_SHIFT_BITS", "KWS_FEATURE_ZERO_POINT")


def frontend_constants(config: FrontendConfig) -> dict[str, int]:
    """Every front-end constant as ``KWS_*`` macro values for ``kws_config.h``.

    Returns
    -------
    dict[str, int], in a stable order (sizes, then feature format, then derived shifts).
    """
    t = tables(config)
    fft_log2 = config.fft_size.bit_length() - 1
    return {
        "KWS_SAMPLE_RATE_HZ": config.sample_rate_hz,
        "KWS_WINDOW_SAMPLES": config.window_samples,
        "KWS_HOP_SAMPLES": config.hop_samples,
        "KWS_FFT_SIZE": config.fft_size,
        "KWS_FFT_LOG2": fft_log2,
        "KWS_FFT_HALF": config.fft_size // 2,
        "KWS_N_MEL": config.n_mel,
        "KWS_N_MFCC": config.n_mfcc,
        "KWS_FRAMES_PER_CLIP": config.frames_per_clip,
        "KWS_CLIP_SAMPLES": config.clip_samples,
        "KWS_FEATURE_ZERO_POINT": config.feature_zero_point,
        "KWS_FEATURE_SHIFT_BITS": config.feature_shift_bits,
        "KWS_MFCC_FRAC_BITS": config.mfcc_frac_bits,
        "KWS_LOG_FLOOR_LOG2": config.log_floor_log2,
        "KWS_BLOCK_NORM_BITS": t.block_norm_bits,
        "KWS_FIRST_BIN": t.first_bin,
        "KWS_N_BINS_USED": t.n_bins_used,
        "KWS_MEL_N_WEIGHTS": int(t.mel_weights_q15.size),
        "KWS_MEL_SCALE_LOG2": t.mel_scale_log2,
        "KWS_MFCC_SHIFT": t.mfcc_shift,
        "KWS_TWIDDLE_FRAC_BITS": TWIDDLE_FRAC_BITS,
        "KWS_LOG2_FRAC_BITS": LOG2_FRAC_BITS,
        "KWS_LOG2_TABLE_BITS": LOG2_TABLE_BITS,
        "KWS_LOG2_MANTISSA_BITS": LOG2_MANTISSA_BITS,
    }


def _check_emittable(t: FrontendTables) -> None:
    """Assumptions of the C loops that the tables must meet (raise instead of emitting wrong C)."""
    if t.config.fft_size < 8:
        raise ConfigError("FrontendConfig: the C FFT needs fft_size >= 8 (stages 1 and 2 run as one pass)")
    steps = np.diff(np.asarray(t.log2_table_q16, np.int64))
    if steps.min() < 0 or steps.max() << (LOG2_MANTISSA_BITS - LOG2_TABLE_BITS) >= 1 << 31:
        raise ConfigError("FrontendConfig: log2 interpolation would overflow int32")
    log2 = np.asarray(t.log2_table_q16, np.int64)
    if log2[-1] != 1 << LOG2_FRAC_BITS or log2[:-1].min() < 0 or log2[:-1].max() >= 1 << 16:
        raise ConfigError("FrontendConfig: the log2 table must be uint16 with last entry 2**16 (kept implicit in C)")


def _index_type(values: np.ndarray) -> str:
    """The narrowest unsigned C type that holds every value of an index table."""
    top = int(np.max(values)) if np.size(values) else 0
    return "uint8_t" if top < 1 << 8 else ("uint16_t" if top < 1 << 16 else "int32_t")


def _half_window(window: np.ndarray) -> bool:
    """True when the window is symmetric, w[n] == w[N - n] for 0 < n < N (the periodic Hann is),
    so that the C file stores only w[0 .. N/2]."""
    n = window.size
    return n >= 2 and bool(np.array_equal(window[1:], window[1:][::-1]))


def half_wave_cos_q30(t: FrontendTables) -> np.ndarray | None:
    """One table ``h[j] = cos(2 pi j / fft_size)`` in Q30, ``j = 0 .. fft_size/2``, from which every
    FFT and split twiddle is read, or ``None`` when that would not reproduce the reference tables
    exactly: the C file then keeps the four full tables.

    With N = fft_size and M = N/2: FFT cos(2 pi k / M) = h[2k], sin(2 pi k / M) = h[|N/4 - 2k|];
    split, bin b: cos(2 pi b / N) = h[b], sin(2 pi b / N) = h[|N/4 - b|] (sin x = cos(pi/2 - x)).
    """
    n = t.config.fft_size
    h = np.round(np.cos(2.0 * np.pi * np.arange(n // 2 + 1) / n) * (1 << 30)).astype(np.int64)
    k = np.arange(len(t.fft_cos_q30))
    bins = t.used_bins
    if bins.max() > n // 2 or 2 * k.max() > n // 2:
        return None
    same = (np.array_equal(h[2 * k], t.fft_cos_q30) and np.array_equal(h[np.abs(n // 4 - 2 * k)], t.fft_sin_q30)
            and np.array_equal(h[bins], t.split_cos_q30) and np.array_equal(h[np.abs(n // 4 - bins)], t.split_sin_q30))
    return h if same else None


def paired_mel_weights_q15(t: FrontendTables) -> np.ndarray | None:
    """One Q15 weight per FFT bin ``w[k - first_bin]`` from which every mel weight is read, or ``None``
    when that would not reproduce the reference table exactly: the C file then keeps it band after band.

    Band b's own bins are ``[start[b], start[b+1])`` (its rising slope; the last band: all of its bins)
    where its weight is ``w[k]``; its other bins are shared with band b+1 (its falling slope) where its
    weight is ``2**15 - w[k]`` (adjacent triangles sum to one; checked here bin by bin). Half the table.
    """
    start, n_bins = np.asarray(t.mel_band_start, np.int64), np.asarray(t.mel_band_n_bins, np.int64)
    stop = start + n_bins
    n_mel = start.size
    own_stop = np.append(start[1:], stop[-1])  # band b owns [start[b], own_stop[b])
    if np.any(start[1:] < start[:-1]):  # bands in order, so every band owns [start[b], own_stop[b])
        return None
    first, last = int(t.first_bin), int(stop.max())
    paired = np.zeros(last - first, np.int64)
    offsets = np.concatenate([[0], np.cumsum(n_bins)])
    for b in range(n_mel):
        for k in range(int(start[b]), int(min(own_stop[b], stop[b]))):
            paired[k - first] = t.mel_weights_q15[offsets[b] + k - start[b]]
    rebuilt = []
    for b in range(n_mel):
        for k in range(int(start[b]), int(stop[b])):
            if k < own_stop[b]:
                rebuilt.append(paired[k - first])
            elif b + 1 < n_mel and k < own_stop[b + 1]:
                rebuilt.append((1 << 15) - paired[k - first])
            else:
                return None  # a bin in three bands, or past the next band's own bins
    # bins that band b owns but does not contain must weigh nothing (the C loop visits them)
    unowned = [k - first for b in range(n_mel) for k in range(int(stop[b]), int(own_stop[b]))]
    if not np.array_equal(np.asarray(rebuilt, np.int64), np.asarray(t.mel_weights_q15, np.int64)) \
            or np.any(paired[unowned] != 0) or paired.min() < 0 or paired.max() > 32767:
        return None
    return paired


def _mel_c(t: FrontendTables) -> list[str]:
    start = [c_array("kws_frontend_mel_band_start", t.mel_band_start, _index_type(t.mel_band_start)),
             c_array("kws_frontend_mel_band_n_bins", t.mel_band_n_bins, _index_type(t.mel_band_n_bins))]
    paired = paired_mel_weights_q15(t)
    if paired is not None:
        return ["/* mel bands: first FFT bin, number of bins; one Q15 weight per bin from the first band's: band b",
                " * weighs its bins before band b+1 starts by w, those it shares with band b+1 by 2**15 - w",
                " * (adjacent triangles sum to one; checked at export) */",
                "#define KWS_FE_PAIRED_MEL 1", *start,
                c_array("kws_frontend_mel_bin_weights_q15", paired, "int16_t")]
    return ["/* mel bands: first FFT bin, number of bins; Q15 weights of band after band */",
            "#define KWS_FE_PAIRED_MEL 0", *start,
            c_array("kws_frontend_mel_weights_q15", t.mel_weights_q15, "int16_t")]


def _twiddles_c(t: FrontendTables) -> list[str]:
    h = half_wave_cos_q30(t)
    if h is not None:
        return [
            "/* Q30 cos(2 pi j / fft_size), j = 0 .. fft_size/2: every FFT and split twiddle (checked at export) */",
            "#define KWS_FE_HALF_WAVE 1",
            c_array("kws_frontend_cos_q30", h, "int32_t", per_line=8),
        ]
    return [
        "#define KWS_FE_HALF_WAVE 0",
        "/* Q30 twiddles cos/sin(2 pi k / (fft_size / 2)) of the complex FFT */",
        c_array("kws_frontend_fft_cos_q30", t.fft_cos_q30, "int32_t", per_line=8),
        c_array("kws_frontend_fft_sin_q30", t.fft_sin_q30, "int32_t", per_line=8),
        "/* Q30 cos/sin(2 pi k / fft_size) of the real-FFT split, for the used bins */",
        c_array("kws_frontend_split_cos_q30", t.split_cos_q30, "int32_t", per_line=8),
        c_array("kws_frontend_split_sin_q30", t.split_sin_q30, "int32_t", per_line=8),
    ]


def _tables_c(t: FrontendTables) -> str:
    window = np.asarray(t.window_q15)
    half = _half_window(window)
    log2 = np.asarray(t.log2_table_q16, np.int64)
    parts = [
        "/* Q15 periodic Hann window" + (", first half: w[n] == w[KWS_WINDOW_SAMPLES - n] */" if half else " */"),
        f"#define KWS_FE_HALF_WINDOW {int(half)}",
        c_array("kws_frontend_window_q15", window[: window.size // 2 + 1] if half else window, "int16_t"),
        *_twiddles_c(t),
        "/* bit-reversal permutation of the fft_size / 2 complex points */",
        f"typedef {_index_type(t.fft_bitrev)} kws_fe_bitrev_t;",
        c_array("kws_frontend_fft_bitrev", t.fft_bitrev, _index_type(t.fft_bitrev)),
        *_mel_c(t),
        "/* log2(1 + i / 2**LOG2_TABLE_BITS) in Q16 for i < 2**LOG2_TABLE_BITS; the last entry, 2**16, is implicit */",
        c_array("kws_frontend_log2_table_q16", log2[:-1], "uint16_t"),
        "/* ln(2) * orthonormal DCT-II in Q15, [n_mfcc][n_mel] */",
        c_array("kws_frontend_dct_q15", t.dct_q15, "int16_t"),
    ]
    return "\n".join(parts)


_HEADER = """\
/* Fixed-point MFCC front end: int16 PCM -> int16 MFCC (Q(KWS_MFCC_FRAC_BITS)) -> int8 features.
 * Bit-exact with kws.frontend (Python) for any chunking of the input. C99, no malloc, no floating
 * point. Front end {hash}.
 *
 * RAM: the state below ({state_bytes} bytes) plus {stack_bytes} bytes of scratch on the stack of
 * kws_frontend_process / _process_mfcc / _features_batch / _compute_mfcc (nothing static). */
#ifndef KWS_FRONTEND_H
#define KWS_FRONTEND_H

#include <stdint.h>

#include "kws_config.h"
#include "kws_fixedpoint.h"
#include "kws_status.h"

typedef struct {{
    int16_t pending[KWS_WINDOW_SAMPLES]; /* samples of the frame being filled */
    int32_t n_pending;                   /* how many are valid, 0 .. KWS_WINDOW_SAMPLES - 1 */
}} kws_frontend_state;

/* Forget buffered samples: the next sample starts a new frame. KWS_OK or KWS_ERR_NULL.
 * A zero-initialised state is also a valid reset state. */
int kws_frontend_reset(kws_frontend_state *state);

/* Append n samples (n >= 0; pcm may be NULL when n == 0) and write the int8 feature frames they
 * complete to out_frames ([frames][KWS_N_MFCC]). Returns the number of frames written, or
 * KWS_ERR_NULL (state NULL, pcm NULL with n > 0, out_frames NULL with max_frames > 0),
 * KWS_ERR_LENGTH (n < 0 or max_frames < 0), KWS_ERR_BUFFER (this call completes more than
 * max_frames frames) or KWS_ERR_STATE (corrupted state); on error nothing is consumed. */
int32_t kws_frontend_process(kws_frontend_state *state, const int16_t *pcm, int32_t n, int8_t *out_frames,
                             int32_t max_frames);

/* Same as kws_frontend_process, writing int16 Q(KWS_MFCC_FRAC_BITS) MFCC ([frames][KWS_N_MFCC]). */
int32_t kws_frontend_process_mfcc(kws_frontend_state *state, const int16_t *pcm, int32_t n, int16_t *out_mfcc,
                                  int32_t max_frames);

/* MFCC of one complete frame: window [KWS_WINDOW_SAMPLES] -> mfcc [KWS_N_MFCC]. */
void kws_frontend_compute_mfcc(const int16_t *window, int16_t *mfcc);

/* int16 MFCC -> int8 features: sat8(round(mfcc >> KWS_FEATURE_SHIFT_BITS) + KWS_FEATURE_ZERO_POINT). */
void kws_frontend_quantize(const int16_t *mfcc, int8_t *features);

/* Stateless whole clip: the frames of pcm[0 .. n) (no padding), as kws.frontend.compute_features.
 * Returns the number of frames or a negative KWS_ERR_* (same rules as kws_frontend_process). */
int32_t kws_frontend_features_batch(const int16_t *pcm, int32_t n, int8_t *out_frames, int32_t max_frames);

/* Number of complete frames in n samples (0 if n < KWS_WINDOW_SAMPLES). */
int32_t kws_frontend_n_frames(int32_t n);

/* The front-end hash of FrontendConfig.config_hash(), as a string (lets a loader check a build). */
extern const char kws_frontend_config_hash[];

#endif /* KWS_FRONTEND_H */
"""

_SOURCE = r"""/* Fixed-point MFCC front end {hash}: the C twin of kws/frontend/pipeline.py, bit for bit. */
#include <stddef.h>
#include <string.h>

#include "kws_frontend.h"

/* The kws_config.h this file is compiled with must describe the front end of these tables. */
#if {config_check}
#error "kws_config.h does not match kws_frontend.c (front end {hash}): regenerate both with kws export"
#endif

const char kws_frontend_config_hash[] = "{hash}";

{tables}
#define KWS_FE_M KWS_FFT_HALF /* points of the complex FFT */
#if defined(__GNUC__)
#define KWS_FE_NOINLINE __attribute__((noinline))
#else
#define KWS_FE_NOINLINE
#endif
#define KWS_FE_LOG2_REMAINDER_BITS (KWS_LOG2_MANTISSA_BITS - KWS_LOG2_TABLE_BITS)

/* round(x / 2**30) of an exact int64 product sum, back to int32 (|result| < 2**31 by the bounds). */
KWS_INLINE int32_t kws_fe_round_q30(int64_t x) {{
    return kws_round_shift_right64_to32(x, KWS_TWIDDLE_FRAC_BITS);
}}

/* log2(v) in Q16 for v > 0 (kws.frontend.logarithm.log2_q16): normalise to a mantissa in
 * [2**30, 2**31) (truncating), table lookup and linear interpolation. */
static int32_t kws_fe_log2_q16(uint64_t v) {{
    int msb = kws_bit_length64(v) - 1;
    uint32_t mantissa = msb > KWS_LOG2_MANTISSA_BITS ? (uint32_t)(v >> (msb - KWS_LOG2_MANTISSA_BITS))
                                                     : (uint32_t)v << (KWS_LOG2_MANTISSA_BITS - msb);
    uint32_t fraction = mantissa - ((uint32_t)1 << KWS_LOG2_MANTISSA_BITS);
    uint32_t index = fraction >> KWS_FE_LOG2_REMAINDER_BITS;
    int32_t remainder = (int32_t)(fraction & (((uint32_t)1 << KWS_FE_LOG2_REMAINDER_BITS) - 1u));
    int32_t low = kws_frontend_log2_table_q16[index];
    int32_t high = index + 1 < ((uint32_t)1 << KWS_LOG2_TABLE_BITS) ? kws_frontend_log2_table_q16[index + 1]
                                                                    : (int32_t)1 << KWS_LOG2_FRAC_BITS;
    int32_t step = high - low; /* step * 2**22 < 2**31 (checked) */
    return (int32_t)((uint32_t)msb << KWS_LOG2_FRAC_BITS) + low +
           kws_round_shift_right32(step * remainder, KWS_FE_LOG2_REMAINDER_BITS);
}}

/* Arithmetic right shift (GCC and Clang define >> of a negative value as one; else kws_asr32). */
#if defined(__GNUC__)
#define KWS_FE_ASR32(x, s) ((int32_t)(x) >> (s))
#else
#define KWS_FE_ASR32(x, s) kws_asr32((x), (s))
#endif

/* The twiddled butterflies of one twiddle c - j s (ns = -s) in one stage: a = pa[0..1],
 * b = pa[off..off+1] (off = 2 * half int32), pa += 2 * off while pa < end (at least once):
 * t = b (c - j s) with t_re = b_re c + b_im s, t_im = b_im c + (-b_re) s, each an exact int64 sum
 * rounded once (kws_fe_round_q30); a, b <- a + t, a - t. The Cortex-M4 kernel (24 instructions per
 * butterfly, no spills) computes exactly what the C loop computes. */
KWS_INLINE void kws_fe_butterflies(int32_t *pa, const int32_t *end, int32_t off, int32_t c, int32_t s,
                                   int32_t ns) {{
#if defined(__GNUC__) && defined(__ARM_ARCH_7EM__) && defined(__thumb2__)
    int32_t *pb;
    int32_t br, bi, l1, h1, l2, h2;
    __asm__ volatile(
        "1:\n\t"
        "add    %[pb], %[pa], %[off], lsl #2\n\t"
        "ldrd   %[br], %[bi], [%[pb]]\n\t"
        "smull  %[l1], %[h1], %[br], %[c]\n\t"
        "smlal  %[l1], %[h1], %[bi], %[s]\n\t"
        "smull  %[l2], %[h2], %[bi], %[c]\n\t"
        "smlal  %[l2], %[h2], %[br], %[ns]\n\t"
        "adds   %[l1], %[l1], #0x20000000\n\t"
        "adc    %[h1], %[h1], #0\n\t"
        "lsrs   %[l1], %[l1], #30\n\t"
        "orr    %[l1], %[l1], %[h1], lsl #2\n\t"
        "adds   %[l2], %[l2], #0x20000000\n\t"
        "adc    %[h2], %[h2], #0\n\t"
        "lsrs   %[l2], %[l2], #30\n\t"
        "orr    %[l2], %[l2], %[h2], lsl #2\n\t"
        "ldrd   %[br], %[bi], [%[pa]]\n\t"
        "add    %[h1], %[br], %[l1]\n\t"
        "add    %[h2], %[bi], %[l2]\n\t"
        "strd   %[h1], %[h2], [%[pa]]\n\t"
        "sub    %[h1], %[br], %[l1]\n\t"
        "sub    %[h2], %[bi], %[l2]\n\t"
        "strd   %[h1], %[h2], [%[pb]]\n\t"
        "add    %[pa], %[pa], %[off], lsl #3\n\t"
        "cmp    %[pa], %[end]\n\t"
        "blo    1b\n\t"
        : [pa] "+&r"(pa), [pb] "=&r"(pb), [br] "=&r"(br), [bi] "=&r"(bi), [l1] "=&r"(l1), [h1] "=&r"(h1),
          [l2] "=&r"(l2), [h2] "=&r"(h2)
        : [end] "r"(end), [off] "r"(off), [c] "r"(c), [s] "r"(s), [ns] "r"(ns)
        : "cc", "memory");
#else
    do {{
        int32_t *const pb = pa + off;
        const int32_t b_re = pb[0], b_im = pb[1];
        const int32_t t_re = kws_fe_round_q30((int64_t)b_re * c + (int64_t)b_im * s);
        const int32_t t_im = kws_fe_round_q30((int64_t)b_im * c + (int64_t)b_re * ns);
        const int32_t a_re = pa[0], a_im = pa[1];
        pa[0] = a_re + t_re;
        pa[1] = a_im + t_im;
        pb[0] = a_re - t_re;
        pb[1] = a_im - t_im;
        pa += 2 * off;
    }} while (pa < end);
#endif
}}

{last_stage}/* In-place radix-2 DIT FFT of the KWS_FE_M complex points z (interleaved re, im), already in
 * bit-reversed order (the window pass writes them there) but not yet multiplied by 2**shift, in
 * the order of kws.frontend.fft.complex_fft: every butterfly computes exactly what the Python
 * reference does; only the loop order differs. Kept out of line so that its loops get the
 * registers to themselves. */
static KWS_FE_NOINLINE void kws_fe_fft(int32_t *z, const int shift) {{
    int32_t *const end = &z[2 * KWS_FE_M];
    /* The block shift, x * 2**shift (rounded), as ((x << left) + bias) >> right: one of left and
     * right is 0, and |x| < 2**30 so neither the sum nor the left shift leaves int32. */
    const int left = shift > 0 ? shift : 0, right = shift < 0 ? -shift : 0;
    const int32_t bias = right ? (int32_t)1 << (right - 1) : 0;
#define KWS_FE_SCALE(x) KWS_FE_ASR32((int32_t)((uint32_t)(x) << left) + bias, right)
    /* Stages 1 and 2 (sizes 2 and 4) together, in registers, each point shifted once on the way in:
     * their twiddles are 1 and -j, whose products are exact, so the butterflies need none. */
    for (int32_t *p = z; p < end; p += 8) {{
        const int32_t x0r = KWS_FE_SCALE(p[0]), x0i = KWS_FE_SCALE(p[1]), x1r = KWS_FE_SCALE(p[2]);
        const int32_t x1i = KWS_FE_SCALE(p[3]), x2r = KWS_FE_SCALE(p[4]), x2i = KWS_FE_SCALE(p[5]);
        const int32_t x3r = KWS_FE_SCALE(p[6]), x3i = KWS_FE_SCALE(p[7]);
        const int32_t s0_re = x0r + x1r, s0_im = x0i + x1i, s1_re = x0r - x1r, s1_im = x0i - x1i;
        const int32_t s2_re = x2r + x3r, s2_im = x2i + x3i, s3_re = x2r - x3r, s3_im = x2i - x3i;
        p[0] = s0_re + s2_re;
        p[1] = s0_im + s2_im;
        p[4] = s0_re - s2_re;
        p[5] = s0_im - s2_im;
        p[2] = s1_re + s3_im; /* s1 + (-j) s3 */
        p[3] = s1_im - s3_re;
        p[6] = s1_re - s3_im;
        p[7] = s1_im + s3_re;
    }}
#undef KWS_FE_SCALE
    for (int32_t half = 4, step = KWS_FE_M / 8; half < KWS_FE_M; half <<= 1, step >>= 1) {{
        /* k = 0 (twiddle 1) and k = half / 2 (twiddle -j): exact, no products */
        for (int32_t *pa = z; pa < end; pa += 4 * half) {{
            int32_t *pb = pa + 2 * half;
            const int32_t a_re = pa[0], a_im = pa[1], b_re = pb[0], b_im = pb[1];
            pa[0] = a_re + b_re;
            pa[1] = a_im + b_im;
            pb[0] = a_re - b_re;
            pb[1] = a_im - b_im;
        }}
        for (int32_t *pa = &z[half]; pa < end; pa += 4 * half) {{
            int32_t *pb = pa + 2 * half;
            const int32_t a_re = pa[0], a_im = pa[1], b_re = pb[0], b_im = pb[1];
            pa[0] = a_re + b_im;
            pa[1] = a_im - b_re;
            pb[0] = a_re - b_im;
            pb[1] = a_im + b_re;
        }}
        /* the other twiddles W^k = c - j s, k = 1 .. half/2 - 1 and half/2 + 1 .. half - 1 */
#if KWS_FE_HALF_WAVE
        /* cos(2 pi k / M) = h[2k step'], sin = h[|N/4 - 2k step'|] with step' = step and
         * half * step = N/4: for k < half/2 the sine index falls as k rises, above it rises. */
        if (half == KWS_FE_M / 2) {{ /* last stage, one group (step 1): twiddle by twiddle */
            kws_fe_last_stage_falling(&z[2], &z[2 + 2 * half], &z[half], &kws_frontend_cos_q30[2],
                                      &kws_frontend_cos_q30[KWS_FFT_SIZE / 4 - 2]);
            kws_fe_last_stage_rising(&z[half + 2], &z[3 * half + 2], &z[2 * half],
                                     &kws_frontend_cos_q30[KWS_FFT_SIZE / 4 + 2], &kws_frontend_cos_q30[2]);
            continue;
        }}
        const int32_t stride = 2 * step;
        for (int32_t quarter = 0; quarter < 2; ++quarter) {{
            const int32_t *pc = &kws_frontend_cos_q30[quarter * (KWS_FFT_SIZE / 4) + stride];
            const int32_t *ps = &kws_frontend_cos_q30[quarter ? stride : KWS_FFT_SIZE / 4 - stride];
            const int32_t ds = quarter ? stride : -stride;
            int32_t *pa = &z[2 + quarter * half];
            for (int32_t *const pa_end = pa + half - 2; pa < pa_end; pa += 2, pc += stride, ps += ds) {{
                const int32_t c = *pc, s = *ps;
                kws_fe_butterflies(pa, end, 2 * half, c, s, -s);
            }}
        }}
#else
        const int32_t *pc = &kws_frontend_fft_cos_q30[step], *ps = &kws_frontend_fft_sin_q30[step];
        for (int32_t k = 1; k < half; ++k, pc += step, ps += step) {{
            if (2 * k == half) continue; /* done above */
            const int32_t c = *pc, s = *ps;
            kws_fe_butterflies(&z[2 * k], end, 2 * half, c, s, -s);
        }}
#endif
    }}
}}

/* |2 X[bin]| of the real FFT from the packed FFT z (kws.frontend.fft.real_fft_bins), c - j s =
 * W_N^bin: 2 X = A - j W B, A = Z[k] + conj Z[M-k], B = Z[k] - conj Z[M-k]; the magnitude is the
 * exact floor(sqrt(re**2 + im**2)) <= 2**30.5. */
KWS_INLINE int32_t kws_fe_bin_magnitude(const int32_t *z, int32_t bin, int32_t c, int32_t s) {{
    const int32_t k = bin == KWS_FE_M ? 0 : bin, mirror = bin == 0 ? 0 : KWS_FE_M - bin; /* mod M */
    const int32_t zk_re = z[2 * k], zk_im = z[2 * k + 1];
    const int32_t zm_re = z[2 * mirror], zm_im = z[2 * mirror + 1];
    const int32_t a_re = zk_re + zm_re, a_im = zk_im - zm_im;
    const int32_t b_re = zk_re - zm_re, b_im = zk_im + zm_im;
    const int32_t x_re = a_re + kws_fe_round_q30((int64_t)c * b_im - (int64_t)s * b_re);
    const int32_t x_im = a_im - kws_fe_round_q30((int64_t)c * b_re + (int64_t)s * b_im);
    const uint64_t energy = (uint64_t)((int64_t)x_re * x_re) + (uint64_t)((int64_t)x_im * x_im);
    return (int32_t)kws_isqrt64(energy);
}}

void kws_frontend_compute_mfcc(const int16_t *window, int16_t *mfcc) {{
    /* Scratch on the stack: {fft_bytes} bytes of FFT data, {mel_bytes} of mel energies, {mag_bytes} of
     * magnitudes (0: they reuse z). */
    int32_t z[2 * KWS_FE_M]; /* interleaved re, im */
    int64_t mel[KWS_N_MEL];
#if KWS_FIRST_BIN + KWS_N_BINS_USED - 1 <= KWS_FE_M / 2
    /* Every used bin is <= M/2: magnitude[i] overwrites z[i], complex point i/2 <= bin i, which
     * no later bin reads (they read points above bin i and mirrors >= M/2). */
    int32_t *const magnitude = z;
#else
    int32_t magnitude[KWS_N_BINS_USED];
#endif
    int32_t i;

    /* 1. Q15 window; block floating point: the shift that gives the peak KWS_BLOCK_NORM_BITS bits
     *    (bit_length of the largest |p| is that of the OR of all |p|). The frame in natural order
     *    is the packed complex input z[n] = x[2n] + j x[2n+1]; point n is written straight to its
     *    bit-reversed place for the FFT, which applies the shift on its first pass. */
    uint32_t peak = 0;
    const kws_fe_bitrev_t *const rev = kws_frontend_fft_bitrev;
#if KWS_FE_HALF_WINDOW && KWS_WINDOW_SAMPLES % 4 == 0
    {{
        const int16_t *x = window, *w = kws_frontend_window_q15;
        for (i = 0; i < KWS_WINDOW_SAMPLES / 4; ++i, x += 2, w += 2) {{
            const int32_t p0 = (int32_t)x[0] * w[0], p1 = (int32_t)x[1] * w[1]; /* |p| < 2**30 */
            peak |= (uint32_t)(p0 < 0 ? -p0 : p0) | (uint32_t)(p1 < 0 ? -p1 : p1);
            int32_t *const d = &z[2 * rev[i]];
            d[0] = p0;
            d[1] = p1;
        }}
        /* w[n] == w[KWS_WINDOW_SAMPLES - n] */
        for (w = &kws_frontend_window_q15[KWS_WINDOW_SAMPLES / 2]; i < KWS_WINDOW_SAMPLES / 2; ++i, x += 2, w -= 2) {{
            const int32_t p0 = (int32_t)x[0] * w[0], p1 = (int32_t)x[1] * w[-1];
            peak |= (uint32_t)(p0 < 0 ? -p0 : p0) | (uint32_t)(p1 < 0 ? -p1 : p1);
            int32_t *const d = &z[2 * rev[i]];
            d[0] = p0;
            d[1] = p1;
        }}
    }}
    for (i = KWS_WINDOW_SAMPLES; i < KWS_FFT_SIZE; ++i) z[2 * rev[i >> 1] + (i & 1)] = 0; /* zero padding */
#else
    for (i = 0; i < KWS_FFT_SIZE; ++i) {{
#if KWS_FE_HALF_WINDOW
        const int32_t w = i >= KWS_WINDOW_SAMPLES ? 0 : kws_frontend_window_q15[i <= KWS_WINDOW_SAMPLES / 2 ? i : KWS_WINDOW_SAMPLES - i];
#else
        const int32_t w = i >= KWS_WINDOW_SAMPLES ? 0 : kws_frontend_window_q15[i];
#endif
        const int32_t p = i >= KWS_WINDOW_SAMPLES ? 0 : (int32_t)window[i] * w; /* |p| < 2**30; zero padding */
        peak |= (uint32_t)(p < 0 ? -p : p);
        z[2 * rev[i >> 1] + (i & 1)] = p;
    }}
#endif
    const int shift = KWS_BLOCK_NORM_BITS - kws_bit_length32(peak);

    /* 2. In-place complex FFT of the packed frame (block shift applied on the way). */
    kws_fe_fft(z, shift);

    /* 3. Real-FFT split for each used bin and |2 X[k]| by exact integer square root, then the mel
     *    energies: per band, the sum of weight * magnitude over its bins (exact int64). */
#if KWS_FE_HALF_WAVE
    /* cos(2 pi b / N) = h[b], sin(2 pi b / N) = h[|N/4 - b|]: two runs of bins, below N/4 (the sine
     * index falls) and from N/4 (it rises), so that no bin computes an index. */
    for (int32_t part = 0; part < 2; ++part) {{
        const int32_t first = part ? (KWS_FIRST_BIN > KWS_FFT_SIZE / 4 ? KWS_FIRST_BIN : KWS_FFT_SIZE / 4) : KWS_FIRST_BIN;
        const int32_t stop = part || KWS_FIRST_BIN + KWS_N_BINS_USED < KWS_FFT_SIZE / 4 ? KWS_FIRST_BIN + KWS_N_BINS_USED
                                                                                        : KWS_FFT_SIZE / 4;
        if (first >= stop) continue;
        const int32_t *pc = &kws_frontend_cos_q30[first];
        const int32_t *ps = &kws_frontend_cos_q30[part ? first - KWS_FFT_SIZE / 4 : KWS_FFT_SIZE / 4 - first];
        const int32_t ds = part ? 1 : -1;
        for (int32_t bin = first; bin < stop; ++bin, ++pc, ps += ds)
            magnitude[bin - KWS_FIRST_BIN] = kws_fe_bin_magnitude(z, bin, *pc, *ps);
    }}
#else
    for (i = 0; i < KWS_N_BINS_USED; ++i)
        magnitude[i] = kws_fe_bin_magnitude(z, KWS_FIRST_BIN + i, kws_frontend_split_cos_q30[i],
                                            kws_frontend_split_sin_q30[i]);
#endif

#if KWS_FE_PAIRED_MEL
    /* band b's own bins (up to where band b+1 starts) by w; those also in band b-1 add 2**15 - w to it */
    for (int32_t b = 0; b < KWS_N_MEL; ++b) {{
        const int32_t start = kws_frontend_mel_band_start[b];
        const int32_t stop = b + 1 < KWS_N_MEL ? (int32_t)kws_frontend_mel_band_start[b + 1]
                                               : start + (int32_t)kws_frontend_mel_band_n_bins[b];
        const int32_t shared_stop = b ? kws_frontend_mel_band_start[b - 1] + kws_frontend_mel_band_n_bins[b - 1] : 0;
        int64_t own = 0, lower = 0;
        for (int32_t k = start; k < stop; ++k) {{
            const int32_t m = magnitude[k - KWS_FIRST_BIN], w = kws_frontend_mel_bin_weights_q15[k - KWS_FIRST_BIN];
            own += (int64_t)w * m;
            if (k < shared_stop) lower += (int64_t)((1 << 15) - w) * m;
        }}
        mel[b] = own;
        if (b) mel[b - 1] += lower;
    }}
#else
    const int16_t *weight = kws_frontend_mel_weights_q15;
    for (int32_t b = 0; b < KWS_N_MEL; ++b) {{
        const int32_t *m = &magnitude[kws_frontend_mel_band_start[b] - KWS_FIRST_BIN];
        const int32_t *const m_end = m + kws_frontend_mel_band_n_bins[b];
        int64_t acc = 0;
        while (m < m_end) acc += (int64_t)*weight++ * *m++;
        mel[b] = acc;
    }}
#endif

    /* 4. log2(mel / 2**scale + 2**KWS_LOG_FLOOR_LOG2) in Q16, scale = KWS_MEL_SCALE_LOG2 + shift;
     *    0 <= scale + KWS_LOG_FLOOR_LOG2 <= 62 and mel + floor < 2**63 (validate_frontend). */
    const int scale = KWS_MEL_SCALE_LOG2 + shift;
    const uint64_t floor_value = (uint64_t)1 << (scale + KWS_LOG_FLOOR_LOG2);
    const int32_t scale_q16 = (int32_t)((uint32_t)scale << KWS_LOG2_FRAC_BITS);
    for (i = 0; i < KWS_N_MEL; ++i) mel[i] = kws_fe_log2_q16((uint64_t)mel[i] + floor_value) - scale_q16;

    /* 5. DCT-II (ln 2 folded into the Q15 matrix), rounded to int16 Q(KWS_MFCC_FRAC_BITS). */
    for (int32_t m = 0; m < KWS_N_MFCC; ++m) {{
        const int16_t *row = &kws_frontend_dct_q15[m * KWS_N_MEL];
        int64_t acc = 0;
        for (i = 0; i < KWS_N_MEL; ++i) acc += (int64_t)(int32_t)mel[i] * row[i];
        mfcc[m] = kws_sat16(kws_round_shift_right64(acc, KWS_MFCC_SHIFT));
    }}
}}

void kws_frontend_quantize(const int16_t *mfcc, int8_t *features) {{
    for (int32_t m = 0; m < KWS_N_MFCC; ++m)
        features[m] = kws_sat8(kws_round_shift_right32(mfcc[m], KWS_FEATURE_SHIFT_BITS) + KWS_FEATURE_ZERO_POINT);
}}

int32_t kws_frontend_n_frames(int32_t n) {{
    return n < KWS_WINDOW_SAMPLES ? 0 : 1 + (n - KWS_WINDOW_SAMPLES) / KWS_HOP_SAMPLES;
}}

int kws_frontend_reset(kws_frontend_state *state) {{
    if (state == NULL) return KWS_ERR_NULL;
    memset(state, 0, sizeof *state);
    return KWS_OK;
}}

/* One frame to either output format. */
static void kws_fe_emit(const int16_t *window, int8_t *features, int16_t *mfcc_out) {{
    int16_t mfcc[KWS_N_MFCC];
    kws_frontend_compute_mfcc(window, mfcc);
    if (mfcc_out != NULL) memcpy(mfcc_out, mfcc, sizeof mfcc);
    if (features != NULL) kws_frontend_quantize(mfcc, features);
}}

static int32_t kws_fe_stream(kws_frontend_state *state, const int16_t *pcm, int32_t n, int8_t *features,
                             int16_t *mfcc, int out_null, int32_t max_frames) {{
    if (state == NULL) return KWS_ERR_NULL;
    if (n < 0 || max_frames < 0) return KWS_ERR_LENGTH;
    if ((pcm == NULL && n > 0) || (out_null && max_frames > 0)) return KWS_ERR_NULL;
    int32_t pending = state->n_pending;
    if (pending < 0 || pending >= KWS_WINDOW_SAMPLES) return KWS_ERR_STATE;
    const int32_t missing = KWS_WINDOW_SAMPLES - pending; /* samples until the next frame */
    const int32_t frames = n < missing ? 0 : 1 + (n - missing) / KWS_HOP_SAMPLES;
    if (frames > max_frames) return KWS_ERR_BUFFER;

    int32_t written = 0;
    while (n > 0) {{
        int32_t take = KWS_WINDOW_SAMPLES - pending;
        if (take > n) take = n;
        memcpy(&state->pending[pending], pcm, (size_t)take * sizeof *pcm);
        pending += take;
        pcm += take;
        n -= take;
        if (pending == KWS_WINDOW_SAMPLES) {{
            kws_fe_emit(state->pending, features != NULL ? &features[written * KWS_N_MFCC] : NULL,
                        mfcc != NULL ? &mfcc[written * KWS_N_MFCC] : NULL);
            ++written;
            memmove(state->pending, &state->pending[KWS_HOP_SAMPLES],
                    (size_t)(KWS_WINDOW_SAMPLES - KWS_HOP_SAMPLES) * sizeof state->pending[0]);
            pending = KWS_WINDOW_SAMPLES - KWS_HOP_SAMPLES;
        }}
    }}
    state->n_pending = pending;
    return written;
}}

int32_t kws_frontend_process(kws_frontend_state *state, const int16_t *pcm, int32_t n, int8_t *out_frames,
                             int32_t max_frames) {{
    return kws_fe_stream(state, pcm, n, out_frames, NULL, out_frames == NULL, max_frames);
}}

int32_t kws_frontend_process_mfcc(kws_frontend_state *state, const int16_t *pcm, int32_t n, int16_t *out_mfcc,
                                  int32_t max_frames) {{
    return kws_fe_stream(state, pcm, n, NULL, out_mfcc, out_mfcc == NULL, max_frames);
}}

int32_t kws_frontend_features_batch(const int16_t *pcm, int32_t n, int8_t *out_frames, int32_t max_frames) {{
    if (n < 0 || max_frames < 0) return KWS_ERR_LENGTH;
    if ((pcm == NULL && n > 0) || (out_frames == NULL && max_frames > 0)) return KWS_ERR_NULL;
    const int32_t frames = kws_frontend_n_frames(n);
    if (frames > max_frames) return KWS_ERR_BUFFER;
    for (int32_t f = 0; f < frames; ++f)
        kws_fe_emit(&pcm[f * KWS_HOP_SAMPLES], &out_frames[f * KWS_N_MFCC], NULL);
    return frames;
}}
"""


def _last_stage_c(name: str, sine_step: int) -> str:
    """C of the last FFT stage's twiddled butterflies of one quarter wave (half-wave table, step 1):
    butterfly k uses a = pa, b = pb, c = *pc, s = *ps; pa, pb, pc advance by one point / two table
    entries, ps by ``sine_step`` entries. A Thumb-2 kernel on the Cortex-M4 (25 instructions per
    butterfly, no per-twiddle overhead) and the same computation in C elsewhere."""
    return f"""/* Last FFT stage (one group), twiddles with {"falling" if sine_step < 0 else "rising"} sine index: for pa < pa_end,
 * a = pa[0..1], b = pb[0..1], W = c - j s = *pc - j *ps (as kws_fe_butterflies), then pa, pb += 2,
 * pc += 2, ps += {sine_step}. */
KWS_INLINE void {name}(int32_t *pa, int32_t *pb, const int32_t *pa_end, const int32_t *pc,
{" " * (len(name) + 17)}const int32_t *ps) {{
#if defined(__GNUC__) && defined(__ARM_ARCH_7EM__) && defined(__thumb2__)
    int32_t c, s, br, bi, l1, h1, l2, h2;
    __asm__ volatile(
        "1:\\n\\t"
        "ldr    %[c], [%[tc]], #8\\n\\t"
        "ldr    %[s], [%[ts]], #{4 * sine_step}\\n\\t"
        "ldrd   %[br], %[bi], [%[pb]]\\n\\t"
        "smull  %[l1], %[h1], %[br], %[c]\\n\\t"
        "smlal  %[l1], %[h1], %[bi], %[s]\\n\\t"
        "rsb    %[s], %[s], #0\\n\\t"
        "smull  %[l2], %[h2], %[bi], %[c]\\n\\t"
        "smlal  %[l2], %[h2], %[br], %[s]\\n\\t"
        "adds   %[l1], %[l1], #0x20000000\\n\\t"
        "adc    %[h1], %[h1], #0\\n\\t"
        "lsrs   %[l1], %[l1], #30\\n\\t"
        "orr    %[l1], %[l1], %[h1], lsl #2\\n\\t"
        "adds   %[l2], %[l2], #0x20000000\\n\\t"
        "adc    %[h2], %[h2], #0\\n\\t"
        "lsrs   %[l2], %[l2], #30\\n\\t"
        "orr    %[l2], %[l2], %[h2], lsl #2\\n\\t"
        "ldrd   %[br], %[bi], [%[pa]]\\n\\t"
        "add    %[h1], %[br], %[l1]\\n\\t"
        "add    %[h2], %[bi], %[l2]\\n\\t"
        "strd   %[h1], %[h2], [%[pa]], #8\\n\\t"
        "sub    %[h1], %[br], %[l1]\\n\\t"
        "sub    %[h2], %[bi], %[l2]\\n\\t"
        "strd   %[h1], %[h2], [%[pb]], #8\\n\\t"
        "cmp    %[pa], %[end]\\n\\t"
        "blo    1b\\n\\t"
        : [pa] "+&r"(pa), [pb] "+&r"(pb), [tc] "+&r"(pc), [ts] "+&r"(ps), [c] "=&r"(c), [s] "=&r"(s),
          [br] "=&r"(br), [bi] "=&r"(bi), [l1] "=&r"(l1), [h1] "=&r"(h1), [l2] "=&r"(l2), [h2] "=&r"(h2)
        : [end] "r"(pa_end)
        : "cc", "memory");
#else
    do {{
        const int32_t c = *pc, s = *ps;
        const int32_t b_re = pb[0], b_im = pb[1];
        const int32_t t_re = kws_fe_round_q30((int64_t)b_re * c + (int64_t)b_im * s);
        const int32_t t_im = kws_fe_round_q30((int64_t)b_im * c + (int64_t)b_re * -s);
        const int32_t a_re = pa[0], a_im = pa[1];
        pa[0] = a_re + t_re;
        pa[1] = a_im + t_im;
        pb[0] = a_re - t_re;
        pb[1] = a_im - t_im;
        pa += 2;
        pb += 2;
        pc += 2;
        ps += {sine_step};
    }} while (pa < pa_end);
#endif
}}

"""


def frontend_ram_bytes(config: FrontendConfig) -> dict[str, int]:
    """RAM of the generated front end: the state struct and the main stack scratch, in bytes."""
    state = 2 * config.window_samples + 4
    state += (-state) % 4
    t = tables(config)
    magnitudes = 0 if t.first_bin + t.n_bins_used - 1 <= config.fft_size // 4 else 4 * t.n_bins_used
    return {"state": state, "scratch": 4 * config.fft_size + 8 * config.n_mel + magnitudes + 2 * config.n_mfcc}


def emit_frontend(config: FrontendConfig) -> dict[str, str]:
    """File bodies (no stamp) of ``kws_frontend.h`` and ``kws_frontend.c`` for ``config``."""
    t = tables(config)
    _check_emittable(t)
    constants = frontend_constants(config)
    ram = frontend_ram_bytes(config)
    short = config.config_hash()
    check = " || ".join(f"{name} != {constants[name]}" for name in _CHECKED)
    header = _HEADER.format(hash=short, state_bytes=ram["state"], stack_bytes=ram["scratch"])
    last_stage = (_last_stage_c("kws_fe_last_stage_falling", -2) + _last_stage_c("kws_fe_last_stage_rising", 2)
                  if half_wave_cos_q30(t) is not None else "")
    source = _SOURCE.format(hash=short, config_check=check, tables=_tables_c(t), last_stage=last_stage,
                            fft_bytes=4 * config.fft_size, mel_bytes=8 * config.n_mel,
                            mag_bytes=ram["scratch"] - 4 * config.fft_size - 8 * config.n_mel - 2 * config.n_mfcc)
    return {"kws_frontend.h": header, "kws_frontend.c": source}


def emitter_hash(config: FrontendConfig) -> str:
    """SHA-256 (16 hex digits) of everything the front end's C build depends on for ``config``."""
    from kws.firmware_export.hostbuild import C_DIR

    digest = hashlib.sha256()
    for name, body in sorted(emit_frontend(config).items()):
        digest.update(name.encode() + b"\0" + body.encode() + b"\0")
    for name in ("kws_fixedpoint.h", "kws_status.h"):
        digest.update((C_DIR / name).read_bytes())
    return digest.hexdigest()[:16]
