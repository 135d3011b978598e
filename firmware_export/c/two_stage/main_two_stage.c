/* Two-stage test harness, host (gcc) and Cortex-M4 under QEMU (semihosting file I/O). Feeds a raw
 * little-endian int16 PCM file hop by hop to kws_two_stage_process and prints, per hop,
 *   W <frame> <label> <score>                      a wake detection (a window opens)
 *   E <wake_frame> <frame> <label> <score>         a command taken in the window
 *   A <frame> <best> <scores...>                   a run of the wake model
 *   B <frame> <best> <scores...>                   a run of the command model
 * which `kws export --then` compares with Python (kws.two_stage). --chunk N feeds N samples per call
 * (1..KWS_HOP_SAMPLES, default a hop: a call then completes at most one frame). --count (Cortex-M4)
 * adds the C, T and K lines of main_host.c: SysTick ticks and stack bytes of kws_two_stage_process. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kws_two_stage.h"

#if defined(KWS_PLATFORM_CORTEX_M4)
#include "platform.h"
#endif

static kws_two_stage ts;

static void print_event(const kws_two_stage_event *event, void *user) {
    (void)user;
    if (event->has_command) {
        printf("E %ld %ld %ld %ld\n", (long)event->wake.frame, (long)event->command.frame,
               (long)event->command.label, (long)event->command.score);
    } else {
        printf("W %ld %ld %ld\n", (long)event->wake.frame, (long)event->wake.label, (long)event->wake.score);
    }
}

static void print_run(char tag, int32_t frame, int32_t best, const int8_t *scores, int32_t n) {
    printf("%c %ld %ld", tag, (long)frame, (long)best);
    for (int32_t i = 0; i < n; ++i) printf(" %d", scores[i]);
    putchar('\n');
}

int main(int argc, char **argv) {
    int count = 0;
    int32_t chunk = KWS_HOP_SAMPLES;
    const char *path = NULL;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--count") == 0) {
            count = 1;
        } else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc) {
            chunk = (int32_t)atol(argv[++i]);
            if (chunk < 1 || chunk > KWS_HOP_SAMPLES) {
                fprintf(stderr, "kws_two_stage_main: --chunk must be 1..%d\n", KWS_HOP_SAMPLES);
                return 2;
            }
        } else {
            path = argv[i]; /* QEMU passes the image name first: the last word is the file */
        }
    }
    FILE *file = path == NULL ? NULL : fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "kws_two_stage_main: usage: kws_two_stage_main [--count] PCM_FILE (cannot open %s)\n",
                path ? path : "-");
        return 2;
    }
    if (kws_two_stage_init(&ts) != KWS_OK || kws_two_stage_set_callback(&ts, print_event, NULL) != KWS_OK) return 1;
    uint64_t ticks = 0;
    uint32_t stack = 0;
    long samples = 0;
#if defined(KWS_PLATFORM_CORTEX_M4)
    if (count) {
        const uint32_t iterations = 1000000u;
        uint64_t start = kws_platform_ticks();
        kws_platform_busy_loop(iterations);
        printf("C %lu %lu\n", (unsigned long)(kws_platform_ticks() - start), (unsigned long)(2u * iterations));
    }
#endif
    int16_t block[KWS_HOP_SAMPLES];
    int32_t got, wake_seen = -1, command_seen = -1;
    while ((got = (int32_t)fread(block, sizeof(int16_t), (size_t)chunk, file)) > 0) {
#if defined(KWS_PLATFORM_CORTEX_M4)
        if (count) kws_platform_stack_paint(kws_platform_sp());
        uint64_t start = kws_platform_ticks();
#endif
        int32_t status = kws_two_stage_process(&ts, block, got);
#if defined(KWS_PLATFORM_CORTEX_M4)
        ticks += kws_platform_ticks() - start;
        if (count && kws_platform_stack_used() > stack) stack = kws_platform_stack_used();
#endif
        if (status < 0) {
            fprintf(stderr, "kws_two_stage_process: error %ld\n", (long)status);
            return 1;
        }
        samples += got;
        if (kws_scored_frame(&ts.wake) != wake_seen) {
            wake_seen = kws_scored_frame(&ts.wake);
            print_run('A', wake_seen, kws_best_label(&ts.wake), kws_scores(&ts.wake), KWS_N_CLASSES);
        }
        if (kws_cmd_scored_frame(&ts.command) != command_seen) {
            command_seen = kws_cmd_scored_frame(&ts.command);
            print_run('B', command_seen, kws_cmd_best_label(&ts.command), kws_cmd_scores(&ts.command),
                      KWS_CMD_N_CLASSES);
        }
    }
    fclose(file);
    if (count) {
        printf("T stream %lu %ld\n", (unsigned long)ticks, samples);
        printf("K stream %lu\n", (unsigned long)stack);
    }
    fflush(stdout);
    return 0;
}
