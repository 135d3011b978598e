/* A minimal firmware image for measuring what kws costs in flash and RAM: built once with kws
 * and once with -DKWS_SIZE_EMPTY (same startup and libc); report.json takes the difference. */
#include <stdint.h>

#include "kws.h"

static volatile int16_t microphone[KWS_HOP_SAMPLES]; /* stands in for a DMA buffer */

#if !defined(KWS_SIZE_EMPTY)
static kws_context ctx;
#endif

int main(void) {
    int16_t block[KWS_HOP_SAMPLES];
    for (int32_t i = 0; i < KWS_HOP_SAMPLES; ++i) block[i] = microphone[i];
#if defined(KWS_SIZE_EMPTY)
    return block[0];
#else
    kws_init(&ctx);
    for (int32_t hop = 0; hop < KWS_FRAMES_PER_CLIP + 1; ++hop) kws_process(&ctx, block, KWS_HOP_SAMPLES);
    return kws_best_label(&ctx);
#endif
}
