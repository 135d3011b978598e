/* kws test harness: the same program runs on the host (gcc) and on a Cortex-M4 under QEMU
 * (semihosting file I/O). It reads raw little-endian input from a file ("-" = stdin on the host)
 * and prints one line per result, which `kws export --verify` compares with Python.
 *
 *   kws_main frames [--chunks 1,7,320] [--mfcc] PCM_FILE   F/M <frame> <values...>
 *   kws_main model FEATURES_FILE                              S <index> <scores...>
 *       (int8 blocks of KWS_FRAMES_PER_CLIP * KWS_N_MFCC features)
 *   kws_main stream [--chunks ...] PCM_FILE                   P <frame> <best> <scores...>
 *                                                             D <frame> <label> <score> (detections)
 *   kws_main sizes                                            Z <name> <bytes> (RAM of each part)
 *   add --count (Cortex-M4): T lines with SysTick ticks, K lines with measured stack bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kws.h"

#if defined(KWS_PLATFORM_CORTEX_M4)
#include "platform.h"
#define TICKS() kws_platform_ticks()
#define STACK_PAINT() kws_platform_stack_paint(kws_platform_sp())
#define STACK_USED() kws_platform_stack_used()
#else
#define TICKS() ((uint64_t)0)
#define STACK_PAINT() ((void)0)
#define STACK_USED() ((uint32_t)0)
#endif

/* Keep the deepest stack use seen (Cortex-M4 only: the host has no stack meter). */
static void note_stack(uint32_t *deepest) {
#if defined(KWS_PLATFORM_CORTEX_M4)
    uint32_t used = STACK_USED();
    if (used > *deepest) *deepest = used;
#else
    (void)deepest;
#endif
}

#define MAX_CHUNKS 32
#define MAX_CHUNK_SAMPLES 4096
#define MAX_FRAMES_PER_CHUNK (MAX_CHUNK_SAMPLES / KWS_HOP_SAMPLES + 2)

static int16_t pcm_block[MAX_CHUNK_SAMPLES];
static int8_t feature_out[MAX_FRAMES_PER_CHUNK * KWS_N_MFCC];
static int16_t mfcc_out[MAX_FRAMES_PER_CHUNK * KWS_N_MFCC];
static int8_t model_input[KWS_FRAMES_PER_CLIP * KWS_N_MFCC];
static kws_context ctx;

typedef struct {
    int32_t sizes[MAX_CHUNKS];
    int32_t count;
} chunk_plan;

static int usage(const char *why) {
    fprintf(stderr, "kws_main: %s\nusage: kws_main frames|model|stream [--chunks N,N,...] [--mfcc] [--count] FILE\n",
            why);
    return 2;
}

static int parse_chunks(const char *text, chunk_plan *plan) {
    plan->count = 0;
    while (*text && plan->count < MAX_CHUNKS) {
        char *end;
        long value = strtol(text, &end, 10);
        if (end == text || value < 1 || value > MAX_CHUNK_SAMPLES) return -1;
        plan->sizes[plan->count++] = (int32_t)value;
        text = *end == ',' ? end + 1 : end;
        if (*end != ',' && *end != '\0') return -1;
    }
    return plan->count > 0 ? 0 : -1;
}

/* Read up to n int16 samples (little-endian file, as written by numpy on every supported host). */
static int32_t read_samples(FILE *file, int16_t *out, int32_t n) {
    return (int32_t)fread(out, sizeof(int16_t), (size_t)n, file);
}

static void print_row_i8(char tag, int32_t index, const int8_t *values, int32_t n) {
    printf("%c %ld", tag, (long)index);
    for (int32_t i = 0; i < n; ++i) printf(" %d", values[i]);
    putchar('\n');
}

static void print_row_i16(char tag, int32_t index, const int16_t *values, int32_t n) {
    printf("%c %ld", tag, (long)index);
    for (int32_t i = 0; i < n; ++i) printf(" %d", values[i]);
    putchar('\n');
}

static void print_counts(const char *what, uint64_t ticks, long units, uint32_t stack_bytes) {
#if defined(KWS_PLATFORM_CORTEX_M4)
    printf("T %s %lu %ld\n", what, (unsigned long)ticks, units);
    printf("K %s %lu\n", what, (unsigned long)stack_bytes);
#else
    (void)what; (void)ticks; (void)units; (void)stack_bytes;
#endif
}

static int run_frames(FILE *file, const chunk_plan *plan, int want_mfcc, int count) {
    kws_frontend_state state;
    if (kws_frontend_reset(&state) != KWS_OK) return 1;
    int32_t frame = 0, turn = 0, got;
    uint64_t ticks = 0;
    uint32_t stack = 0;
    while ((got = read_samples(file, pcm_block, plan->sizes[turn % plan->count])) > 0) {
        ++turn;
        if (count) STACK_PAINT();
        uint64_t start = TICKS();
        int32_t made = want_mfcc
            ? kws_frontend_process_mfcc(&state, pcm_block, got, mfcc_out, MAX_FRAMES_PER_CHUNK)
            : kws_frontend_process(&state, pcm_block, got, feature_out, MAX_FRAMES_PER_CHUNK);
        ticks += TICKS() - start;
        if (count) note_stack(&stack);
        if (made < 0) {
            fprintf(stderr, "kws_main: kws_frontend_process returned %ld\n", (long)made);
            return 1;
        }
        for (int32_t i = 0; i < made; ++i, ++frame) {
            if (want_mfcc) print_row_i16('M', frame, mfcc_out + i * KWS_N_MFCC, KWS_N_MFCC);
            else print_row_i8('F', frame, feature_out + i * KWS_N_MFCC, KWS_N_MFCC);
        }
    }
    if (count) print_counts("frontend", ticks, (long)frame, stack);
    return 0;
}

