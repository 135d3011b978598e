/* Host test driver for the generated front end (not device code: it may use stdio and malloc).
 *
 *   test_frontend MODE PCM_IN OUT CHUNKS
 *     MODE    features | mfcc   stream PCM_IN through kws_frontend_process(_mfcc)
 *             batch             kws_frontend_features_batch on the whole input
 *             errors            check the error returns (PCM_IN, OUT, CHUNKS ignored: pass "-")
 *     PCM_IN  raw native-endian int16 samples
 *     OUT     raw output, [frames][KWS_N_MFCC] int8 (features, batch) or int16 (mfcc)
 *     CHUNKS  chunk sizes used in turn ("1", "7,320,1"), or "rand:SEED:MAX" for random sizes
 *             in 0..MAX (a chunk of 0 samples included)
 * Exit status 0 on success; messages on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kws_frontend.h"

static int16_t *read_pcm(const char *path, int32_t *n) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    int16_t *pcm = malloc((size_t)bytes + 2);
    if (pcm == NULL || fread(pcm, 1, (size_t)bytes, f) != (size_t)bytes) { fprintf(stderr, "read %s\n", path); exit(2); }
    fclose(f);
    *n = (int32_t)(bytes / 2);
    return pcm;
}

static uint32_t rng_state;
static uint32_t next_random(void) { /* xorshift32 */
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

typedef struct { int32_t sizes[256]; int n_sizes, next, random; uint32_t max; } chunker;

static void parse_chunks(const char *spec, chunker *c) {
    memset(c, 0, sizeof *c);
    if (strncmp(spec, "rand:", 5) == 0) {
        unsigned long seed = 0, max = 0;
        if (sscanf(spec + 5, "%lu:%lu", &seed, &max) != 2 || max == 0) { fprintf(stderr, "bad %s\n", spec); exit(2); }
        c->random = 1;
        c->max = (uint32_t)max;
        rng_state = (uint32_t)seed * 2654435761u + 1u;
        return;
    }
    const char *p = spec;
    while (*p && c->n_sizes < 256) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v <= 0) { fprintf(stderr, "bad chunk list %s\n", spec); exit(2); }
        c->sizes[c->n_sizes++] = (int32_t)v;
        p = *end == ',' ? end + 1 : end;
    }
}

static int32_t next_chunk(chunker *c) {
    if (c->random) return (int32_t)(next_random() % (c->max + 1));
    int32_t v = c->sizes[c->next];
    c->next = (c->next + 1) % c->n_sizes;
    return v;
}

static int failures;
#define EXPECT(cond) do { if (!(cond)) { fprintf(stderr, "FAILED line %d: %s\n", __LINE__, #cond); ++failures; } } while (0)

