/*
 * mps2.h - the parts of the Arm MPS2 board with the AN385 FPGA image (Cortex-M3, 25 MHz) this
 * firmware uses: the Cortex-M3 system registers, the CMSDK UART0 and the memory map. The LAN9118
 * Ethernet controller has its own header (lan9118.h).
 */
#ifndef MPS2_H
#define MPS2_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define MPS2_SYSCLK_HZ 25000000u

/* Memory map (AN385): SSRAM1 (4 MiB at 0) holds the image, as flash would; SSRAM2/3 (4 MiB at
 * 0x20000000) is data RAM. */
#define MPS2_RAM_BASE 0x20000000u
#define MPS2_RAM_SIZE 0x00400000u

/* External interrupts (AN385 numbering). */
#define MPS2_IRQ_UART0_RX 0
#define MPS2_IRQ_UART0_TX 1
#define MPS2_IRQ_ETHERNET 13

/* ---- Cortex-M3 system control space ---- */
#define SYST_CSR REG32(0xE000E010u)
#define SYST_RVR REG32(0xE000E014u)
#define SYST_CVR REG32(0xE000E018u)
#define SYST_CSR_ENABLE (1u << 0)
#define SYST_CSR_TICKINT (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2) /* the processor clock */

#define NVIC_ISER(n) REG32(0xE000E100u + 4u * (n))
#define NVIC_ICER(n) REG32(0xE000E180u + 4u * (n))
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)(uintptr_t)(0xE000E400u + (irq)))

#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_ICSR_PENDSTSET (1u << 26) /* SysTick pending */
#define SCB_VTOR REG32(0xE000ED08u)
#define SCB_AIRCR REG32(0xE000ED0Cu)
#define SCB_CCR REG32(0xE000ED14u)
#define SCB_SHPR3 REG32(0xE000ED20u)
#define SCB_SHCSR REG32(0xE000ED24u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)
/* MPU (PMSAv7) */
#define MPU_TYPE REG32(0xE000ED90u)
#define MPU_CTRL REG32(0xE000ED94u)
#define MPU_RNR REG32(0xE000ED98u)
#define MPU_RBAR REG32(0xE000ED9Cu)
#define MPU_RASR REG32(0xE000EDA0u)
#define MPU_CTRL_ENABLE (1u << 0)
#define MPU_CTRL_PRIVDEFENA (1u << 2) /* the default memory map elsewhere */
#define MPU_RASR_ENABLE (1u << 0)
#define MPU_RASR_SIZE(log2) ((uint32_t)((log2) - 1) << 1)
#define MPU_RASR_XN (1u << 28) /* AP bits 26:24 = 0: no access */
#define MPU_RASR_AP_RO (6u << 24) /* read-only, privileged and unprivileged */
static inline void isb(void) { __asm__ volatile("isb" ::: "memory"); }

#define SCB_AIRCR_RESET (0x05FA0000u | (1u << 2)) /* VECTKEY | SYSRESETREQ */
#define SCB_CCR_DIV_0_TRP (1u << 4)
#define SCB_SHCSR_FAULTS_ENA ((1u << 16) | (1u << 17) | (1u << 18)) /* MemManage, BusFault, UsageFault */

static inline void nvic_enable(unsigned irq) { NVIC_ISER(irq >> 5) = 1u << (irq & 31u); }
static inline void nvic_disable(unsigned irq) { NVIC_ICER(irq >> 5) = 1u << (irq & 31u); }

static inline void irq_disable(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }
static inline void dsb(void) { __asm__ volatile("dsb" ::: "memory"); }

/* Request a system reset (under QEMU with -no-reboot the emulator exits instead). */
__attribute__((noreturn)) static inline void mps2_reset(void) {
  dsb();
  SCB_AIRCR = SCB_AIRCR_RESET;
  dsb();
  for (;;) wfi();
}

/* ---- CMSDK APB UART0 ---- */
#define UART0_BASE 0x40004000u
#define UART0_DATA REG32(UART0_BASE + 0x00u)
#define UART0_STATE REG32(UART0_BASE + 0x04u)
#define UART0_CTRL REG32(UART0_BASE + 0x08u)
#define UART0_INTSTATUS REG32(UART0_BASE + 0x0Cu) /* write 1 to clear */
#define UART0_BAUDDIV REG32(UART0_BASE + 0x10u)
#define UART_STATE_TX_FULL (1u << 0)
#define UART_STATE_RX_FULL (1u << 1)
#define UART_CTRL_TX_EN (1u << 0)
#define UART_CTRL_RX_EN (1u << 1)
#define UART_CTRL_RX_INT_EN (1u << 3)
#define UART_INT_RX (1u << 1)

#endif /* MPS2_H */
