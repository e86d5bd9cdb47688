/*
 * posix_host.c - the Linux side of the native boards (see posix_host.h): flags, the TAP driver,
 * --netns, pcap, signals, and the board's life from start to exit status. Moved here from
 * boards/posix/main.c so the wasm2c board and the WAMR board share one Linux port.
 *
 * One thread: the stack task (wasmip_board_run) is also the driver. It reads the non-blocking tap
 * itself (port_rx: each frame straight into the core's receive buffer, until the tap is empty),
 * then calls poll(), and sleeps in poll(2) on the tap and an eventfd (signals) only when no frame
 * is waiting. Per frame that is one read(2) in and one write(2) out, no other system call.
 *
 * The link: the tap's kernel side is the board's link partner. A netlink socket (RTMGRP_LINK, in
 * the tap's namespace) reports it going administratively down or up (`ip link set TAP down`), which
 * the board passes on as its carrier (wasmip_board_link -> set_link), as a PHY reports its link.
 */
#define _GNU_SOURCE
#include "posix_host.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int tap_fd = -1;
static int wake_fd = -1;
static int link_fd = -1;   /* netlink: the tap's link changes */
static int tap_ifindex;
static FILE *pcap;
static wasmip_board_t *host_board; /* the board signals stop */
static volatile int exiting; /* the tap is being deleted: a read error is expected */
static uint32_t log_level = WASMIP_LOG_INFO;
static struct timespec t0;

/* ---------------- the port: Linux ---------------- */

static int port_tx(void *ctx, const uint8_t *frame, uint32_t len) {
  (void)ctx;
  ssize_t n;
  do n = write(tap_fd, frame, len);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len ? 0 : -1; /* a refused frame is lost, as on a wire */
}

static uint32_t port_now_ms(void *ctx) {
  (void)ctx;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint32_t)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
}

static uint32_t port_random(void *ctx) {
  (void)ctx;
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) r = (uint32_t)rand();
  return r;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static const char *const module_names[WASMIP_LOG_MODULES] = {"eth", "arp", "ip", "icmp", "tcp", "udp", "dhcp", "dns", "app"};

static int level_of(const char *s, size_t n) {
  for (int l = 0; l < 4; l++)
    if (strlen(level_names[l]) == n && !strncmp(s, level_names[l], n)) return l;
  return -1;
}

/* "info" or "warn,dhcp=debug,arp=info": a level for every module, then per module. 0 or -1. The
 * board's own filter (port_log) lets through the most verbose of them; the core filters per module.
 * An empty item ("info,,") is refused. */
static int parse_log_levels(wasmip_posix_opts_t *o, const char *spec) {
  for (const char *p = spec; *p;) {
    const char *end = strchr(p, ',');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    const char *eq = memchr(p, '=', n);
    if (!eq) {
      int l = level_of(p, n);
      if (l < 0) return -1;
      o->log_level = (uint32_t)l;
    } else {
      int l = level_of(eq + 1, n - (size_t)(eq + 1 - p));
      uint32_t m = 0;
      while (m < WASMIP_LOG_MODULES && !(strlen(module_names[m]) == (size_t)(eq - p) && !strncmp(p, module_names[m], (size_t)(eq - p)))) m++;
      if (l < 0 || m == WASMIP_LOG_MODULES) return -1;
      o->module_level[m] = (uint8_t)l;
    }
    p += n;
    if (*p == ',') p++;
  }
  return 0;
}

static void port_log(void *ctx, uint32_t level, const char *msg, uint32_t len) {
  (void)ctx;
  if (level > log_level) return;
  fprintf(stderr, "[%s] %.*s\n", level_names[level < 4 ? level : 3], (int)len, msg);
}

/* Netlink link messages for the tap: its kernel side up (IFF_UP) is our carrier. */
static void link_watch_read(void) {
  char buf[4096] __attribute__((aligned(4)));
  for (;;) {
    ssize_t n = recv(link_fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return; /* EAGAIN, or ENOBUFS after an overrun: the next message tells the state */
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) continue;
      const struct ifinfomsg *i = NLMSG_DATA(h);
      if (i->ifi_index == tap_ifindex && host_board) wasmip_board_link(host_board, (i->ifi_flags & IFF_UP) != 0);
    }
  }
}

