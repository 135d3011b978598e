/* Integer decisions on the model's int8 scores: smoothing, per-label thresholds, consecutive hits,
 * refractory time. The C mirror of kws/detector.py (same rules, same integers):
 *   smoothed[l] = (sum of the last S (score[l] + 128)) + count/2) / count - 128
 *   a label hits when smoothed >= its threshold (128 = never); while blocked (fewer than
 *   KWS_DETECTOR_REFRACTORY_FRAMES frames since the last detection) every hit counter is 0;
 *   otherwise a counter counts consecutive hits; when one reaches KWS_DETECTOR_MIN_HITS the
 *   detector fires for the ready label with the highest smoothed score (lowest index on ties). */
#ifndef KWS_DETECTOR_H
#define KWS_DETECTOR_H

#include <stdint.h>

#include "kws_config.h"
#include "kws_status.h"

typedef struct {
    int32_t label;  /* index into the model's labels */
    int32_t frame;  /* last frame of the window that fired (fires at (frame * hop + window) / rate s) */
    int32_t score;  /* smoothed int8 score of the label */
} kws_detection;

typedef struct {
    uint8_t history[KWS_DETECTOR_SMOOTHING][KWS_N_CLASSES]; /* score + 128 of the last runs */
    int32_t sum[KWS_N_CLASSES];
    int32_t count;      /* runs held in history (<= KWS_DETECTOR_SMOOTHING) */
    int32_t next;       /* history slot of the next run */
    uint16_t hits[KWS_N_CLASSES];
    int32_t last_fire;  /* frame of the last detection */
    int32_t has_fired;
    int16_t smoothed[KWS_N_CLASSES];
} kws_detector_state;

int kws_detector_reset(kws_detector_state *state);

/* Take the int8 scores of the run whose window ends at frame_index (increasing). Returns 1 and
 * fills *detection when the detector fires, 0 when not, or a negative KWS_ERR_*. */
int kws_detector_process(kws_detector_state *state, const int8_t *scores, int32_t frame_index,
                         kws_detection *detection);

#endif /* KWS_DETECTOR_H */
