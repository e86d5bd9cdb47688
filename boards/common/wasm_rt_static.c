/*
 * wasm_rt_static.c - a wasm2c runtime (the wasm-rt.h ABI of wabt 1.0.32) for boards with no
 * operating system, in place of wabt's wasm-rt-impl.c (mmap, signals, malloc):
 *
 *   - Linear memory is one static buffer of WASM_RT_STATIC_MEMORY_PAGES 64 KiB pages (the build
 *     reads the number from the wasm2c output: the module's maximum), placed in the section
 *     WASM_RT_STATIC_MEMORY_SECTION so the linker script can put it in SRAM. One memory per
 *     program; memory.grow succeeds up to the buffer and fails (-1) beyond it.
 *   - Bounds: on a 32-bit target wasm-rt.h sets WASM_RT_MEMCHECK_SIGNAL_HANDLER to 0, so the
 *     generated code checks every load and store against mem->size and traps (OOB) instead of
 *     touching memory outside the buffer. The call depth is counted
 *     (WASM_RT_USE_STACK_DEPTH_COUNT) and traps at WASM_RT_MAX_CALL_STACK_DEPTH.
 *   - Tables, function types and exception payloads come from fixed static pools.
 *   - A trap longjmps to the last wasm_rt_impl_try(). Anything the runtime cannot do (a pool too
 *     small, a second memory) calls wasm_rt_static_fatal(msg), which the board provides: log it
 *     and reset. It never returns.
 * Nothing is allocated after instantiation; nothing here depends on an OS or on stdio.
 */
#include "wasm-rt-impl.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#ifndef WASM_RT_STATIC_MEMORY_PAGES
#error "define WASM_RT_STATIC_MEMORY_PAGES (the module's maximum memory, in 64 KiB pages)"
#endif
#ifndef WASM_RT_STATIC_MEMORY_SECTION
#define WASM_RT_STATIC_MEMORY_SECTION ".wasm_memory"
#endif
#ifndef WASM_RT_STATIC_TABLE_ELEMS /* funcref + externref elements, all tables together */
#define WASM_RT_STATIC_TABLE_ELEMS 256u
#endif
#ifndef WASM_RT_STATIC_FUNC_TYPES
#define WASM_RT_STATIC_FUNC_TYPES 64u
#endif
#ifndef WASM_RT_STATIC_TYPE_SLOTS /* parameter and result types of all function types together */
#define WASM_RT_STATIC_TYPE_SLOTS 512u
#endif
#ifndef WASM_RT_STATIC_EXCEPTION_BYTES
#define WASM_RT_STATIC_EXCEPTION_BYTES 256u
#endif

#define PAGE_SIZE 65536u

/* The board: report msg (a runtime limit was hit) and reset. */
WASM_RT_NO_RETURN void wasm_rt_static_fatal(const char *msg);

/* ---- linear memory ---- */

static uint8_t memory_buf[WASM_RT_STATIC_MEMORY_PAGES * PAGE_SIZE]
    __attribute__((section(WASM_RT_STATIC_MEMORY_SECTION), aligned(8)));
static wasm_rt_memory_t *memory_owner;

const uint32_t wasm_rt_static_memory_bytes = sizeof memory_buf;

void wasm_rt_allocate_memory(wasm_rt_memory_t *memory, uint32_t initial_pages, uint32_t max_pages) {
  if (memory_owner != NULL && memory_owner != memory) wasm_rt_static_fatal("wasm-rt: a second linear memory");
  if (initial_pages > WASM_RT_STATIC_MEMORY_PAGES) wasm_rt_static_fatal("wasm-rt: the module needs more pages than WASM_RT_STATIC_MEMORY_PAGES");
  memory_owner = memory;
  /* Fresh memory is zero (the data segments are copied in after this). */
  memset(memory_buf, 0, (size_t)initial_pages * PAGE_SIZE);
  memory->data = memory_buf;
  memory->pages = initial_pages;
  memory->max_pages = max_pages < WASM_RT_STATIC_MEMORY_PAGES ? max_pages : WASM_RT_STATIC_MEMORY_PAGES;
  memory->size = initial_pages * PAGE_SIZE;
}

uint32_t wasm_rt_grow_memory(wasm_rt_memory_t *memory, uint32_t delta) {
  uint32_t old_pages = memory->pages;
  uint32_t new_pages = old_pages + delta;
  if (new_pages < old_pages || new_pages > memory->max_pages) return (uint32_t)-1;
  memset(memory->data + (size_t)old_pages * PAGE_SIZE, 0, (size_t)delta * PAGE_SIZE);
  memory->pages = new_pages;
  memory->size = new_pages * PAGE_SIZE;
  return old_pages;
}

void wasm_rt_free_memory(wasm_rt_memory_t *memory) {
  if (memory_owner == memory) memory_owner = NULL;
  memory->data = NULL;
  memory->size = 0;
  memory->pages = 0;
}

/* ---- tables: bump-allocated from one pool of elements ---- */

typedef union {
  wasm_rt_funcref_t f;
  wasm_rt_externref_t e;
} table_elem_t;

static table_elem_t table_pool[WASM_RT_STATIC_TABLE_ELEMS];
static uint32_t table_used;

static void *table_alloc(uint32_t elements) {
  if (elements > WASM_RT_STATIC_TABLE_ELEMS - table_used) wasm_rt_static_fatal("wasm-rt: WASM_RT_STATIC_TABLE_ELEMS too small");
  table_elem_t *p = &table_pool[table_used];
  table_used += elements;
  memset(p, 0, elements * sizeof *p);
  return p;
}