/* In the tap's namespace (both sockets stay bound to it). */
static void link_watch_open(const char *tap) {
  struct ifreq q;
  memset(&q, 0, sizeof q);
  strncpy(q.ifr_name, tap, IFNAMSIZ - 1);
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  tap_ifindex = s >= 0 && ioctl(s, SIOCGIFINDEX, &q) == 0 ? q.ifr_ifindex : 0;
  if (s >= 0) close(s);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  struct sockaddr_nl a = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
  if (fd < 0 || tap_ifindex == 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    fprintf(stderr, "wasmip: cannot watch %s's link (%s): the board's link stays up\n", tap, strerror(errno));
    if (fd >= 0) close(fd);
    return;
  }
  link_fd = fd;
}

static void port_wait(void *ctx, uint32_t timeout_ms) {
  (void)ctx;
  struct pollfd p[3] = {{.fd = wake_fd, .events = POLLIN}, {.fd = tap_fd, .events = POLLIN}, {.fd = link_fd, .events = POLLIN}};
  int r = poll(p, link_fd >= 0 ? 3 : 2, (int)timeout_ms);
  if (r > 0 && (p[0].revents & POLLIN)) {
    uint64_t v;
    if (read(wake_fd, &v, sizeof v) < 0) { /* EAGAIN: someone else consumed it */
    }
  }
  if (r > 0 && link_fd >= 0 && (p[2].revents & POLLIN)) link_watch_read();
}

/* The driver, pulled by the stack task: one frame from the (non-blocking) tap straight into the
 * core's receive buffer. */
static int32_t port_rx(void *ctx, uint8_t *buf, uint32_t size) {
  (void)ctx;
  for (;;) {
    ssize_t n = read(tap_fd, buf, size);
    if (n > 0) return (int32_t)n;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (!exiting) fprintf(stderr, "wasmip: read tap: %s\n", n < 0 ? strerror(errno) : "end of file");
    if (host_board) host_board->stop = 1;
    return -1;
  }
}

static void port_wake(void *ctx) {
  (void)ctx;
  uint64_t one = 1;
  if (write(wake_fd, &one, sizeof one) < 0) { /* the counter is already non-zero */
  }
}

static void pcap_record(const uint8_t *frame, uint32_t len) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  uint32_t h[4] = {(uint32_t)t.tv_sec, (uint32_t)(t.tv_nsec / 1000), len, len};
  fwrite(h, sizeof h, 1, pcap);
  fwrite(frame, 1, len, pcap);
}

static void port_capture(void *ctx, int dir, const uint8_t *frame, uint32_t len) {
  (void)ctx;
  (void)dir;
  if (pcap) pcap_record(frame, len);
}

static void ip_str(uint32_t ip, char *buf, size_t n);

/* Network events on stdout, one line each ("event: link down", "event: address 10.0.0.50", ...),
 * for whoever runs the board (tests wait for them, as for "leased" and "ready"). */
static void port_net_event(void *ctx, uint32_t ev) {
  (void)ctx;
  uint32_t a[2] = {0, 0};
  char ip[16];
  if (wasmip_board_call_export(host_board, "ipv4_address", 0, a) != 0) a[0] = 0;
  ip_str(a[0], ip, sizeof ip);
  if (ev & WASMIP_NET_EV_LINK_DOWN) printf("event: link down\n");
  if (ev & WASMIP_NET_EV_LINK_UP) printf("event: link up\n");
  if (ev & WASMIP_NET_EV_ADDRESS_LOST) printf("event: address lost\n");
  if ((ev & WASMIP_NET_EV_ADDRESS) && a[0] != 0) printf("event: address %s\n", ip);
  if (ev & WASMIP_NET_EV_RENEWED) printf("event: renewed %s\n", ip);
  if (ev & WASMIP_NET_EV_DNS) printf("event: dns\n");
  if (ev & WASMIP_NET_EV_TIME) printf("event: time\n");
  if (ev & WASMIP_NET_EV_MULTICAST) printf("event: multicast\n");
  fflush(stdout);
}

static wasmip_port_t port = {NULL, port_tx, port_now_ms, port_random, port_log, port_wait, port_wake, port_capture, port_rx, port_net_event};

/* Attaching brings the tap's carrier up, but the kernel activates its transmit queue later (in its
 * linkwatch work, a few ms here): until then it drops what it sends to us, such as the answer to a
 * DHCPDISCOVER sent at once. It marks the interface RUNNING in that same step: wait for it (at most
 * 2 s; a tap that is not up never runs). Runs in the tap's namespace. */