static int run_model(FILE *file, int count) {
    int8_t scores[KWS_N_CLASSES];
    int32_t index = 0;
    uint64_t ticks = 0;
    uint32_t stack = 0;
    while (fread(model_input, 1, sizeof model_input, file) == sizeof model_input) {
        if (count) STACK_PAINT();
        uint64_t start = TICKS();
        int status = kws_model_invoke(model_input, scores);
        ticks += TICKS() - start;
        if (count) note_stack(&stack);
        if (status != KWS_OK) {
            fprintf(stderr, "kws_main: kws_model_invoke returned %d\n", status);
            return 1;
        }
        print_row_i8('S', index++, scores, KWS_N_CLASSES);
    }
    if (count) print_counts("model", ticks, (long)index, stack);
    return 0;
}

static void print_detection(const kws_detection *detection, void *user) {
    (void)user;
    printf("D %ld %ld %ld\n", (long)detection->frame, (long)detection->label, (long)detection->score);
}

static int run_stream(FILE *file, const chunk_plan *plan, int count) {
    if (kws_init(&ctx) != KWS_OK) return 1;
    if (kws_set_detection_callback(&ctx, print_detection, NULL) != KWS_OK) return 1;
    int32_t turn = 0, got;
    long samples = 0;
    uint64_t ticks = 0;
    uint32_t stack = 0;
    while ((got = read_samples(file, pcm_block, plan->sizes[turn % plan->count])) > 0) {
        ++turn;
        if (count) STACK_PAINT();
        uint64_t start = TICKS();
        int32_t runs = kws_process(&ctx, pcm_block, got);
        ticks += TICKS() - start;
        if (count) note_stack(&stack);
        samples += got;
        if (runs < 0) {
            fprintf(stderr, "kws_main: kws_process returned %ld\n", (long)runs);
            return 1;
        }
        if (runs > 1) {
            fprintf(stderr, "kws_main: a chunk completed %ld inferences; use chunks <= the inference period\n",
                    (long)runs);
            return 1;
        }
        if (runs == 1) {
            printf("P %ld %ld", (long)kws_scored_frame(&ctx), (long)kws_best_label(&ctx));
            const int8_t *scores = kws_scores(&ctx);
            for (int32_t i = 0; i < KWS_N_CLASSES; ++i) printf(" %d", scores[i]);
            putchar('\n');
        }
    }
    if (count) print_counts("stream", ticks, samples, stack);
    return 0;
}

#if defined(KWS_PLATFORM_CORTEX_M4)
/* Ticks of a loop of known length: the ticks -> instructions factor of this QEMU run. */
static void print_calibration(void) {
    const uint32_t iterations = 1000000u;
    uint64_t start = TICKS();
    kws_platform_busy_loop(iterations);
    printf("C %lu %lu\n", (unsigned long)(TICKS() - start), (unsigned long)(2u * iterations));
}
#endif

static int print_sizes(void) {
    printf("Z context %lu\n", (unsigned long)sizeof(kws_context));
    printf("Z frontend_state %lu\n", (unsigned long)sizeof(kws_frontend_state));
    printf("Z detector_state %lu\n", (unsigned long)sizeof(kws_detector_state));
    printf("Z feature_window %lu\n", (unsigned long)sizeof ctx.features);
    printf("Z model_arena %lu\n", (unsigned long)KWS_MODEL_ARENA_BYTES);
    return 0;
}

int main(int argc, char **argv) {
    chunk_plan plan = {{KWS_HOP_SAMPLES}, 1};
    int want_mfcc = 0, count = 0;
    const char *mode = NULL, *path = NULL;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--chunks") == 0 && i + 1 < argc) {
            if (parse_chunks(argv[++i], &plan) != 0) return usage("bad --chunks (sizes 1..4096, comma-separated)");
        } else if (strcmp(argv[i], "--mfcc") == 0) {
            want_mfcc = 1;
        } else if (strcmp(argv[i], "--count") == 0) {
            count = 1;
        } else if (mode == NULL && strcmp(argv[i], "sizes") == 0) {
            return print_sizes();
        } else if (mode == NULL && (strcmp(argv[i], "frames") == 0 || strcmp(argv[i], "model") == 0 ||
                                    strcmp(argv[i], "stream") == 0)) {
            mode = argv[i];
        } else if (mode != NULL && path == NULL) {
            path = argv[i];
        } else if (mode == NULL) {
            continue; /* QEMU passes the image name first: skip words before the mode */
        } else {
            return usage("unexpected argument");
        }
    }
    if (mode == NULL || path == NULL) return usage("need a mode and a file");
    FILE *file = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (file == NULL) {
        fprintf(stderr, "kws_main: cannot open %s\n", path);
        return 1;
    }
#if defined(KWS_PLATFORM_CORTEX_M4)
    if (count) print_calibration();
#endif
    int status;
    if (strcmp(mode, "frames") == 0) status = run_frames(file, &plan, want_mfcc, count);
    else if (strcmp(mode, "model") == 0) status = run_model(file, count);
    else status = run_stream(file, &plan, count);
    if (file != stdin) fclose(file);
    fflush(stdout);
    return status;
}
