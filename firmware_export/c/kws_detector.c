/* kws_detector.c: see kws_detector.h. */
#include "kws_detector.h"

#include <string.h>

static const int16_t kws_detector_thresholds[KWS_N_CLASSES] = KWS_DETECTOR_THRESHOLDS;

int kws_detector_reset(kws_detector_state *state) {
    if (state == NULL) return KWS_ERR_NULL;
    memset(state, 0, sizeof *state);
    for (int32_t l = 0; l < KWS_N_CLASSES; ++l) state->smoothed[l] = -128;
    return KWS_OK;
}

int kws_detector_process(kws_detector_state *state, const int8_t *scores, int32_t frame_index,
                         kws_detection *detection) {
    if (state == NULL || scores == NULL || detection == NULL) return KWS_ERR_NULL;
    uint8_t *slot = state->history[state->next];
    const int full = state->count == KWS_DETECTOR_SMOOTHING;
    if (!full) ++state->count;
    for (int32_t l = 0; l < KWS_N_CLASSES; ++l) {
        const uint8_t u = (uint8_t)(scores[l] + 128);
        if (full) state->sum[l] -= slot[l];
        slot[l] = u;
        state->sum[l] += u;
        /* sums are >= 0: C division is the floor here */
        state->smoothed[l] = (int16_t)((state->sum[l] + state->count / 2) / state->count - 128);
    }
    state->next = state->next + 1 == KWS_DETECTOR_SMOOTHING ? 0 : state->next + 1;

    if (state->has_fired && frame_index - state->last_fire < KWS_DETECTOR_REFRACTORY_FRAMES) {
        memset(state->hits, 0, sizeof state->hits);
        return 0;
    }
    int32_t best = -1;
    for (int32_t l = 0; l < KWS_N_CLASSES; ++l) {
        if (state->smoothed[l] >= kws_detector_thresholds[l]) {
            if (state->hits[l] < KWS_DETECTOR_MIN_HITS) ++state->hits[l];
        } else {
            state->hits[l] = 0;
        }
        if (state->hits[l] >= KWS_DETECTOR_MIN_HITS && (best < 0 || state->smoothed[l] > state->smoothed[best])) {
            best = l;
        }
    }
    if (best < 0) return 0;
    memset(state->hits, 0, sizeof state->hits);
    state->last_fire = frame_index;
    state->has_fired = 1;
    detection->label = best;
    detection->frame = frame_index;
    detection->score = state->smoothed[best];
    return 1;
}
