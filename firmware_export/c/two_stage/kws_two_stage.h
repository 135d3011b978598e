/* Two-stage keyword spotting: a wake word opens a short window in which one command is taken
 * ("computer, lights on"). One front end feeds both models; the C mirror of kws/two_stage.py.
 *
 *   static kws_two_stage ts;
 *   kws_two_stage_init(&ts);
 *   kws_two_stage_set_callback(&ts, on_event, NULL);  // the wake word, then "wake word, command"
 *   for each block of int16 PCM from the microphone (any length):
 *       kws_two_stage_process(&ts, block, n);
 *
 * The wake stage is kws.h (kws_*), the command stage kws_cmd.h (kws_cmd_*): the same code with
 * its own model, labels and detector settings, and no front end of its own. A command is taken
 * when its detection fires at most KWS_TWO_STAGE_LISTEN_SAMPLES after the wake detection; the
 * first one closes the window, and commands outside a window are dropped. */
#ifndef KWS_TWO_STAGE_H
#define KWS_TWO_STAGE_H

#include <stdint.h>

#include "kws.h"
#include "kws_cmd.h"
#include "kws_two_stage_config.h"

typedef struct {
    kws_detection wake;         /* the wake detection (labels: kws_label_name) */
    int32_t has_command;        /* 0: the wake word alone (a window opened); 1: a command in it */
    kws_cmd_detection command;  /* the command (labels: kws_cmd_label_name), when has_command */
} kws_two_stage_event;

typedef void (*kws_two_stage_callback)(const kws_two_stage_event *event, void *user);

typedef struct {
    kws_context wake;            /* its front end is the one both models share */
    kws_cmd_context command;
    kws_detection open;          /* the wake detection whose window is open */
    int32_t is_open;
    int32_t events;              /* events since the last reset */
    kws_two_stage_callback on_event;
    void *on_event_user;
} kws_two_stage;

/* Prepare (any memory, e.g. static) / forget all audio. KWS_OK or a KWS_ERR_*. */
int kws_two_stage_init(kws_two_stage *ts);
int kws_two_stage_reset(kws_two_stage *ts);

/* Call `callback(event, user)` from kws_two_stage_process at every event (NULL: none). */
int kws_two_stage_set_callback(kws_two_stage *ts, kws_two_stage_callback callback, void *user);

/* Feed n samples of 16 kHz int16 PCM (any length). Returns the events of this call (>= 0) or a
 * negative KWS_ERR_*. */
int32_t kws_two_stage_process(kws_two_stage *ts, const int16_t *pcm, int32_t n);

/* 1 while a wake word's command window is open, else 0 (or a KWS_ERR_*). */
int32_t kws_two_stage_listening(const kws_two_stage *ts);

#endif /* KWS_TWO_STAGE_H */
