/*
 * boards/posix/main.c - the native Linux board: a firmware .wasm translated to C by wasm2c
 * (stack.c/stack.h, module name "stack"), the shared board code (boards/common), and a TAP driver.
 *
 *   wasmip-<app> --tap IFNAME --board-ip A.B.C.D/len [--gw A.B.C.D] [--mac 02:..] [--pcap FILE]
 *                [--log-level error|warn|info|debug]
 *   wasmip-<app> --netns NAME [--tap tap0] [--board-ip 10.213.0.2/24 | --dhcp] [--peer-ip 10.213.0.1/24] ...
 *
 * --netns (run from the host namespace, as root): creates the namespace if absent and the tap in it
 * with the peer address (ip(8) with fixed argument vectors), opens the tap via setns(), and deletes
 * the tap and the namespace (only if it created it) on exit. --dhcp: boots with no address, runs the
 * core's DHCP client and prints "leased A/len gw G" before "ready"; the DHCP server (dnsmasq in the
 * namespace) is the caller's.
 *
 * Run it where the tap lives (`ip netns exec NS wasmip-http --tap tap0 ...`): it attaches to an
 * existing tap (or creates one that disappears when it exits). Prints "ready" on stdout once the
 * stack is initialised and frames flow; log lines go to stderr as "[level] message". SIGINT or
 * SIGTERM: prints the counters (netstat -s style) on stdout and exits 0. A trap inside the module
 * (wasm2c's trap handler: out-of-bounds access, unreachable, ...) is reported on stderr as
 * "wasmip: trap in <export>(): <kind>" and ends the process with status 3.
 *
 * The Linux side (flags, tap, --netns, pcap, signals, counters) is boards/common/posix_host.c,
 * shared with the WAMR board (boards/wamr). One thread: the stack task (wasmip_board_run) is also
 * the driver: one read(2) per frame in, one write(2) out, no other system call, no signal-mask
 * save per call (wasmip_w2c.h).
 */
#include <stdio.h>

#include "posix_host.h"
#include "wasmip_w2c.h" /* the wasm2c glue: runtime table, phy.* imports, DHCP exports */

#ifndef WASMIP_APP
#define WASMIP_APP "board"
#endif

static wasmip_board_t board; /* static: the pool lives here, nothing is allocated per frame */
static Z_stack_instance_t inst;
static struct Z_phy_instance_t phy = {&board};

int main(int argc, char **argv) {
  wasmip_posix_opts_t o;
  int r = wasmip_posix_parse(&o, argc, argv, NULL, NULL, NULL, wasmip_w2c_has_dhcp);
  if (r) return r == 1 ? 0 : 2;
  if (wasmip_posix_open(&o, &board)) return 1;

  /* The module: wasm2c's runtime (installs its SIGSEGV handler for memory bounds), then the
   * instance, with static data and the 2-page linear memory; nothing is allocated after this. */
  wasm_rt_init();
  Z_stack_init_module();
  Z_stack_instantiate(&inst, &phy);
  static wasmip_runtime_t runtime;
  runtime = wasmip_w2c_runtime(&inst);
  wasmip_board_setup(&board, &runtime, wasmip_posix_port());
  const wasmip_posix_image_t image = {"posix board", WASMIP_APP, NULL, NULL};
  return wasmip_posix_run(&board, &o, &image);
}