static void wait_running(const char *name) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  for (int i = 0; i < 2000; i++) {
    struct ifreq q;
    memset(&q, 0, sizeof q);
    strncpy(q.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFFLAGS, &q) == 0 && (q.ifr_flags & IFF_RUNNING)) {
      close(s);
      return;
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  fprintf(stderr, "wasmip: %s is not running after 2 s (is it up?): the kernel may drop frames to the board\n", name);
  close(s);
}

static int open_tap(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "wasmip: open /dev/net/tun: %s\n", strerror(errno));
    return -1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "wasmip: TUNSETIFF %s: %s\n", name, strerror(errno));
    close(fd);
    return -1;
  }
  wait_running(name);
  link_watch_open(name);
  return fd;
}

/* ---------------- --netns: the namespace and the tap, set up by the binary itself ---------------- */

static const char *ns_name;     /* --netns NAME, or NULL (--tap alone: the tap is the caller's) */
static int ns_created;          /* we ran `ip netns add`: delete the namespace on exit */
static int ns_tap_created;      /* we ran `ip tuntap add`: delete the tap on exit */
static const char *ns_tap;

/* Interface and namespace names: [a-zA-Z0-9_-], 1..15 characters (they go into argv of ip(8)
 * and into a path, never through a shell). */
static int valid_name(const char *s) {
  size_t n = strlen(s);
  if (n == 0 || n >= IFNAMSIZ) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return 0;
  }
  return 1;
}

/* Run ip(8) with a fixed argument vector (argv[0] is "ip"); its output goes to stderr (or nowhere
 * when quiet). Returns its exit status (-1 when it could not run). */