static int check_errors(void) {
    kws_frontend_state st;
    static int16_t pcm[4 * KWS_WINDOW_SAMPLES];
    int8_t out[8 * KWS_N_MFCC];
    int16_t mfcc[8 * KWS_N_MFCC];
    for (int i = 0; i < 4 * KWS_WINDOW_SAMPLES; ++i) pcm[i] = (int16_t)((i * 7919) % 20000 - 10000);
    EXPECT(kws_frontend_reset(NULL) == KWS_ERR_NULL);
    EXPECT(kws_frontend_reset(&st) == KWS_OK);
    EXPECT(kws_frontend_process(NULL, pcm, 10, out, 8) == KWS_ERR_NULL);
    EXPECT(kws_frontend_process(&st, NULL, 10, out, 8) == KWS_ERR_NULL);
    EXPECT(kws_frontend_process(&st, pcm, 10, NULL, 8) == KWS_ERR_NULL);
    EXPECT(kws_frontend_process(&st, pcm, -1, out, 8) == KWS_ERR_LENGTH);
    EXPECT(kws_frontend_process(&st, pcm, 10, out, -1) == KWS_ERR_LENGTH);
    EXPECT(kws_frontend_process_mfcc(&st, pcm, 10, NULL, 8) == KWS_ERR_NULL);
    EXPECT(kws_frontend_process_mfcc(&st, pcm, -5, mfcc, 8) == KWS_ERR_LENGTH);
    EXPECT(st.n_pending == 0); /* errors consumed nothing */
    EXPECT(kws_frontend_process(&st, NULL, 0, NULL, 0) == 0);
    EXPECT(kws_frontend_process(&st, pcm, 0, out, 8) == 0);
    /* fewer samples than a window: no frame, no output needed */
    EXPECT(kws_frontend_process(&st, pcm, KWS_WINDOW_SAMPLES - 1, NULL, 0) == 0);
    EXPECT(st.n_pending == KWS_WINDOW_SAMPLES - 1);
    /* one more sample completes a frame: a zero-frame buffer is too small and consumes nothing */
    EXPECT(kws_frontend_process(&st, pcm + KWS_WINDOW_SAMPLES - 1, 1, out, 0) == KWS_ERR_BUFFER);
    EXPECT(kws_frontend_process(&st, pcm + KWS_WINDOW_SAMPLES - 1, 1, NULL, 0) == KWS_ERR_BUFFER);
    EXPECT(st.n_pending == KWS_WINDOW_SAMPLES - 1);
    EXPECT(kws_frontend_process(&st, pcm + KWS_WINDOW_SAMPLES - 1, 1, out, 1) == 1);
    /* 3 * hop more samples complete 3 frames: max_frames 2 is too small */
    EXPECT(kws_frontend_process(&st, pcm, 3 * KWS_HOP_SAMPLES, out, 2) == KWS_ERR_BUFFER);
    EXPECT(kws_frontend_process(&st, pcm, 3 * KWS_HOP_SAMPLES, out, 3) == 3);
    /* corrupted state */
    st.n_pending = KWS_WINDOW_SAMPLES;
    EXPECT(kws_frontend_process(&st, pcm, 1, out, 8) == KWS_ERR_STATE);
    st.n_pending = -1;
    EXPECT(kws_frontend_process_mfcc(&st, pcm, 1, mfcc, 8) == KWS_ERR_STATE);
    /* reset forgets the pending samples: same output as a fresh state */
    int8_t first[KWS_N_MFCC], again[KWS_N_MFCC];
    EXPECT(kws_frontend_reset(&st) == KWS_OK);
    EXPECT(kws_frontend_process(&st, pcm, KWS_WINDOW_SAMPLES, first, 1) == 1);
    EXPECT(kws_frontend_process(&st, pcm, 100, out, 8) >= 0);
    EXPECT(kws_frontend_reset(&st) == KWS_OK);
    EXPECT(kws_frontend_process(&st, pcm, KWS_WINDOW_SAMPLES, again, 1) == 1);
    EXPECT(memcmp(first, again, sizeof first) == 0);
    /* batch */
    EXPECT(kws_frontend_features_batch(NULL, 10, out, 8) == KWS_ERR_NULL);
    EXPECT(kws_frontend_features_batch(pcm, 10, NULL, 8) == KWS_ERR_NULL);
    EXPECT(kws_frontend_features_batch(pcm, -1, out, 8) == KWS_ERR_LENGTH);
    EXPECT(kws_frontend_features_batch(pcm, KWS_WINDOW_SAMPLES + KWS_HOP_SAMPLES, out, 1) == KWS_ERR_BUFFER);
    EXPECT(kws_frontend_features_batch(pcm, KWS_WINDOW_SAMPLES + KWS_HOP_SAMPLES, out, 2) == 2);
    EXPECT(kws_frontend_features_batch(pcm, KWS_WINDOW_SAMPLES - 1, NULL, 0) == 0);
    EXPECT(kws_frontend_features_batch(pcm, KWS_WINDOW_SAMPLES, out, 8) == 1);
    EXPECT(memcmp(out, first, sizeof first) == 0);
    EXPECT(kws_frontend_n_frames(KWS_WINDOW_SAMPLES - 1) == 0 && kws_frontend_n_frames(KWS_WINDOW_SAMPLES) == 1);
    if (failures == 0) printf("errors: ok\n");
    return failures != 0;
}

int main(int argc, char **argv) {
    if (argc == 5 && strcmp(argv[1], "errors") == 0) return check_errors();
    if (argc != 5) { fprintf(stderr, "usage: %s features|mfcc|batch|errors PCM_IN OUT CHUNKS\n", argv[0]); return 2; }
    const char *mode = argv[1];
    int32_t n;
    int16_t *pcm = read_pcm(argv[2], &n);
    const int32_t total = kws_frontend_n_frames(n);
    const int is_mfcc = strcmp(mode, "mfcc") == 0;
    const size_t item = is_mfcc ? sizeof(int16_t) : sizeof(int8_t);
    void *out = malloc((size_t)(total + 1) * KWS_N_MFCC * item);
    int32_t written = 0;
    if (out == NULL) return 2;
    if (strcmp(mode, "batch") == 0) {
        written = kws_frontend_features_batch(pcm, n, out, total);
    } else if (is_mfcc || strcmp(mode, "features") == 0) {
        chunker c;
        kws_frontend_state st;
        parse_chunks(argv[4], &c);
        if (kws_frontend_reset(&st) != KWS_OK) return 3;
        int32_t pos = 0;
        while (pos < n) {
            int32_t size = next_chunk(&c);
            if (size > n - pos) size = n - pos;
            int32_t got = is_mfcc
                ? kws_frontend_process_mfcc(&st, pcm + pos, size, (int16_t *)out + written * KWS_N_MFCC, total - written)
                : kws_frontend_process(&st, pcm + pos, size, (int8_t *)out + written * KWS_N_MFCC, total - written);
            if (got < 0) { fprintf(stderr, "process returned %ld at sample %ld\n", (long)got, (long)pos); return 3; }
            written += got;
            pos += size;
        }
    } else {
        fprintf(stderr, "unknown mode %s\n", mode);
        return 2;
    }
    if (written != total) { fprintf(stderr, "wrote %ld frames, expected %ld\n", (long)written, (long)total); return 3; }
    FILE *f = fopen(argv[3], "wb");
    if (f == NULL || fwrite(out, item * KWS_N_MFCC, (size_t)written, f) != (size_t)written) { perror(argv[3]); return 2; }
    fclose(f);
    free(out);
    free(pcm);
    return 0;
}
