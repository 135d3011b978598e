/* Reset, vector table, SysTick instruction counter, stack painting and the semihosting command
 * line for QEMU mps2-an386 (Cortex-M4). Used by the test harness and the size images only. */
#include <stdint.h>
#include <string.h>

#include "platform.h"

extern uint32_t __data_start__, __data_end__, __data_load__, __bss_start__, __bss_end__;
extern uint32_t __stack_bottom__, __stack_top__;
extern int main(int argc, char **argv);
extern void exit(int status);
extern void initialise_monitor_handles(void);

void kws_reset_handler(void);
void kws_default_handler(void);
void kws_systick_handler(void);

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYSTICK_RELOAD 0x00FFFFFFu
#define STACK_PATTERN 0xC5C5C5C5u

__attribute__((section(".vectors"), used)) static void (*const kws_vectors[16])(void) = {
    (void (*)(void))(&__stack_top__), /* initial stack pointer */
    kws_reset_handler,                /* reset */
    kws_default_handler,              /* NMI */
    kws_default_handler,              /* HardFault */
    kws_default_handler,              /* MemManage */
    kws_default_handler,              /* BusFault */
    kws_default_handler,              /* UsageFault */
    0, 0, 0, 0,
    kws_default_handler,              /* SVCall */
    kws_default_handler,              /* DebugMonitor */
    0,
    kws_default_handler,              /* PendSV */
    kws_systick_handler,              /* SysTick */
};

static volatile uint32_t systick_wraps;

void kws_systick_handler(void) { ++systick_wraps; }

uint64_t kws_platform_ticks(void) {
    uint32_t wraps, value;
    do { /* a wrap between the two reads is seen as a changed wrap count: read again */
        wraps = systick_wraps;
        value = SYST_CVR;
    } while (wraps != systick_wraps);
    return (uint64_t)wraps * (SYSTICK_RELOAD + 1u) + (SYSTICK_RELOAD - value);
}

void kws_platform_busy_loop(uint32_t iterations) {
    __asm__ volatile(
        "1: subs %0, %0, #1\n"
        "   bne 1b\n"
        : "+r"(iterations)
        :
        : "cc");
}

static uint32_t *painted_top;
static uintptr_t measured_sp;

__attribute__((noinline)) void kws_platform_stack_paint(uintptr_t caller_sp) {
    uint32_t here;
    /* leave 64 bytes below this frame alone: the paint loop itself lives there */
    uint32_t *top = (uint32_t *)((uintptr_t)&here & ~(uintptr_t)7u) - 16;
    for (uint32_t *p = &__stack_bottom__; p < top; ++p) *p = STACK_PATTERN;
    painted_top = top;
    measured_sp = caller_sp;
}

uint32_t kws_platform_stack_used(void) {
    uint32_t *p = &__stack_bottom__;
    while (p < painted_top && *p == STACK_PATTERN) ++p;
    return (uint32_t)(measured_sp - (uintptr_t)p);
}

static int semihost_call(int op, void *arg) {
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

#define MAX_ARGS 16
static char command_line[512];
static char *arg_vector[MAX_ARGS + 1];

int kws_platform_args(char ***argv) {
    struct { char *buffer; int length; } block = {command_line, (int)sizeof command_line - 1};
    int argc = 0;
    if (semihost_call(0x15 /* SYS_GET_CMDLINE */, &block) == 0) {
        command_line[block.length] = '\0';
        char *p = command_line;
        while (*p && argc < MAX_ARGS) {
            while (*p == ' ') *p++ = '\0';
            if (!*p) break;
            arg_vector[argc++] = p;
            while (*p && *p != ' ') ++p;
        }
    }
    arg_vector[argc] = 0;
    *argv = arg_vector;
    return argc;
}

void kws_default_handler(void) {
    exit(99);
}

void kws_reset_handler(void) {
    memcpy(&__data_start__, &__data_load__, (size_t)((uintptr_t)&__data_end__ - (uintptr_t)&__data_start__));
    memset(&__bss_start__, 0, (size_t)((uintptr_t)&__bss_end__ - (uintptr_t)&__bss_start__));
    SYST_RVR = SYSTICK_RELOAD;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* enable, interrupt on wrap, processor clock */
#ifndef KWS_NO_SEMIHOSTING_IO
    initialise_monitor_handles();
#endif
    char **argv;
    int argc = kws_platform_args(&argv);
    exit(main(argc, argv));
}