static int run_ip(int quiet, char *const argv[]) {
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "wasmip: fork: %s\n", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    int null = quiet ? open("/dev/null", O_WRONLY) : -1;
    dup2(quiet && null >= 0 ? null : 2, 1);
    if (quiet && null >= 0) dup2(null, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execvp("ip", argv);
    execv("/usr/sbin/ip", argv);
    execv("/sbin/ip", argv);
    _exit(127);
  }
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int run_ip_checked(char *const argv[]) {
  int r = run_ip(0, argv);
  if (r != 0) {
    fprintf(stderr, "wasmip: ip");
    for (int i = 1; argv[i]; i++) fprintf(stderr, " %s", argv[i]);
    fprintf(stderr, " failed (%d)\n", r);
  }
  return r;
}

static char ns_path[64];

/* Delete the tap and the namespace we created (atexit; idempotent). */
static void ns_cleanup(void) {
  if (!ns_name) return;
  exiting = 1;
  if (ns_tap_created) {
    ns_tap_created = 0;
    char *del_tap[] = {"ip", "-n", (char *)ns_name, "link", "del", "dev", (char *)ns_tap, NULL};
    run_ip(1, del_tap);
  }
  if (ns_created) {
    ns_created = 0;
    char *del_ns[] = {"ip", "netns", "del", (char *)ns_name, NULL};
    if (run_ip_checked(del_ns) == 0) fprintf(stderr, "wasmip: deleted namespace %s\n", ns_name);
  }
}

/* Create the namespace (if absent) and the tap in it with the peer address, up. Returns 0. */
static int ns_setup(const char *name, const char *tap, const char *peer_cidr) {
  ns_name = name;
  ns_tap = tap;
  snprintf(ns_path, sizeof ns_path, "/var/run/netns/%s", name);
  struct stat sb;
  if (stat(ns_path, &sb) != 0) {
    char *add[] = {"ip", "netns", "add", (char *)name, NULL};
    if (run_ip_checked(add)) return -1;
    ns_created = 1;
    char *lo[] = {"ip", "-n", (char *)name, "link", "set", "lo", "up", NULL};
    if (run_ip_checked(lo)) return -1;
  }
  char *show[] = {"ip", "-n", (char *)name, "link", "show", "dev", (char *)tap, NULL};
  if (run_ip(1, show) == 0) {
    fprintf(stderr, "wasmip: %s already exists in namespace %s: refusing to use it\n", tap, name);
    return -1;
  }
  char *add_tap[] = {"ip", "-n", (char *)name, "tuntap", "add", "dev", (char *)tap, "mode", "tap", NULL};
  if (run_ip_checked(add_tap)) return -1;
  ns_tap_created = 1;
  char *addr[] = {"ip", "-n", (char *)name, "addr", "add", (char *)peer_cidr, "dev", (char *)tap, NULL};
  if (run_ip_checked(addr)) return -1;
  char *up[] = {"ip", "-n", (char *)name, "link", "set", (char *)tap, "up", NULL};
  if (run_ip_checked(up)) return -1;
  return 0;
}

/* Open the tap from inside the namespace (setns), then return to the namespace we came from: the
 * file descriptor stays bound to the tap, and ip(8) at exit runs from where we were started. */
static int ns_open_tap(const char *tap) {
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  int nsfd = open(ns_path, O_RDONLY | O_CLOEXEC);
  if (self < 0 || nsfd < 0) {
    fprintf(stderr, "wasmip: open %s: %s\n", self < 0 ? "/proc/self/ns/net" : ns_path, strerror(errno));
    if (self >= 0) close(self);
    if (nsfd >= 0) close(nsfd);
    return -1;
  }
  if (setns(nsfd, CLONE_NEWNET) < 0) {
    fprintf(stderr, "wasmip: setns %s: %s\n", ns_path, strerror(errno));
    close(self);
    close(nsfd);
    return -1;
  }
  close(nsfd);
  int fd = open_tap(tap);
  if (setns(self, CLONE_NEWNET) < 0) fprintf(stderr, "wasmip: setns back: %s\n", strerror(errno));
  close(self);
  return fd;
}

/* ---------------- the board's life ---------------- */

static void ip_str(uint32_t ip, char *buf, size_t n) {
  snprintf(buf, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void on_signal(int sig) {
  (void)sig;
  if (host_board) host_board->stop = 1;
  port_wake(NULL); /* write(2) on an eventfd: async-signal-safe */
}

static void print_counter(void *arg, const char *name, uint32_t kind, uint32_t value) {
  (void)arg;
  (void)kind;
  if (value) printf("  %-32s %u\n", name, value);
}

static void print_stats(wasmip_board_t *b, const wasmip_posix_image_t *img) {
  const wasmip_board_stats_t *s = &b->stats;
  printf("board:\n  rx_queued %u rx_pool_full %u rx_bad_length %u rx_input %u tx_frames %u tx_errors %u polls %u waits %u\n",
         s->rx_queued, s->rx_pool_full, s->rx_bad_length, s->rx_input, s->tx_frames, s->tx_errors, s->polls, s->waits);
  if (!b->trapped) {
    printf("core:\n");
    wasmip_board_counters(b, print_counter, NULL);
  }
  if (img->print_extra) img->print_extra(img->ctx);
  fflush(stdout);
}

static int report_trap(wasmip_board_t *b, const wasmip_posix_image_t *img) {
  char msg[160];
  wasmip_board_describe_trap(b, msg, sizeof msg);
  fprintf(stderr, "wasmip: %s\n", msg);
  print_stats(b, img);
  return WASMIP_EXIT_TRAP;
}

static void usage(const char *argv0, const char *extra_usage) {
  fprintf(stderr,
          "usage: %s --tap IFNAME (--board-ip A.B.C.D/len | --dhcp) [--gw A.B.C.D] [--mac XX:XX:XX:XX:XX:XX]\n"
          "          [--pcap FILE] [--log-level LEVEL[,MODULE=LEVEL...]]  (levels error|warn|info|debug;\n"
          "          modules eth arp ip icmp tcp udp dhcp dns app) [--offload none|sum]  (sum: checksums\n"
          "          through phy.checksum, the WAMR boards' default) [--app-config KEY=VALUE ...]\n"
          "       %s --netns NAME [--tap IFNAME] [--board-ip A.B.C.D/len | --dhcp] [--peer-ip A.B.C.D/len] ...\n"
          "  --netns NAME: create the namespace if absent and the tap (default tap0) in it with the peer\n"
          "  address (default 10.213.0.1/24; board default 10.213.0.2/24); both are removed on exit.\n"
          "  --dhcp: no address at boot, the DHCP client gets one (no server is started: run dnsmasq\n"
          "  in the namespace, as `wasmip tap --dhcp` does); prints \"leased A/len gw G\" then \"ready\".\n"
          "  --app-config KEY=VALUE: a setting for the app (its app_config export), before \"ready\"; up to 8,\n"
          "  in order (the sensor: broker=HOST[:PORT] interval_ms=N keepalive=S name=NAME).\n",
          argv0, argv0);
  if (extra_usage) fputs(extra_usage, stderr);
}

void wasmip_posix_no_dhcp(void) { fprintf(stderr, "wasmip: this image has no DHCP client (no dhcp_start export)\n"); }

int wasmip_posix_parse(wasmip_posix_opts_t *o, int argc, char **argv, wasmip_posix_flag_fn extra, void *arg, const char *extra_usage,
                       int (*has_dhcp)(void)) {
  memset(o, 0, sizeof *o);
  o->mac_s = "02:77:69:70:00:02";
  o->log_level = WASMIP_LOG_INFO;
  o->offload = -1;
  memset(o->module_level, 0xff, sizeof o->module_level);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(argv[0], extra_usage);
      return 1;
    }
    if (!strcmp(a, "--dhcp")) {
      o->dhcp = 1;
      continue;
    }
    if (!v) {
      fprintf(stderr, "wasmip: %s needs a value\n", a);
      usage(argv[0], extra_usage);
      return 2;
    }
    if (!strcmp(a, "--tap")) o->tap = v;
    else if (!strcmp(a, "--netns")) o->netns = v;
    else if (!strcmp(a, "--peer-ip")) o->peer_cidr = v;
    else if (!strcmp(a, "--board-ip")) o->cidr = v;
    else if (!strcmp(a, "--gw")) o->gw_s = v;
    else if (!strcmp(a, "--mac")) o->mac_s = v;
    else if (!strcmp(a, "--pcap")) o->pcap_path = v;
    else if (!strcmp(a, "--app-config")) {
      if (o->app_configs == WASMIP_POSIX_APP_CONFIG_MAX || !*v || strlen(v) > 255) {
        fprintf(stderr, "wasmip: --app-config %s: at most %u of them, each 1 to 255 bytes\n", v, (unsigned)WASMIP_POSIX_APP_CONFIG_MAX);
        return 2;
      }
      o->app_config[o->app_configs++] = v;
    }
    else if (!strcmp(a, "--offload")) {
      if (!strcmp(v, "none")) o->offload = 0;
      else if (!strcmp(v, "sum")) o->offload = WASMIP_OFFLOAD_SUM;
      else {
        fprintf(stderr, "wasmip: bad --offload %s (none or sum: a TAP has no MAC to fill or verify checksums)\n", v);
        return 2;
      }
    } else if (!strcmp(a, "--log-level")) {
      if (parse_log_levels(o, v)) {
        fprintf(stderr, "wasmip: bad --log-level %s (LEVEL[,MODULE=LEVEL...]: levels error|warn|info|debug, modules "
                        "eth arp ip icmp tcp udp dhcp dns app)\n", v);
        return 2;
      }
    } else {
      int r = extra ? extra(arg, a, v) : 0;
      if (r < 0) return 2;
      if (r == 0) {
        fprintf(stderr, "wasmip: unknown option %s\n", a);
        usage(argv[0], extra_usage);
        return 2;
      }
    }
    i++;
  }
  if (o->netns) {
    /* The defaults of `wasmip tap` (DEFAULTS in host/devices/tap.ts). */
    if (!o->tap) o->tap = "tap0";
    if (!o->peer_cidr) o->peer_cidr = "10.213.0.1/24";
    if (!o->cidr && !o->dhcp) o->cidr = "10.213.0.2/24";
    if (!valid_name(o->netns)) {
      fprintf(stderr, "wasmip: bad --netns %s (want [a-zA-Z0-9_-], at most 15 characters)\n", o->netns);
      return 2;
    }
    if (!valid_name(o->tap)) {
      fprintf(stderr, "wasmip: bad --tap %s (want [a-zA-Z0-9_-], at most 15 characters)\n", o->tap);
      return 2;
    }
    if (wasmip_parse_cidr(o->peer_cidr, &o->peer_ip, &o->peer_mask)) {
      fprintf(stderr, "wasmip: bad --peer-ip %s (want A.B.C.D/len)\n", o->peer_cidr);
      return 2;
    }
  } else if (o->peer_cidr) {
    fprintf(stderr, "wasmip: --peer-ip needs --netns (with --tap alone the caller sets up the tap)\n");
    return 2;
  }
  if (!o->tap || strlen(o->tap) >= IFNAMSIZ) {
    fprintf(stderr, "wasmip: --tap IFNAME (or --netns NAME) is required\n");
    return 2;
  }
  if (o->dhcp && o->cidr) {
    fprintf(stderr, "wasmip: --dhcp and --board-ip exclude each other\n");
    return 2;
  }
  if (o->dhcp && has_dhcp && !has_dhcp()) {
    wasmip_posix_no_dhcp();
    return 2;
  }
  if (!o->dhcp && (!o->cidr || wasmip_parse_cidr(o->cidr, &o->ip, &o->mask))) {
    fprintf(stderr, "wasmip: --board-ip A.B.C.D/len is required (got %s)\n", o->cidr ? o->cidr : "nothing");
    return 2;
  }
  if (o->netns && !o->dhcp && (o->ip == o->peer_ip || o->mask != o->peer_mask || ((o->ip ^ o->peer_ip) & o->mask) != 0)) {
    fprintf(stderr, "wasmip: board %s and peer %s are not distinct addresses on the same subnet\n", o->cidr, o->peer_cidr);
    return 2;
  }
  if (o->gw_s && wasmip_parse_ip(o->gw_s, &o->gw)) {
    fprintf(stderr, "wasmip: bad --gw %s\n", o->gw_s);
    return 2;
  }
  if (wasmip_parse_mac(o->mac_s, o->mac)) {
    fprintf(stderr, "wasmip: bad --mac %s\n", o->mac_s);
    return 2;
  }
  o->prefix = 0;
  for (uint32_t m = o->netns ? o->peer_mask : o->mask; m & 0x80000000u; m <<= 1) o->prefix++;
  log_level = o->log_level;
  for (uint32_t m = 0; m < WASMIP_LOG_MODULES; m++)
    if (o->module_level[m] != 0xff && o->module_level[m] > log_level) log_level = o->module_level[m];
  return 0;
}

int wasmip_posix_open(const wasmip_posix_opts_t *o, wasmip_board_t *board) {
  host_board = board;
  /* Signals first: a SIGINT/SIGTERM during the setup still ends in the cleanup below. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (o->netns) {
    atexit(ns_cleanup); /* every exit after this deletes what ns_setup created */
    if (ns_setup(o->netns, o->tap, o->peer_cidr)) return 1;
    tap_fd = ns_open_tap(o->tap);
    fprintf(stderr, "wasmip: %s %s, %s %s\n", ns_created ? "created namespace" : "using existing namespace", o->netns, o->tap, o->peer_cidr);
  } else {
    tap_fd = open_tap(o->tap);
  }
  if (tap_fd < 0) return 1;
  wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    fprintf(stderr, "wasmip: eventfd: %s\n", strerror(errno));
    return 1;
  }
  if (o->pcap_path) {
    pcap = fopen(o->pcap_path, "wb");
    if (!pcap) {
      fprintf(stderr, "wasmip: %s: %s\n", o->pcap_path, strerror(errno));
      return 1;
    }
    const uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535u, 1u}; /* v2.4, Ethernet */
    fwrite(hdr, sizeof hdr, 1, pcap);
  }
  return 0;
}

