/* What the test harness needs from a Cortex-M4 board: an instruction counter and a stack meter.
 * Only the harness uses these; the kws library itself needs nothing from the platform. */
#ifndef KWS_PLATFORM_H
#define KWS_PLATFORM_H

#include <stdint.h>

/* SysTick ticks since reset (64-bit: the 24-bit counter's wraps are counted in its interrupt).
 * Under `qemu-system-arm -icount shift=0` every instruction advances virtual time by 1 ns, so a
 * tick is a fixed number of instructions; kws_platform_ticks_per_... is measured, not assumed. */
uint64_t kws_platform_ticks(void);

/* Fill the unused stack below the caller's stack pointer with a pattern (`caller_sp` from
 * KWS_PLATFORM_SP()); kws_platform_stack_used() then returns how many bytes below caller_sp were
 * written since: the stack a call made from there needed (an upper bound of ~100 bytes when it
 * needed less, as the painter's own frame is never painted). */
void kws_platform_stack_paint(uintptr_t caller_sp);
uint32_t kws_platform_stack_used(void);

static inline uintptr_t kws_platform_sp(void) {
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* A loop of exactly 2 * iterations + a few instructions (subs + bne per iteration): the
 * calibration that turns ticks into instructions. */
void kws_platform_busy_loop(uint32_t iterations);

/* argc/argv from the semihosting command line (QEMU -append "..."). */
int kws_platform_args(char ***argv);

#endif /* KWS_PLATFORM_H */
