/*
 * wasmip_wamr.c - the WAMR glue shared by every WAMR board (see wasmip_wamr.h). Portable C11 plus
 * WAMR's public API (wasm_export.h, WAMR >= 2.2); nothing is allocated per frame: WAMR allocates
 * from its pool at load and instantiation only (linear memory itself comes from the platform's
 * os_mmap: mmap on Linux, heap_caps_malloc on ESP-IDF, the same pool on bare metal: wamr-nos/).
 */
#include "wasmip_wamr.h"

#include <stdio.h>
#include <string.h>

/* WAMR's core/version.h, reached through core/iwasm/include, which every WAMR build puts on the
 * include path (ours, and ESP-IDF's WAMR component). */
#if defined(__has_include)
#if !__has_include("../../version.h")
#error "wasmip_wamr.c: WAMR's core/version.h not found: put <WAMR>/core/iwasm/include first on the include path (WAMR >= 2.2, tag WAMR-2.4.5 tested)"
#endif
#endif
#include "../../version.h"
#if !defined(WAMR_VERSION_MAJOR) || !defined(WAMR_VERSION_MINOR)
#error "wasmip_wamr.c: WAMR_VERSION_MAJOR/MINOR not defined: the version.h found is not WAMR's core/version.h"
#elif WAMR_VERSION_MAJOR < 2 || (WAMR_VERSION_MAJOR == 2 && WAMR_VERSION_MINOR < 2)
#error "wasmip_wamr.c needs WAMR >= 2.2 (wasm_memory_inst_t and wasm_memory_get_* first appear in 2.2.0): use tag WAMR-2.4.5"
#endif

int wasmip_wamr_vprintf(const char *format, va_list ap) { return vfprintf(stderr, format, ap); }

/* ---------------- the phy.* natives ---------------- */

/* The board of the instance that called: set as custom data after instantiation. The start
 * function runs inside wasm_runtime_instantiate, before that (and before wasmip_board_setup):
 * a phy.* call from it reaches no board (no frame sent, clock and random bits 0). */
static wasmip_board_t *board_of(wasm_exec_env_t env) {
  wasmip_board_t *b = wasm_runtime_get_custom_data(wasm_runtime_get_module_inst(env));
  return b && b->port ? b : NULL;
}

/* WAMR checked each "*~" pair against linear memory before the call: pointers are native and
 * the whole range is inside the instance's memory. */
static void n_tx(wasm_exec_env_t env, const uint8_t *frame, uint32_t len) {
  wasmip_board_t *b = board_of(env);
  if (b) wasmip_phy_tx(b, frame, len);
}

static uint32_t n_now_ms(wasm_exec_env_t env) {
  wasmip_board_t *b = board_of(env);
  return b ? wasmip_phy_now_ms(b) : 0;
}

static uint32_t n_random(wasm_exec_env_t env) {
  wasmip_board_t *b = board_of(env);
  return b ? wasmip_phy_random(b) : 0;
}

static uint32_t n_checksum(wasm_exec_env_t env, const uint8_t *p, uint32_t len) {
  (void)env;
  return wasmip_checksum(p, len);
}

static void n_panic(wasm_exec_env_t env, const char *msg, uint32_t len, uint32_t line) {
  wasmip_board_t *b = board_of(env);
  if (b) wasmip_phy_panic(b, msg, len, line);
}

static void n_log(wasm_exec_env_t env, uint32_t level, const char *msg, uint32_t len) {
  wasmip_board_t *b = board_of(env);
  if (b) wasmip_phy_log(b, level, msg, len);
}

/* Not const: WAMR sorts the table in place when it registers it. */
static NativeSymbol natives[] = {
    {"tx", (void *)n_tx, "(*~)", NULL},
    {"now_ms", (void *)n_now_ms, "()i", NULL},
    {"random", (void *)n_random, "()i", NULL},
    {"checksum", (void *)n_checksum, "(*~)i", NULL},
    {"panic", (void *)n_panic, "(*~i)", NULL},
    {"log", (void *)n_log, "(i*~)", NULL},
};

static void *init_pool; /* the pool of the one initialised runtime, or NULL */

