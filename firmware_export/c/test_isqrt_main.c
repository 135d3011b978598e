/* Host test of kws_isqrt32 / kws_isqrt64 (kws_fixedpoint.h) against a slow bit-by-bit reference:
 * every value below 2**20, every perfect square +-2 on a dense grid of roots, random values of
 * every bit length, and the extremes. Prints the first mismatches; exit status 1 if any. */
#include <stdio.h>

#include "kws_fixedpoint.h"

static uint64_t reference_isqrt(uint64_t v) {
    uint64_t root = 0, bit = (uint64_t)1 << 62;
    while (bit > v) bit >>= 2;
    while (bit != 0) {
        if (v >= root + bit) {
            v -= root + bit;
            root = (root >> 1) + bit;
        } else {
            root >>= 1;
        }
        bit >>= 2;
    }
    return root;
}

static long checked, failed;
static void check(uint64_t v) {
    ++checked;
    uint64_t want = reference_isqrt(v);
    if (kws_isqrt64(v) != want || ((v >> 32) == 0 && kws_isqrt32((uint32_t)v) != want)) {
        if (failed++ < 5) printf("isqrt(%llu) = %lu, want %llu\n", (unsigned long long)v,
                                 (unsigned long)kws_isqrt64(v), (unsigned long long)want);
    }
}

int main(void) {
    uint64_t state = 88172645463325252ull;
    for (uint64_t v = 0; v < ((uint64_t)1 << 20); ++v) check(v);
    for (uint64_t r = 1; r < ((uint64_t)1 << 32); r += 1 + (r >> 9)) {
        uint64_t square = r * r;
        for (uint64_t d = 0; d <= 4; ++d) if (square + d >= 2) check(square + d - 2);
    }
    for (long i = 0; i < 2000000; ++i) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        check(state >> (state & 63));
    }
    for (int b = 0; b < 64; ++b) {
        check((uint64_t)1 << b);
        check(((uint64_t)1 << b) - 1);
        check(((uint64_t)1 << b) + 1);
    }
    check(~(uint64_t)0);
    printf("isqrt: %ld values, %ld wrong\n", checked, failed);
    return failed != 0;
}
