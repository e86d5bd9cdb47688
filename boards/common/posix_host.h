/*
 * posix_host.h - the Linux side of the native boards (boards/posix: wasm2c, boards/wamr: WAMR),
 * whatever runtime runs the image: the flags, the TAP driver (a wasmip_port_t), --netns (the
 * namespace and the tap, created and deleted by the process itself), the pcap, the signals, and
 * the board's life (start, DHCP, "ready", the run loop, counters at exit, traps).
 *
 *   wasmip_posix_opts_t o;
 *   int r = wasmip_posix_parse(&o, argc, argv, extra_flag, arg, extra_usage);  (0: go on)
 *   ... load the image ...
 *   if (wasmip_posix_open(&o, &board)) return 1;                 (tap, eventfd, pcap, signals)
 *   wasmip_board_setup(&board, runtime, wasmip_posix_port());
 *   return wasmip_posix_run(&board, &o, &image);                 (the process's exit status)
 *
 * One board per process: the tap, the eventfd and the signal handlers are process-wide.
 * Output: "leased A/len gw G" (with --dhcp) and "ready" on stdout, log lines "[level] message"
 * on stderr, the counters on stdout at SIGINT/SIGTERM (exit 0); a trap is reported on stderr as
 * "wasmip: trap in <export>(): <message>" with exit status 3.
 */
#ifndef WASMIP_POSIX_HOST_H
#define WASMIP_POSIX_HOST_H

#include <stdint.h>

#include "wasmip_board.h"

#define WASMIP_EXIT_TRAP 3

/* --app-config: settings handed to the image's app_config export, each one at most a line. */
#define WASMIP_POSIX_APP_CONFIG_MAX 8

typedef struct {
  const char *tap, *cidr, *gw_s, *mac_s, *pcap_path, *netns, *peer_cidr;
  int dhcp;
  uint32_t log_level;
  uint8_t module_level[WASMIP_LOG_MODULES]; /* --log-level info,dhcp=debug: 0xff where not given */
  int offload; /* --offload none|sum: WASMIP_OFFLOAD_* bits, or -1 (the board's default) */
  const char *app_config[WASMIP_POSIX_APP_CONFIG_MAX]; /* --app-config KEY=VALUE, in order */
  uint32_t app_configs;
  /* Parsed from the above. */
  uint32_t ip, mask, gw, peer_ip, peer_mask;
  uint32_t prefix; /* the lease's prefix length: the peer's with --netns, else the board's */
  uint8_t mac[6];
} wasmip_posix_opts_t;

/* A board's own flags (e.g. --wasm FILE): return 1 when flag (which takes value) is one, 0 when
 * it is unknown, -1 when value is bad (after printing why). */
typedef int (*wasmip_posix_flag_fn)(void *arg, const char *flag, const char *value);

/* What the host asks of the image and the runtime. */
typedef struct {
  const char *board_name; /* in the start-up line: "posix board", "wamr board (fast interpreter)" */
  const char *app;        /* the DHCP host name is "wasmip-<app>" */
  void *ctx;
  /* Optional: more lines after the counters at exit (also after a trap). */
  void (*print_extra)(void *ctx);
} wasmip_posix_image_t;

/* Parse and check the flags. has_dhcp (NULL: not known yet) refuses --dhcp for an image without
 * the client. Returns 0 (go on), 1 (--help printed: exit 0) or 2 (bad flags, reported: exit 2). */
int wasmip_posix_parse(wasmip_posix_opts_t *o, int argc, char **argv, wasmip_posix_flag_fn extra, void *arg, const char *extra_usage,
                       int (*has_dhcp)(void));

/* Signals, --netns set-up (deleted again at exit), the tap, the eventfd and the pcap. The board is
 * the one the signals stop. 0, or 1 (reported). */
int wasmip_posix_open(const wasmip_posix_opts_t *o, wasmip_board_t *board);

/* The TAP driver: valid after wasmip_posix_open. */
const wasmip_port_t *wasmip_posix_port(void);

/* Start the board (set_log_level, init), DHCP if asked, "ready", run until a signal or a trap,
 * print the counters. Returns the exit status: 0, 1 (init refused), WASMIP_EXIT_TRAP. */
int wasmip_posix_run(wasmip_board_t *b, const wasmip_posix_opts_t *o, const wasmip_posix_image_t *img);

/* The refusal of --dhcp for an image without the client (exit status 2). */
void wasmip_posix_no_dhcp(void);

#endif /* WASMIP_POSIX_HOST_H */
