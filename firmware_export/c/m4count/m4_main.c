/* Cortex-M4 instruction count of the front end per frame, under QEMU (mps2-an386, -icount shift=0:
 * one instruction per virtual ns). SysTick on the processor clock counts virtual time; a loop of
 * known length calibrates ticks to instructions. Output by semihosting; the checksum of the int8
 * features lets you compare with Python (polynomial 31, over uint8 codes). Not a unit test.
 *
 *   write_frontend_sources(FrontendConfig(), DIR); m4_input.h = "#define M4_INPUT_SAMPLES n" + c_array("m4_input", pcm)
 *   arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -std=c99 -ffunction-sections -nostartfiles -T m4.ld \
 *       --specs=nano.specs --specs=nosys.specs -IDIR m4_main.c DIR/kws_frontend.c -o m4.elf -Wl,--gc-sections
 *   qemu-system-arm -M mps2-an386 -nographic -semihosting -icount shift=0 -kernel m4.elf */
#include <stdint.h>
#include <string.h>
#include "kws_frontend.h"
#include "m4_input.h"

extern uint32_t _etext, _sdata, _edata, _sbss, _ebss, _stack_top;
int main(void);
void kws_reset_handler(void) {
    uint32_t *src = &_etext, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; ) *dst++ = 0;
    main();
    for (;;) {}
}
__attribute__((section(".vectors"), used)) static const void *vectors[2] = {&_stack_top, (void *)kws_reset_handler};

static int semihost(int op, const void *arg) {
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
static void put(const char *s) { semihost(0x04, s); }
static void put_u(uint32_t v) { char b[12]; int i = 11; b[i] = 0; do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v); put(&b[i]); }

#define SYST_CSR (*(volatile uint32_t *)0xE000E010)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018)
static uint32_t ticks(void) { return SYST_CVR; }

static kws_frontend_state st;
static int8_t out[64 * KWS_N_MFCC];

int main(void) {
    SYST_RVR = 0xFFFFFF; SYST_CVR = 0; SYST_CSR = 5;
    while (ticks() == 0) {}
    uint32_t t0 = ticks();
    register uint32_t n __asm__("r0") = 1000000;  /* 2 instructions per iteration */
    __asm__ volatile("1: subs %0, #1\n bne 1b" : "+r"(n));
    uint32_t cal = t0 - ticks();
    SYST_CVR = 0; while (ticks() == 0) {}
    t0 = ticks();
    kws_frontend_reset(&st);
    int32_t frames = kws_frontend_process(&st, m4_input, M4_INPUT_SAMPLES, out, 64);
    uint32_t used = t0 - ticks();
    put("calibration ticks per 2e6 instructions: "); put_u(cal);
    put("\nframes: "); put_u((uint32_t)frames);
    put("\ninstructions per frame (streaming, incl. copies): ");
    put_u((uint32_t)((uint64_t)used * 2000000u / cal / (uint32_t)frames));
    SYST_CVR = 0; while (ticks() == 0) {}
    t0 = ticks();
    static int16_t mf[KWS_N_MFCC];
    for (int f = 0; f < 24; ++f) kws_frontend_compute_mfcc(&m4_input[f * KWS_HOP_SAMPLES], mf);
    used = t0 - ticks();
    put("\ncompute_mfcc alone per frame: "); put_u((uint32_t)((uint64_t)used * 2000000u / cal / 24u));
    uint32_t sum = 0;
    for (int i = 0; i < frames * KWS_N_MFCC; ++i) sum = sum * 31u + (uint8_t)out[i];
    put("\nchecksum: "); put_u(sum); put("\n");
    static const int exit_args[2] = {0x20026, 0};
    semihost(0x20, exit_args);
    return 0;
}