const wasmip_port_t *wasmip_posix_port(void) { return &port; }

/* One --app-config: the text into the module's io_buffer, then app_config(ptr, len). After the
 * lease, so that a setting naming a host can be resolved at once. 0, 1 (refused: reported) or
 * WASMIP_BOARD_TRAPPED. */
static int app_config(wasmip_board_t *b, const char *text) {
  uint32_t len = (uint32_t)strlen(text), a[2] = {0, 0}, size[1] = {0};
  int r = wasmip_board_call_export(b, "io_buffer", 0, a);
  if (r == 0) r = wasmip_board_call_export(b, "io_buffer_size", 0, size);
  if (r == WASMIP_BOARD_TRAPPED) return r;
  if (r != 0 || !wasmip_board_has_export(b, "app_config")) {
    fprintf(stderr, "wasmip: --app-config: this image takes no settings (no app_config export)\n");
    return 1;
  }
  uint8_t *m = len <= size[0] ? wasmip_board_mem(b, a[0], len) : NULL;
  if (!m) {
    fprintf(stderr, "wasmip: --app-config %s: longer than the image's io_buffer (%u bytes)\n", text, size[0]);
    return 1;
  }
  memcpy(m, text, len);
  a[1] = len;
  r = wasmip_board_call_export(b, "app_config", 2, a);
  if (r != 0) return r;
  if ((int32_t)a[0] != 0) {
    fprintf(stderr, "wasmip: --app-config %s: refused by the app (%d)\n", text, (int32_t)a[0]);
    return 1;
  }
  fprintf(stderr, "wasmip: app config %s\n", text);
  return 0;
}

