/* kws_two_stage.c: see kws_two_stage.h. */
#include "kws_two_stage.h"

#include <string.h>

#if KWS_HOP_SAMPLES != KWS_CMD_HOP_SAMPLES || KWS_N_MFCC != KWS_CMD_N_MFCC
#error "the two models of a two-stage export must share one front end"
#endif

int kws_two_stage_reset(kws_two_stage *ts) {
    if (ts == NULL) return KWS_ERR_NULL;
    int status = kws_reset(&ts->wake);
    if (status != KWS_OK) return status;
    status = kws_cmd_reset(&ts->command);
    if (status != KWS_OK) return status;
    memset(&ts->open, 0, sizeof ts->open);
    ts->is_open = 0;
    ts->events = 0;
    return KWS_OK;
}

int kws_two_stage_init(kws_two_stage *ts) {
    if (ts == NULL) return KWS_ERR_NULL;
    memset(ts, 0, sizeof *ts);
    int status = kws_init(&ts->wake);
    if (status != KWS_OK) return status;
    status = kws_cmd_init(&ts->command);
    if (status != KWS_OK) return status;
    return kws_two_stage_reset(ts);
}

int kws_two_stage_set_callback(kws_two_stage *ts, kws_two_stage_callback callback, void *user) {
    if (ts == NULL) return KWS_ERR_NULL;
    ts->on_event = callback;
    ts->on_event_user = user;
    return KWS_OK;
}

int32_t kws_two_stage_listening(const kws_two_stage *ts) {
    return ts == NULL ? KWS_ERR_NULL : ts->is_open;
}

static void emit(kws_two_stage *ts, const kws_two_stage_event *event) {
    ++ts->events;
    if (ts->on_event != NULL) ts->on_event(event, ts->on_event_user);
}

/* A window passes without a command once a detection comes later than its end (both models
 * share the hop, so frames compare as samples). */
static void close_if_passed(kws_two_stage *ts, int32_t frame) {
    if (ts->is_open && (int64_t)(frame - ts->open.frame) * KWS_HOP_SAMPLES > KWS_TWO_STAGE_LISTEN_SAMPLES) {
        ts->is_open = 0;
    }
}

/* One frame through both models: the wake detection first, then the command of the same frame. */
static int32_t step_frame(kws_two_stage *ts, const int8_t *frame) {
    const int32_t before = ts->events;
    kws_detection wake;
    const int32_t wakes = kws_detection_count(&ts->wake, NULL);
    int32_t ran = kws_process_frame(&ts->wake, frame);
    if (ran < 0) return ran;
    if (kws_detection_count(&ts->wake, &wake) != wakes) {
        close_if_passed(ts, wake.frame);
        ts->open = wake;
        ts->is_open = 1;
        kws_two_stage_event event = {wake, 0, {0, 0, 0}};
        emit(ts, &event);
    }
    kws_cmd_detection command;
    const int32_t commands = kws_cmd_detection_count(&ts->command, NULL);
    ran = kws_cmd_process_frame(&ts->command, frame);
    if (ran < 0) return ran;
    if (kws_cmd_detection_count(&ts->command, &command) != commands) {
        close_if_passed(ts, command.frame);
        if (ts->is_open) {
            kws_two_stage_event event = {ts->open, 1, command};
            ts->is_open = 0;
            emit(ts, &event);
        }
    }
    return ts->events - before;
}

int32_t kws_two_stage_process(kws_two_stage *ts, const int16_t *pcm, int32_t n) {
    if (ts == NULL || (pcm == NULL && n != 0)) return KWS_ERR_NULL;
    /* both contexts must come from kws_two_stage_init before the shared front end is touched */
    if (kws_frames_seen(&ts->wake) < 0 || kws_cmd_frames_seen(&ts->command) < 0) return KWS_ERR_STATE;
    if (n < 0) return KWS_ERR_LENGTH;
    int32_t events = 0;
    while (n > 0) {
        /* at most one hop per call: the shared front end then completes at most one frame */
        const int32_t take = n < KWS_HOP_SAMPLES ? n : KWS_HOP_SAMPLES;
        int8_t frame[KWS_N_MFCC];
        const int32_t got = kws_frontend_process(&ts->wake.frontend, pcm, take, frame, 1);
        if (got < 0) return got;
        if (got == 1) {
            const int32_t stepped = step_frame(ts, frame);
            if (stepped < 0) return stepped;
            events += stepped;
        }
        pcm += take;
        n -= take;
    }
    return events;
}
