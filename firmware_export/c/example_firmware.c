/* Example: kws in a firmware main loop fed by a microphone DMA in double-buffer (ping-pong) mode.
 *
 * The DMA fills one half of `dma_buffer` while the CPU processes the other; the half-transfer
 * and transfer-complete interrupts only say which half is ready. kws_process runs in the main
 * loop, never in the interrupt. Replace the three board_* functions with your HAL's calls
 * (e.g. an I2S/PDM peripheral started in circular mode with half/full-transfer interrupts). */
#include <stdint.h>

#include "kws.h"

#define BLOCK_SAMPLES 320 /* 20 ms at 16 kHz per half: one hop */

extern void board_microphone_start_dma(int16_t *buffer, int32_t n_samples); /* circular, 16 kHz, int16 */
extern void board_wait_for_interrupt(void);
extern void board_on_keyword(const char *label, int8_t score);

static int16_t dma_buffer[2 * BLOCK_SAMPLES];
static volatile int32_t ready_half = -1; /* 0 or 1: which half the DMA just finished */
static volatile uint32_t overruns;        /* halves the main loop did not take in time */
static kws_context kws;

/* Call these from the DMA's half-transfer and transfer-complete interrupt handlers. */
void example_dma_half_complete_isr(void) {
    if (ready_half != -1) ++overruns;
    ready_half = 0;
}
void example_dma_complete_isr(void) {
    if (ready_half != -1) ++overruns;
    ready_half = 1;
}

int example_main(void) {
    if (kws_init(&kws) != KWS_OK) return -1;
    board_microphone_start_dma(dma_buffer, 2 * BLOCK_SAMPLES);
    for (;;) {
        while (ready_half == -1) board_wait_for_interrupt();
        int32_t half = ready_half;
        const int16_t *block = dma_buffer + half * BLOCK_SAMPLES;
        /* the DMA now writes the other half: this one stays valid for BLOCK_SAMPLES / 16 ms */
        int32_t ran = kws_process(&kws, block, BLOCK_SAMPLES);
        ready_half = -1;
        if (ran < 0) return (int)ran;
        if (ran > 0) {
            int32_t best = kws_best_label(&kws);
            const char *label = kws_label_name(best);
            /* labels starting with '_' (_silence_, _unknown_) are not keywords */
            if (label != 0 && label[0] != '_') board_on_keyword(label, kws_scores(&kws)[best]);
        }
    }
}