int wasmip_posix_run(wasmip_board_t *b, const wasmip_posix_opts_t *o, const wasmip_posix_image_t *img) {
  uint32_t a[2] = {o->log_level, 0};
  if (wasmip_board_call(b, WASMIP_FN_SET_LOG_LEVEL, a)) return report_trap(b, img);
  for (uint32_t m = 0; m < WASMIP_LOG_MODULES; m++) {
    if (o->module_level[m] == 0xff) continue;
    a[0] = m;
    a[1] = o->module_level[m];
    int r = wasmip_board_call_export(b, "set_log_module_level", 2, a);
    if (r == WASMIP_BOARD_TRAPPED) return report_trap(b, img);
    if (r != 0) {
      fprintf(stderr, "wasmip: this image has no per-module log levels (set_log_module_level)\n");
      return 1;
    }
  }
  if (o->offload >= 0) wasmip_board_set_offload(b, (uint32_t)o->offload);
  int32_t rc = wasmip_board_start(b, o->mac, o->ip, o->mask, o->gw);
  if (rc == WASMIP_BOARD_TRAPPED) return report_trap(b, img);
  if (rc < 0) {
    fprintf(stderr, "wasmip: init refused the configuration (%d)\n", rc);
    return 1;
  }
  if (wasmip_board_call(b, WASMIP_FN_MEMORY_USED, a)) return report_trap(b, img);
  uint32_t memsize = 0;
  b->rt->memory(b->rt->ctx, &memsize);
  fprintf(stderr, "wasmip: %s on %s, %s, core uses %u of %u bytes of linear memory, up to %u frames per round\n", img->board_name, o->tap,
          o->dhcp ? "dhcp" : o->cidr, a[0], memsize, (unsigned)WASMIP_RX_PULL_MAX);

  /* The stack task reads the tap itself (port_rx), until it is empty, then sleeps in poll(). */
  int fl = fcntl(tap_fd, F_GETFL);
  if (fl < 0 || fcntl(tap_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    fprintf(stderr, "wasmip: O_NONBLOCK on the tap: %s\n", strerror(errno));
    return 1;
  }
  if (o->dhcp) {
    char host[64];
    snprintf(host, sizeof host, "wasmip-%s", img->app); /* host name: option 12 */
    int32_t d = wasmip_board_dhcp_start(b, host);
    if (d == WASMIP_BOARD_TRAPPED) return report_trap(b, img);
    if (d != 0) {
      fprintf(stderr, "wasmip: dhcp_start refused (%d)\n", d);
      return 1;
    }
    uint32_t lip = 0, lgw = 0;
    int l = wasmip_board_dhcp_wait_lease(b, &lip, &lgw);
    if (l == WASMIP_BOARD_TRAPPED) {
      if (pcap) fclose(pcap);
      return report_trap(b, img);
    }
    if (l == 0) {
      char ips[16], gws[16];
      ip_str(lip, ips, sizeof ips);
      ip_str(lgw, gws, sizeof gws);
      printf("leased %s/%u gw %s\n", ips, o->prefix, gws);
      fflush(stdout);
    }
  }
  for (uint32_t i = 0; i < o->app_configs && !b->stop; i++) {
    int c = app_config(b, o->app_config[i]);
    if (c == WASMIP_BOARD_TRAPPED) {
      if (pcap) fclose(pcap);
      return report_trap(b, img);
    }
    if (c) {
      if (pcap) fclose(pcap);
      return 1;
    }
  }
  if (!b->stop) {
    printf("ready\n");
    fflush(stdout);
  }

  int r = wasmip_board_run(b);
  if (pcap) fclose(pcap);
  if (r == WASMIP_BOARD_TRAPPED) return report_trap(b, img);
  print_stats(b, img);
  return 0;
}
