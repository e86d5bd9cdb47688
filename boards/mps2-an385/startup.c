/*
 * startup.c - the vector table, the reset handler and the fault handlers of the wasmip firmware
 * on the MPS2 AN385 (Cortex-M3). See mps2-an385.ld for the memory layout.
 *
 * Reset runs on the exception stack (MSP, the vector table's first word), copies .data, zeroes
 * .bss, then switches thread mode to its own stack (PSP) and calls main(). Handlers always run on
 * MSP, so a fault in thread mode, even a thread stack overflow, is still reported over the UART.
 * Every fault prints its registers and resets the board.
 */
#include <stdint.h>
#include <string.h>

#include "console.h"
#include "mps2.h"

extern uint32_t __stack_bottom[], __stack_top[], __handler_stack_top[];
extern uint32_t __data_start[], __data_end[], __data_load[], __bss_start[], __bss_end[];

int main(void);
void SysTick_Handler(void);
void Ethernet_Handler(void);
void Uart0Rx_Handler(void);
void Reset_Handler(void);
void Fault_Handler(void);
void Default_Handler(void);

/* Fill the thread stack with this at reset; main.c measures how deep it got (stack_high_water). */
#define STACK_PAINT 0x5AC3A55Cu
/* The lowest bytes of the thread stack are an MPU no-access region: an overflow is a MemManage
 * fault at once, reported by the handler on MSP (QEMU does not fault on the unmapped addresses
 * below RAM, and running into them would go unnoticed). */
#define STACK_GUARD 32u

__attribute__((noreturn)) void Reset_Handler(void) {
  for (uint32_t *s = __data_load, *d = __data_start; d < __data_end;) *d++ = *s++;
  for (uint32_t *d = __bss_start; d < __bss_end;) *d++ = 0;
  for (uint32_t *d = __stack_bottom; d < __stack_top;) *d++ = STACK_PAINT;
  SCB_CCR |= SCB_CCR_DIV_0_TRP;       /* a C division by zero is a fault, not a silent 0 */
  SCB_SHCSR |= SCB_SHCSR_FAULTS_ENA;  /* MemManage, BusFault, UsageFault get their own report */
  if ((MPU_TYPE >> 8) & 0xFFu) {      /* data regions: the guard */
    MPU_RNR = 0;
    MPU_RBAR = (uint32_t)(uintptr_t)__stack_bottom;
    MPU_RASR = MPU_RASR_XN | MPU_RASR_SIZE(5) | MPU_RASR_ENABLE; /* 2^5 = STACK_GUARD bytes */
    /* SSRAM1 stands for flash: read-only (and executable), as on a real part, so a runtime that
     * wrote into its image in flash (WAMR's loader may patch the buffer it loads) faults at once. */
    MPU_RNR = 1;
    MPU_RBAR = 0x00000000u;
    MPU_RASR = MPU_RASR_AP_RO | MPU_RASR_SIZE(22) | MPU_RASR_ENABLE; /* 2^22 = 4 MiB */
    MPU_CTRL = MPU_CTRL_ENABLE | MPU_CTRL_PRIVDEFENA;
    dsb();
    isb();
  }
  __asm__ volatile(
      "msr psp, %0\n"
      "movs r0, #2\n"
      "msr control, r0\n" /* thread mode uses PSP */
      "isb\n" ::"r"(__stack_top)
      : "r0", "memory");
  main();
  mps2_reset();
}

uint32_t stack_high_water(void) {
  const uint32_t *p = __stack_bottom + STACK_GUARD / 4u; /* the guard itself is not readable */
  while (p < __stack_top && *p == STACK_PAINT) p++;
  return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)p);
}

uint32_t stack_size(void) { return (uint32_t)((uintptr_t)__stack_top - (uintptr_t)__stack_bottom) - STACK_GUARD; }

static const char *const exception_names[] = {"", "Reset", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault"};

/* r0 = EXC_RETURN, r1 = PSP, r2 = MSP at entry. */
__attribute__((used, noreturn)) static void fault_report(uint32_t exc_return, const uint32_t *psp, const uint32_t *msp) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  ipsr &= 0x1FFu;
  console_puts("\nwasmip: fault: ");
  if (ipsr < sizeof exception_names / sizeof exception_names[0]) console_puts(exception_names[ipsr]);
  else {
    console_puts("exception ");
    console_put_u32(ipsr);
  }
  console_puts(" CFSR ");
  console_put_hex(SCB_CFSR);
  console_puts(" HFSR ");
  console_put_hex(SCB_HFSR);
  console_puts(" BFAR ");
  console_put_hex(SCB_BFAR);
  console_puts(" MMFAR ");
  console_put_hex(SCB_MMFAR);
  const uint32_t *frame = (exc_return & 4u) ? psp : msp;
  if ((exc_return & 4u) && (uintptr_t)psp < (uintptr_t)__stack_bottom + STACK_GUARD + 32u) {
    console_puts("\nwasmip: thread stack overflow (PSP ");
    console_put_hex((uint32_t)(uintptr_t)psp);
    console_puts(" at the guard)");
  } else if ((uintptr_t)frame >= MPS2_RAM_BASE && (uintptr_t)frame + 32u <= MPS2_RAM_BASE + MPS2_RAM_SIZE) {
    console_puts(" PC ");
    console_put_hex(frame[6]);
    console_puts(" LR ");
    console_put_hex(frame[5]);
  }
  console_puts("\nwasmip: resetting\n");
  mps2_reset();
}

__attribute__((naked)) void Fault_Handler(void) {
  __asm__ volatile(
      "mov r0, lr\n"
      "mrs r1, psp\n"
      "mrs r2, msp\n"
      "b fault_report\n");
}

void Default_Handler(void) {
  uint32_t ipsr;
  __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
  console_puts("\nwasmip: unexpected interrupt ");
  console_put_u32(ipsr & 0x1FFu);
  console_puts(", resetting\n");
  mps2_reset();
}

typedef void (*vector_t)(void);

/* 16 system exceptions, then the AN385's 32 external interrupts (Default_Handler unless named). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverride-init"
__attribute__((section(".vectors"), used)) static const vector_t vectors[16 + 32] = {
    [0] = (vector_t)(uintptr_t)__handler_stack_top,
    [1] = Reset_Handler,
    [2] = Fault_Handler, /* NMI */
    [3] = Fault_Handler, /* HardFault */
    [4] = Fault_Handler, /* MemManage */
    [5] = Fault_Handler, /* BusFault */
    [6] = Fault_Handler, /* UsageFault */
    [7 ... 10] = Default_Handler,
    [11] = Default_Handler, /* SVCall */
    [12 ... 13] = Default_Handler,
    [14] = Default_Handler, /* PendSV */
    [15] = SysTick_Handler,
    [16 ... 16 + 31] = Default_Handler,
    [16 + MPS2_IRQ_UART0_RX] = Uart0Rx_Handler,
    [16 + MPS2_IRQ_ETHERNET] = Ethernet_Handler,
};
#pragma GCC diagnostic pop