int wasmip_wamr_init(void *pool, uint32_t pool_size) {
  if (init_pool) return pool == init_pool ? 0 : -1;
  if (!pool || pool_size == 0) return -1;
  RuntimeInitArgs args;
  memset(&args, 0, sizeof args);
  args.mem_alloc_type = Alloc_With_Pool;
  args.mem_alloc_option.pool.heap_buf = pool;
  args.mem_alloc_option.pool.heap_size = pool_size;
  args.native_module_name = "phy";
  args.native_symbols = natives;
  args.n_native_symbols = sizeof natives / sizeof natives[0];
  if (!wasm_runtime_full_init(&args)) return -1;
  init_pool = pool;
  return 0;
}

void wasmip_wamr_destroy(void) {
  if (!init_pool) return;
  wasm_runtime_destroy();
  init_pool = NULL;
}

int wasmip_wamr_pool_stats(uint32_t *highmark, uint32_t *total) {
  mem_alloc_info_t info;
  if (!init_pool || !wasm_runtime_get_mem_alloc_info(&info)) return -1;
  if (highmark) *highmark = info.highmark_size;
  if (total) *total = info.total_size;
  return 0;
}

int wasmip_wamr_pool_used(uint32_t *used) {
  mem_alloc_info_t info;
  if (!init_pool || !wasm_runtime_get_mem_alloc_info(&info)) return -1;
  *used = info.total_size - info.total_free_size;
  return 0;
}

/* ---------------- the runtime table ---------------- */

/* Keep WAMR's exception text without its "Exception: " prefix, in w->error: the board keeps the
 * pointer after the call. */
static void save_exception(wasmip_wamr_t *w) {
  const char *e = wasm_runtime_get_exception(w->inst);
  static const char pre[] = "Exception: ";
  if (!e) e = "trap";
  if (strncmp(e, pre, sizeof pre - 1) == 0) e += sizeof pre - 1;
  size_t n = strlen(e);
  if (n >= sizeof w->error) n = sizeof w->error - 1;
  memcpy(w->error, e, n);
  w->error[n] = 0;
}

static int wamr_call(void *ctx, wasmip_fn_t fn, uint32_t *argv) {
  wasmip_wamr_t *w = ctx;
  if ((unsigned)fn >= WASMIP_FN_COUNT || !w->fns[fn]) return -1;
  if (wasm_runtime_call_wasm(w->env, w->fns[fn], wasmip_fn_argc[fn], argv)) return 0;
  save_exception(w);
  return -1;
}

uint32_t wasmip_wamr_memory_size(const wasmip_wamr_t *w) {
  wasm_memory_inst_t m = w->inst ? wasm_runtime_get_default_memory(w->inst) : NULL;
  if (!m) return 0;
  uint64_t bytes = wasm_memory_get_cur_page_count(m) * wasm_memory_get_bytes_per_page(m);
  return bytes > 0xffffffffu ? 0xffffffffu : (uint32_t)bytes; /* 65536 pages: one byte short */
}

/* Asked again at each call: WAMR owns the memory and may move it (memory.grow). */
static uint8_t *wamr_memory(void *ctx, uint32_t *size) {
  wasmip_wamr_t *w = ctx;
  wasm_memory_inst_t m = wasm_runtime_get_default_memory(w->inst);
  *size = wasmip_wamr_memory_size(w);
  return m ? (uint8_t *)wasm_memory_get_base_address(m) : NULL;
}

static const char *wamr_trap_message(void *ctx) {
  wasmip_wamr_t *w = ctx;
  return w->error;
}

/* An export of exactly argc i32 parameters and at most one i32 result. */
static int shape_ok(wasmip_wamr_t *w, wasm_function_inst_t f, uint32_t argc, int results) {
  wasm_valkind_t k[8];
  if (wasm_func_get_param_count(f, w->inst) != argc || argc > 8) return 0;
  wasm_func_get_param_types(f, w->inst, k);
  for (uint32_t i = 0; i < argc; i++)
    if (k[i] != WASM_I32) return 0;
  uint32_t nr = wasm_func_get_result_count(f, w->inst);
  if (results >= 0 ? nr != (uint32_t)results : nr > 1) return 0;
  if (nr == 1) {
    wasm_func_get_result_types(f, w->inst, k);
    if (k[0] != WASM_I32) return 0;
  }
  return 1;
}