/* Elements are not returned to the pool (instances are created once and live forever). */
#define DEFINE_TABLE_OPS(type)                                                                              \
  void wasm_rt_allocate_##type##_table(wasm_rt_##type##_table_t *table, uint32_t elements, uint32_t max) { \
    table->data = table_alloc(elements);                                                                   \
    table->size = elements;                                                                                \
    table->max_size = max;                                                                                 \
  }                                                                                                        \
  void wasm_rt_free_##type##_table(wasm_rt_##type##_table_t *table) {                                      \
    table->data = NULL;                                                                                    \
    table->size = 0;                                                                                       \
  }                                                                                                        \
  uint32_t wasm_rt_grow_##type##_table(wasm_rt_##type##_table_t *table, uint32_t delta, wasm_rt_##type##_t init) { \
    (void)init;                                                                                            \
    /* Fixed-size pool: table.grow fails, which wasm allows (it returns -1 to the module). */              \
    return delta == 0 ? table->size : (uint32_t)-1;                                                        \
  }

DEFINE_TABLE_OPS(funcref)
DEFINE_TABLE_OPS(externref)

/* ---- function types (call_indirect compares their indices) ---- */

typedef struct {
  uint16_t first, params, results;
} func_type_t;

static func_type_t func_types[WASM_RT_STATIC_FUNC_TYPES];
static uint32_t func_type_count;
static uint8_t type_slots[WASM_RT_STATIC_TYPE_SLOTS];
static uint32_t type_slots_used;

uint32_t wasm_rt_register_func_type(uint32_t param_count, uint32_t result_count, ...) {
  uint32_t n = param_count + result_count;
  uint8_t sig[32];
  if (n > sizeof sig) wasm_rt_static_fatal("wasm-rt: a function type with more than 32 parameters and results");
  va_list ap;
  va_start(ap, result_count);
  for (uint32_t i = 0; i < n; i++) sig[i] = (uint8_t)va_arg(ap, int); /* wasm_rt_type_t is promoted to int */
  va_end(ap);
  for (uint32_t i = 0; i < func_type_count; i++) {
    const func_type_t *t = &func_types[i];
    if (t->params == param_count && t->results == result_count && memcmp(&type_slots[t->first], sig, n) == 0) return i + 1;
  }
  if (func_type_count == WASM_RT_STATIC_FUNC_TYPES || n > WASM_RT_STATIC_TYPE_SLOTS - type_slots_used)
    wasm_rt_static_fatal("wasm-rt: WASM_RT_STATIC_FUNC_TYPES / WASM_RT_STATIC_TYPE_SLOTS too small");
  func_type_t *t = &func_types[func_type_count++];
  t->first = (uint16_t)type_slots_used;
  t->params = (uint16_t)param_count;
  t->results = (uint16_t)result_count;
  memcpy(&type_slots[type_slots_used], sig, n);
  type_slots_used += n;
  return func_type_count; /* index + 1: 0 is never a valid type */
}

/* ---- traps, exceptions ---- */

#if WASM_RT_USE_STACK_DEPTH_COUNT
uint32_t wasm_rt_call_stack_depth;
uint32_t wasm_rt_saved_call_stack_depth;
#endif

jmp_buf wasm_rt_jmp_buf;
static jmp_buf *unwind_target;
static uint32_t exception_tag, exception_size, tag_count;
static uint8_t exception_buf[WASM_RT_STATIC_EXCEPTION_BYTES];

void wasm_rt_trap(wasm_rt_trap_t code) {
#if WASM_RT_USE_STACK_DEPTH_COUNT
  wasm_rt_call_stack_depth = wasm_rt_saved_call_stack_depth;
#endif
  longjmp(wasm_rt_jmp_buf, code == WASM_RT_TRAP_NONE ? WASM_RT_TRAP_UNREACHABLE : (int)code);
}

uint32_t wasm_rt_register_tag(uint32_t size) {
  if (size > WASM_RT_STATIC_EXCEPTION_BYTES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  return tag_count++;
}

void wasm_rt_load_exception(uint32_t tag, uint32_t size, const void *values) {
  if (size > WASM_RT_STATIC_EXCEPTION_BYTES) wasm_rt_trap(WASM_RT_TRAP_EXHAUSTION);
  exception_tag = tag;
  exception_size = size;
  if (size) memcpy(exception_buf, values, size);
}

WASM_RT_NO_RETURN void wasm_rt_throw(void) { longjmp(*unwind_target, WASM_RT_TRAP_UNCAUGHT_EXCEPTION); }
WASM_RT_UNWIND_TARGET *wasm_rt_get_unwind_target(void) { return unwind_target; }
void wasm_rt_set_unwind_target(WASM_RT_UNWIND_TARGET *target) { unwind_target = target; }
uint32_t wasm_rt_exception_tag(void) { return exception_tag; }
uint32_t wasm_rt_exception_size(void) { return exception_size; }
void *wasm_rt_exception(void) { return exception_buf; }

/* ---- lifecycle ---- */

static bool initialized;
void wasm_rt_init(void) { initialized = true; }
bool wasm_rt_is_initialized(void) { return initialized; }
void wasm_rt_free(void) { initialized = false; }

const char *wasm_rt_strerror(wasm_rt_trap_t trap) {
  switch (trap) {
    case WASM_RT_TRAP_NONE: return "No error";
    case WASM_RT_TRAP_OOB: return "Out-of-bounds access in linear memory or a table";
    case WASM_RT_TRAP_EXHAUSTION: return "Call stack exhausted";
    case WASM_RT_TRAP_INT_OVERFLOW: return "Integer overflow on divide or truncation";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "Integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "Conversion from NaN to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "Unreachable instruction executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "Invalid call_indirect";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "Uncaught exception";
  }
  return "invalid trap code";
}
