/* Host test driver for the generated model: reads int8 feature blocks
 * ([KWS_MODEL_INPUT_FRAMES * KWS_MODEL_INPUT_FEATURES] bytes each) from argv[1] until the end of
 * the file and writes the int8 scores ([KWS_N_CLASSES] bytes per block) to argv[2]. */
#include <stdio.h>
#include <stdint.h>

#include "kws_model.h"

#define KWS_TEST_BLOCK (KWS_MODEL_INPUT_FRAMES * KWS_MODEL_INPUT_FEATURES)

int main(int argc, char **argv) {
    static int8_t features[KWS_TEST_BLOCK];
    int8_t scores[KWS_N_CLASSES];
    FILE *in, *out;
    long blocks = 0;
    if (argc != 3) {
        fprintf(stderr, "usage: %s FEATURES.bin SCORES.bin\n", argv[0]);
        return 2;
    }
    in = fopen(argv[1], "rb");
    out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        fprintf(stderr, "cannot open %s or %s\n", argv[1], argv[2]);
        return 2;
    }
    if (kws_model_invoke(NULL, scores) != KWS_ERR_NULL || kws_model_invoke(features, NULL) != KWS_ERR_NULL) {
        fprintf(stderr, "kws_model_invoke accepted a NULL pointer\n");
        return 1;
    }
    while (fread(features, 1, sizeof features, in) == sizeof features) {
        if (kws_model_invoke(features, scores) != KWS_OK) {
            fprintf(stderr, "kws_model_invoke failed on block %ld\n", blocks);
            return 1;
        }
        if (fwrite(scores, 1, sizeof scores, out) != sizeof scores) {
            fprintf(stderr, "write failed\n");
            return 1;
        }
        ++blocks;
    }
    fclose(in);
    if (fclose(out) != 0) return 1;
    printf("%ld\n", blocks);
    return 0;
}