/* By name: a lookup per call, for the DHCP boot and other rare calls (not per frame). */
static int wamr_call_export(void *ctx, const char *name, uint32_t argc, uint32_t *argv) {
  wasmip_wamr_t *w = ctx;
  wasm_function_inst_t f = wasm_runtime_lookup_function(w->inst, name);
  if (!f || !shape_ok(w, f, argc, -1)) return WASMIP_RT_NO_EXPORT;
  if (wasm_runtime_call_wasm(w->env, f, argc, argv)) return 0;
  save_exception(w);
  return -1;
}

static int wamr_has_export(void *ctx, const char *name) {
  wasmip_wamr_t *w = ctx;
  return wasm_runtime_lookup_function(w->inst, name) != NULL;
}

/* ---------------- load ---------------- */

static int load_fail(wasmip_wamr_t *w, const char *msg, const char *arg) {
  if (msg) snprintf(w->error, sizeof w->error, msg, arg);
  char keep[sizeof w->error];
  memcpy(keep, w->error, sizeof keep);
  keep[sizeof keep - 1] = 0;
  wasmip_wamr_unload(w);
  memcpy(w->error, keep, sizeof keep);
  /* One line: a loader message never spans lines in the board's output. */
  for (char *p = w->error; *p; p++)
    if (*p == '\n' || *p == '\r') *p = ' ';
  return -1;
}

static int load(wasmip_wamr_t *w, uint8_t *buf, uint32_t len, wasmip_board_t *board, uint32_t stack_size, bool freeable) {
  memset(w, 0, sizeof *w);
  if (!init_pool) return load_fail(w, "wasmip_wamr_init() was not called%s", "");
  LoadArgs args;
  memset(&args, 0, sizeof args);
  args.name = (char *)"";
  args.wasm_binary_freeable = freeable;
  w->module = wasm_runtime_load_ex(buf, len, &args, w->error, sizeof w->error);
  if (!w->module) return load_fail(w, NULL, NULL);
  /* No app heap (0): the core never allocates. */
  w->inst = wasm_runtime_instantiate(w->module, stack_size, 0, w->error, sizeof w->error);
  if (!w->inst) return load_fail(w, NULL, NULL);
  wasm_runtime_set_custom_data(w->inst, board);
  if (!wasm_runtime_get_default_memory(w->inst)) return load_fail(w, "the image has no linear memory%s", "");
  for (int i = 0; i < WASMIP_FN_COUNT; i++) {
    w->fns[i] = wasm_runtime_lookup_function(w->inst, wasmip_fn_name[i]);
    if (!w->fns[i] && i >= WASMIP_FN_REQUIRED) continue; /* the board asks has_export first */
    if (!w->fns[i]) return load_fail(w, "the image does not export %s()", wasmip_fn_name[i]);
    /* Checked once here, so a call never writes more results than the board's argv holds. */
    if (!shape_ok(w, w->fns[i], wasmip_fn_argc[i], i == WASMIP_FN_SET_LOG_LEVEL || i == WASMIP_FN_SET_LINK ? 0 : 1))
      return load_fail(w, "the image's %s() has the wrong signature", wasmip_fn_name[i]);
  }
  w->env = wasm_runtime_create_exec_env(w->inst, stack_size);
  if (!w->env) return load_fail(w, "wasm_runtime_create_exec_env failed (pool too small?)%s", "");
  wasmip_runtime_t rt = {w, wamr_call, wamr_memory, wamr_trap_message, wamr_call_export, wamr_has_export};
  w->rt = rt;
  return 0;
}

int wasmip_wamr_load(wasmip_wamr_t *w, uint8_t *buf, uint32_t len, wasmip_board_t *board, uint32_t stack_size) {
  return load(w, buf, len, board, stack_size, false);
}

/* wasm_binary_freeable: the loader copies the strings and data segments it would otherwise
 * use (and patch) in place; an XIP AOT image's code still runs from buf. */
int wasmip_wamr_load_const(wasmip_wamr_t *w, const uint8_t *buf, uint32_t len, wasmip_board_t *board, uint32_t stack_size) {
  return load(w, (uint8_t *)(uintptr_t)buf, len, board, stack_size, true);
}

void wasmip_wamr_unload(wasmip_wamr_t *w) {
  if (w->env) wasm_runtime_destroy_exec_env(w->env);
  if (w->inst) wasm_runtime_deinstantiate(w->inst);
  if (w->module) wasm_runtime_unload(w->module);
  memset(w, 0, sizeof *w);
}
