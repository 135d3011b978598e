/* A minimal firmware image for measuring what kws costs in flash and RAM: built once with kws
 * and once with -DKWS_SIZE_EMPTY (same startup and libc); report.json takes the difference.
 * With -DKWS_SIZE_TWO_STAGE it links the two-stage API (kws export --then) instead. */
#include <stdint.h>

#if defined(KWS_SIZE_TWO_STAGE)
#include "kws_two_stage.h"
#define KWS_SIZE_STATE kws_two_stage
#define KWS_SIZE_INIT kws_two_stage_init
#define KWS_SIZE_PROCESS kws_two_stage_process
#define KWS_SIZE_RESULT kws_two_stage_listening
#else
#include "kws.h"
#define KWS_SIZE_STATE kws_context
#define KWS_SIZE_INIT kws_init
#define KWS_SIZE_PROCESS kws_process
#define KWS_SIZE_RESULT kws_best_label
#endif

static volatile int16_t microphone[KWS_HOP_SAMPLES]; /* stands in for a DMA buffer */

#if !defined(KWS_SIZE_EMPTY)
static KWS_SIZE_STATE state;
#endif

int main(void) {
    int16_t block[KWS_HOP_SAMPLES];
    for (int32_t i = 0; i < KWS_HOP_SAMPLES; ++i) block[i] = microphone[i];
#if defined(KWS_SIZE_EMPTY)
    return block[0];
#else
    KWS_SIZE_INIT(&state);
    for (int32_t hop = 0; hop < KWS_FRAMES_PER_CLIP + 1; ++hop) KWS_SIZE_PROCESS(&state, block, KWS_HOP_SAMPLES);
    return KWS_SIZE_RESULT(&state);
#endif
}
