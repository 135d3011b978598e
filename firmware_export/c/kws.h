/* kws: keyword spotting on a microcontroller. The API a firmware calls.
 *
 *   static kws_context ctx;
 *   kws_init(&ctx);
 *   kws_set_detection_callback(&ctx, on_keyword, NULL);   // called from kws_process
 *   for each block of int16 PCM from the microphone (any length):
 *       kws_process(&ctx, block, n);   // front end every hop, model every
 *                                      // KWS_INFERENCE_PERIOD_FRAMES, detector on its scores
 *   kws_scores() / kws_best_label() give the raw scores of the latest model run.
 *
 * Everything is static or in the caller's kws_context: no malloc, no floating point.
 * Built with KWS_CONTEXT_WITHOUT_FRONTEND, a context has no front end of its own and takes
 * feature frames only (kws_process_frame): the second model of a two-stage export.
 * Every function checks its arguments and returns a KWS_ERR_* code (negative) on misuse. */
#ifndef KWS_H
#define KWS_H

#include <stdint.h>

#include "kws_config.h"
#include "kws_detector.h"
#include "kws_frontend.h"
#include "kws_model.h"
#include "kws_status.h"

typedef void (*kws_detection_callback)(const kws_detection *detection, void *user);

typedef struct {
#if !defined(KWS_CONTEXT_WITHOUT_FRONTEND)
    kws_frontend_state frontend;
#endif
    kws_detector_state detector;
    kws_detection last_detection;     /* the latest detection (valid when detections > 0) */
    int32_t detections;               /* detections since the last reset */
    kws_detection_callback on_detection;
    void *on_detection_user;
    /* the latest KWS_FRAMES_PER_CLIP feature frames, oldest first: the model's input window */
    int8_t features[KWS_FRAMES_PER_CLIP * KWS_N_MFCC];
    int32_t frames_seen;              /* feature frames produced since the last reset */
    int32_t frames_until_inference;   /* hops left before the next model run */
    int32_t inferences;               /* model runs since the last reset */
    int8_t scores[KWS_N_CLASSES];     /* int8 scores of the latest model run */
    int32_t best;                     /* index of the top score of the latest run, -1 before any */
    int32_t scored_frame;             /* index of the last frame of the latest run's window, -1 before any */
    uint32_t magic;                   /* set by kws_init: catches an uninitialised context */
} kws_context;

/* Prepare a context (any memory, e.g. static). KWS_OK or KWS_ERR_NULL. */
int kws_init(kws_context *ctx);

/* Forget all audio: the next sample starts a new stream. */
int kws_reset(kws_context *ctx);

#if !defined(KWS_CONTEXT_WITHOUT_FRONTEND)
/* Feed n samples of 16 kHz int16 PCM (n >= 0, any length). Runs the front end on every
 * completed hop and the model every KWS_INFERENCE_PERIOD_FRAMES frames once a full window of
 * KWS_FRAMES_PER_CLIP frames is there. Returns the number of model runs in this call (>= 0) or
 * a negative KWS_ERR_*. */
int32_t kws_process(kws_context *ctx, const int16_t *pcm, int32_t n);
#endif

/* Feed one feature frame (KWS_N_MFCC int8 values) computed elsewhere, e.g. by a front end shared
 * with another model (kws_two_stage.c): the same window, model runs and detector as kws_process.
 * Returns 1 when the model ran, 0 when not, or a negative KWS_ERR_*. */
int32_t kws_process_frame(kws_context *ctx, const int8_t *frame);

/* Call `callback(detection, user)` from kws_process at every detection (NULL: none). The
 * callback survives kws_reset. */
int kws_set_detection_callback(kws_context *ctx, kws_detection_callback callback, void *user);

/* Detections since the last reset; *latest (if not NULL) gets the newest. */
int32_t kws_detection_count(const kws_context *ctx, kws_detection *latest);

/* int8 scores of the latest model run ([KWS_N_CLASSES]); NULL for a NULL context. */
const int8_t *kws_scores(const kws_context *ctx);

/* Index of the best label of the latest run, -1 before the first run, or a KWS_ERR_*. */
int32_t kws_best_label(const kws_context *ctx);

/* Name of label `index` ("yes", "_silence_", ...), or NULL when out of range. */
const char *kws_label_name(int32_t index);

/* Feature frames produced since the last reset (the frame index of the next frame). */
int32_t kws_frames_seen(const kws_context *ctx);

/* Index (since the last reset) of the newest frame in the latest model run's window: its end
 * time is (frame * KWS_HOP_SAMPLES + KWS_WINDOW_SAMPLES) samples. -1 before the first run. */
int32_t kws_scored_frame(const kws_context *ctx);

#endif /* KWS_H */
