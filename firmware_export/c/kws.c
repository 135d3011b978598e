/* kws.c: the streaming glue between the front end and the model (see kws.h). */
#include "kws.h"

#include <string.h>

#define KWS_CONTEXT_MAGIC 0x6B777331u /* "kws1" */

static const char *const kws_label_names[KWS_N_CLASSES] = KWS_LABEL_NAMES;

int kws_reset(kws_context *ctx) {
    if (ctx == NULL) return KWS_ERR_NULL;
    int status = KWS_OK;
#if !defined(KWS_CONTEXT_WITHOUT_FRONTEND)
    status = kws_frontend_reset(&ctx->frontend);
    if (status != KWS_OK) return status;
#endif
    status = kws_detector_reset(&ctx->detector);
    if (status != KWS_OK) return status;
    memset(&ctx->last_detection, 0, sizeof ctx->last_detection);
    ctx->detections = 0;
    memset(ctx->features, 0, sizeof ctx->features);
    memset(ctx->scores, 0, sizeof ctx->scores);
    ctx->frames_seen = 0;
    /* the first run comes when the window is first full */
    ctx->frames_until_inference = KWS_FRAMES_PER_CLIP;
    ctx->inferences = 0;
    ctx->best = -1;
    ctx->scored_frame = -1;
    return KWS_OK;
}

int kws_init(kws_context *ctx) {
    if (ctx == NULL) return KWS_ERR_NULL;
    memset(ctx, 0, sizeof *ctx);
    ctx->magic = KWS_CONTEXT_MAGIC;
    return kws_reset(ctx);
}

static int32_t argmax_first(const int8_t *scores) {
    int32_t best = 0;
    for (int32_t i = 1; i < KWS_N_CLASSES; ++i) {
        if (scores[i] > scores[best]) best = i;
    }
    return best;
}

/* Append one frame to the window (oldest dropped) and run the model when it is due. */
static int32_t push_frame(kws_context *ctx, const int8_t *frame) {
    memmove(ctx->features, ctx->features + KWS_N_MFCC, (KWS_FRAMES_PER_CLIP - 1) * KWS_N_MFCC);
    memcpy(ctx->features + (KWS_FRAMES_PER_CLIP - 1) * KWS_N_MFCC, frame, KWS_N_MFCC);
    ++ctx->frames_seen;
    if (--ctx->frames_until_inference > 0) return 0;
    ctx->frames_until_inference = KWS_INFERENCE_PERIOD_FRAMES;
    int status = kws_model_invoke(ctx->features, ctx->scores);
    if (status != KWS_OK) return status;
    ctx->best = argmax_first(ctx->scores);
    ctx->scored_frame = ctx->frames_seen - 1;
    ++ctx->inferences;
    kws_detection detection;
    status = kws_detector_process(&ctx->detector, ctx->scores, ctx->scored_frame, &detection);
    if (status < 0) return status;
    if (status == 1) {
        ctx->last_detection = detection;
        ++ctx->detections;
        if (ctx->on_detection != NULL) ctx->on_detection(&detection, ctx->on_detection_user);
    }
    return 1;
}

int32_t kws_process_frame(kws_context *ctx, const int8_t *frame) {
    if (ctx == NULL || frame == NULL) return KWS_ERR_NULL;
    if (ctx->magic != KWS_CONTEXT_MAGIC) return KWS_ERR_STATE;
    return push_frame(ctx, frame);
}

#if !defined(KWS_CONTEXT_WITHOUT_FRONTEND)
int32_t kws_process(kws_context *ctx, const int16_t *pcm, int32_t n) {
    if (ctx == NULL || (pcm == NULL && n != 0)) return KWS_ERR_NULL;
    if (ctx->magic != KWS_CONTEXT_MAGIC) return KWS_ERR_STATE;
    if (n < 0) return KWS_ERR_LENGTH;
    int32_t runs = 0;
    while (n > 0) {
        /* at most one hop per call: the front end then completes at most one frame */
        int32_t take = n < KWS_HOP_SAMPLES ? n : KWS_HOP_SAMPLES;
        int8_t frame[KWS_N_MFCC];
        int32_t got = kws_frontend_process(&ctx->frontend, pcm, take, frame, 1);
        if (got < 0) return got;
        if (got == 1) {
            int32_t ran = push_frame(ctx, frame);
            if (ran < 0) return ran;
            runs += ran;
        }
        pcm += take;
        n -= take;
    }
    return runs;
}
#endif

const int8_t *kws_scores(const kws_context *ctx) {
    return ctx == NULL ? NULL : ctx->scores;
}

int32_t kws_best_label(const kws_context *ctx) {
    if (ctx == NULL) return KWS_ERR_NULL;
    if (ctx->magic != KWS_CONTEXT_MAGIC) return KWS_ERR_STATE;
    return ctx->best;
}

const char *kws_label_name(int32_t index) {
    return index >= 0 && index < KWS_N_CLASSES ? kws_label_names[index] : NULL;
}

int32_t kws_frames_seen(const kws_context *ctx) {
    if (ctx == NULL) return KWS_ERR_NULL;
    if (ctx->magic != KWS_CONTEXT_MAGIC) return KWS_ERR_STATE;
    return ctx->frames_seen;
}

int32_t kws_scored_frame(const kws_context *ctx) {
    if (ctx == NULL) return KWS_ERR_NULL;
    if (ctx->magic != KWS_CONTEXT_MAGIC) return KWS_ERR_STATE;
    return ctx->scored_frame;
}

int kws_set_detection_callback(kws_context *ctx, kws_detection_callback callback, void *user) {
    if (ctx == NULL) return KWS_ERR_NULL;
    if (ctx->magic != KWS_CONTEXT_MAGIC) return KWS_ERR_STATE;
    ctx->on_detection = callback;
    ctx->on_detection_user = user;
    return KWS_OK;
}

int32_t kws_detection_count(const kws_context *ctx, kws_detection *latest) {
    if (ctx == NULL) return KWS_ERR_NULL;
    if (ctx->magic != KWS_CONTEXT_MAGIC) return KWS_ERR_STATE;
    if (latest != NULL && ctx->detections > 0) *latest = ctx->last_detection;
    return ctx->detections;
}
