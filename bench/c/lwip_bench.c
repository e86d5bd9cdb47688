/*
 * bench/c/lwip_bench.c - lwIP (Debian's liblwip-dev, lwIP 2.1.3) on a TAP device, serving the
 * bench protocol of assembly/apps/bench.ts on TCP 5001 with the raw API, so `make bench` can put
 * wasmip next to a well-known C stack on the same kind of link (bench/README.md).
 *
 *   lwip-bench --tap IFNAME --ip A.B.C.D/len [--mac 02:..] [--wnd N] [--snd-buf N]
 *   lwip-bench --info      (the build's TCP settings, from its headers and from a live pcb)
 *
 * Debian builds lwIP with NO_SYS=0 and core locking (its lwipopts.h): tcpip_init() starts the
 * tcpip thread, which runs lwIP's timers; this program's main thread is the driver: it reads
 * frames from the tap and hands them to ethernet_input() while holding the core lock (what
 * tcpip_input does with LWIP_TCPIP_CORE_LOCKING_INPUT). linkoutput writes a frame to the tap.
 * The driver reads the non-blocking tap until it is empty and sleeps in poll() only then, like
 * the posix board (one read(2) per frame in, one write(2) out). The netif is Ethernet with ARP,
 * MTU 1500, like the wasmip boards. The TCP settings are Debian's (TCP_MSS 1460, TCP_WND and
 * TCP_SND_BUF 65535, window scaling): reported by --info.
 *
 * --wnd N / --snd-buf N limit a connection to a receive window and a send buffer of N bytes
 * (lwIP fixes both at build time; this is the glue's doing, so lwIP can be measured at wasmip's
 * sizes), as if lwIP were built with TCP_WND = N and TCP_SND_BUF = N: the receive window is shrunk
 * by withholding tcp_recved() credit for the first (rcv_wnd at accept - N) bytes (after those, the
 * window never exceeds N), an explicit window update goes out at lwIP's threshold for a TCP_WND
 * of N (TCP_WND_UPDATE_THRESHOLD = min(N / 4, 4 * TCP_MSS); lwIP's receiver SWS rule is the same
 * for both), and the send side never has more than N bytes unacknowledged plus unsent in lwIP's
 * queue (what tcp_sndbuf() says is in use). Prints "ready" when up;
 * SIGTERM/SIGINT end it (exit 0) after one JSON line: the values a live connection saw.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#define PORT 5001
#define PERIOD 251u
#define PATTERN_LEN (PERIOD * 64u)

static int tap_fd = -1;
static struct netif nif;
static volatile sig_atomic_t stop;
static volatile int up;
static uint8_t pattern[PATTERN_LEN + PERIOD];
static uint8_t txbuf[2048];
static uint32_t cap_wnd, cap_snd; /* --wnd, --snd-buf (0: lwIP's own) */

/* What the first connection saw at accept, read from its pcb (printed at exit). */
static struct {
  int seen;
  uint32_t rcv_wnd, rcv_ann_wnd, snd_buf, mss, rcv_scale, snd_scale, withheld;
} first;
static uint64_t frames_in, frames_out;

/* ---- the netif ---- */

static err_t linkoutput(struct netif *n, struct pbuf *p) {
  (void)n;
  if (p->tot_len > sizeof txbuf) return ERR_BUF;
  /* LWIP_NETIF_TX_SINGLE_PBUF: usually one pbuf, written as it is. */
  const void *data = p->payload;
  uint16_t len = p->len;
  if (p->next) {
    len = pbuf_copy_partial(p, txbuf, p->tot_len, 0);
    data = txbuf;
  }
  ssize_t w;
  do w = write(tap_fd, data, len);
  while (w < 0 && errno == EINTR);
  frames_out++;
  return ERR_OK; /* a refused frame is lost, as on a wire */
}

static uint8_t mac[6] = {0x02, 0x6c, 0x77, 0x69, 0x70, 0x02};

static err_t nif_init(struct netif *n) {
  n->name[0] = 't';
  n->name[1] = 'p';
  n->mtu = 1500;
  n->hwaddr_len = 6;
  memcpy(n->hwaddr, mac, 6);
  n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  n->output = etharp_output;
  n->linkoutput = linkoutput;
  return ERR_OK;
}

/* ---- the bench server (raw API; callbacks run with the core lock held) ---- */

enum { M_LINE, M_DISCARD, M_SOURCE, M_ECHO };
typedef struct {
  int mode;
  char line[24];
  unsigned len;
  uint64_t sent, total, got;
  uint32_t withhold; /* tcp_recved() credit still to withhold (--wnd) */
  uint32_t withheld; /* credit withheld so far: returned before closing */
  uint32_t snd_buf0; /* tcp_sndbuf() at accept: the whole send buffer */
} conn_t;

static void finish(struct tcp_pcb *pcb, conn_t *c) {
  /* tcp_close() sends RST when the application has not taken all received data (rcv_wnd below
   * its maximum): hand back what --wnd withheld first. */
  for (; c->withheld > 0; c->withheld -= c->withheld > 0xffff ? 0xffff : c->withheld)
    tcp_recved(pcb, (u16_t)(c->withheld > 0xffff ? 0xffff : c->withheld));
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);
  tcp_sent(pcb, NULL);
  tcp_err(pcb, NULL);
  free(c);
  if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
}

/* Queue pattern bytes while the send buffer takes them; close when all are queued. */
static err_t pump(struct tcp_pcb *pcb, conn_t *c) {
  while (c->sent < c->total) {
    uint32_t off = (uint32_t)(c->sent % PERIOD);
    uint32_t room = tcp_sndbuf(pcb);
    if (cap_snd) {
      uint32_t queued = c->snd_buf0 - room; /* unacknowledged + unsent */
      room = queued >= cap_snd ? 0 : (room < cap_snd - queued ? room : cap_snd - queued);
    }
    uint64_t n = c->total - c->sent;
    if (n > PATTERN_LEN) n = PATTERN_LEN;
    if (n > room) n = room;
    if (n > 0xffff) n = 0xffff;
    if (n == 0) break;
    /* Copy into lwIP's own buffers, as wasmip copies into its ring. */
    err_t e = tcp_write(pcb, pattern + off, (u16_t)n, TCP_WRITE_FLAG_COPY | (c->sent + n < c->total ? TCP_WRITE_FLAG_MORE : 0));
    if (e == ERR_MEM) break;
    if (e != ERR_OK) return e;
    c->sent += n;
  }
  tcp_output(pcb);
  if (c->sent == c->total) finish(pcb, c);
  return ERR_OK;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
  (void)len;
  conn_t *c = arg;
  if (c && c->mode == M_SOURCE) return pump(pcb, c);
  return ERR_OK;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  conn_t *c = arg;
  if (!c) {
    if (p) pbuf_free(p);
    return ERR_OK;
  }
  if (!p || err != ERR_OK) {
    if (p) pbuf_free(p);
    if (c->mode != M_SOURCE) finish(pcb, c);
    return ERR_OK;
  }
  uint32_t credit = p->tot_len, keep = credit < c->withhold ? credit : c->withhold;
  c->withhold -= keep;
  c->withheld += keep;
  if (credit > keep) {
    tcp_recved(pcb, (u16_t)(credit - keep));
    /* lwIP built with TCP_WND = cap would send a window update once the right edge can move by
     * TCP_WND_UPDATE_THRESHOLD = min(TCP_WND / 4, 4 * TCP_MSS) (lwip/opt.h); this build's own
     * threshold is for its TCP_WND, which a capped window never reaches: apply the cap's. */
    if (cap_wnd) {
      uint32_t thr = cap_wnd / 4 < 4u * TCP_MSS ? cap_wnd / 4 : 4u * TCP_MSS;
      if ((int32_t)(pcb->rcv_nxt + pcb->rcv_wnd - pcb->rcv_ann_right_edge) >= (int32_t)thr) {
        tcp_set_flags(pcb, TF_ACK_NOW); /* tcp_ack_now() of lwip/priv/tcp_priv.h */
        tcp_output(pcb);
      }
    }
  }
  uint16_t off = 0;
  if (c->mode == M_LINE) {
    while (off < p->tot_len) {
      char ch = (char)pbuf_get_at(p, off++);
      if (ch == '\n') {
        c->line[c->len] = 0;
        if (!strcmp(c->line, "D")) c->mode = M_DISCARD;
        else if (!strcmp(c->line, "E")) {
          c->mode = M_ECHO;
          tcp_nagle_disable(pcb);
        } else if (c->line[0] == 'S' && c->line[1] == ' ') {
          c->mode = M_SOURCE;
          c->total = strtoull(c->line + 2, NULL, 10);
        } else {
          pbuf_free(p);
          finish(pcb, c);
          return ERR_OK;
        }
        break;
      }
      if (c->len + 1 >= sizeof c->line) {
        pbuf_free(p);
        tcp_arg(pcb, NULL);
        free(c);
        tcp_abort(pcb);
        return ERR_ABRT;
      }
      c->line[c->len++] = ch;
    }
  }
  if (c->mode == M_DISCARD) {
    c->got += (uint64_t)(p->tot_len - off);
  } else if (c->mode == M_ECHO && off < p->tot_len) {
    for (struct pbuf *q = p; q; q = q->next) {
      /* Skip the command line's bytes in the first pbufs. */
      uint16_t skip = off < q->len ? off : q->len;
      off -= skip;
      if (q->len > skip) tcp_write(pcb, (uint8_t *)q->payload + skip, (u16_t)(q->len - skip), TCP_WRITE_FLAG_COPY);
    }
    tcp_output(pcb);
  } else if (c->mode == M_SOURCE && c->sent == 0) {
    pbuf_free(p);
    return pump(pcb, c);
  }
  pbuf_free(p);
  return ERR_OK;
}

static void on_err(void *arg, err_t err) {
  (void)err;
  free(arg); /* the pcb is already gone */
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  (void)arg;
  if (err != ERR_OK || !pcb) return ERR_VAL;
  conn_t *c = calloc(1, sizeof *c);
  if (!c) return ERR_MEM;
  c->snd_buf0 = tcp_sndbuf(pcb);
  if (cap_wnd && pcb->rcv_wnd > cap_wnd) c->withhold = pcb->rcv_wnd - cap_wnd;
  if (!first.seen) {
    first.seen = 1;
    first.rcv_wnd = pcb->rcv_wnd;
    first.rcv_ann_wnd = pcb->rcv_ann_wnd;
    first.snd_buf = tcp_sndbuf(pcb);
    first.mss = pcb->mss;
#if LWIP_WND_SCALE
    first.rcv_scale = pcb->rcv_scale;
    first.snd_scale = pcb->snd_scale;
#endif
    first.withheld = c->withhold;
  }
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_sent(pcb, on_sent);
  tcp_err(pcb, on_err);
  return ERR_OK;
}

static void start_server(void) {
  struct tcp_pcb *l = tcp_new();
  if (!l || tcp_bind(l, IP_ADDR_ANY, PORT) != ERR_OK) {
    fprintf(stderr, "lwip-bench: bind %d failed\n", PORT);
    exit(1);
  }
  l = tcp_listen_with_backlog(l, 4);
  tcp_accept(l, on_accept);
}

/* ---- setup ---- */

static ip4_addr_t ip, mask, gw;

/* --info: a fresh pcb's window and send buffer, as the library (not the header) sets them. */
static volatile int info_done;
static uint32_t info_rcv_wnd, info_snd_buf;
static void info_probe(void *arg) {
  (void)arg;
  struct tcp_pcb *p = tcp_new();
  if (p) {
    info_rcv_wnd = p->rcv_wnd;
    info_snd_buf = tcp_sndbuf(p);
    tcp_abort(p);
  }
  info_done = 1;
}

static void tcpip_ready(void *arg) {
  (void)arg;
  netif_add(&nif, &ip, &mask, &gw, NULL, nif_init, ethernet_input);
  netif_set_default(&nif);
  netif_set_up(&nif);
  start_server();
  up = 1;
}

static int open_tap(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    perror("lwip-bench: /dev/net/tun");
    return -1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    perror("lwip-bench: TUNSETIFF");
    close(fd);
    return -1;
  }
  return fd;
}

static void on_signal(int s) {
  (void)s;
  stop = 1;
}

static int parse_cidr(const char *s, ip4_addr_t *a, ip4_addr_t *m) {
  char tmp[32];
  const char *slash = strchr(s, '/');
  if (!slash || (size_t)(slash - s) >= sizeof tmp) return -1;
  memcpy(tmp, s, (size_t)(slash - s));
  tmp[slash - s] = 0;
  int len = atoi(slash + 1);
  if (!ip4addr_aton(tmp, a) || len < 1 || len > 32) return -1;
  ip4_addr_set_u32(m, lwip_htonl(len == 32 ? 0xffffffffu : ~(0xffffffffu >> len)));
  return 0;
}

int main(int argc, char **argv) {
  const char *tap = NULL, *cidr = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--info")) {
      tcpip_init(info_probe, NULL);
      while (!info_done) usleep(1000);
      printf("{\"lwip\":\"%s\",\"header\":\"/usr/include/lwip/lwipopts.h + lwip/opt.h\",\"TCP_MSS\":%d,\"TCP_WND\":%d,\"TCP_SND_BUF\":%d,"
             "\"LWIP_WND_SCALE\":%d,\"TCP_RCV_SCALE\":%d,\"TCP_SND_QUEUELEN\":%d,\"TCP_WND_UPDATE_THRESHOLD\":%d,\"TCP_OVERSIZE\":%d,"
             "\"TCP_QUEUE_OOSEQ\":%d,\"LWIP_TCP_SACK_OUT\":%d,\"NO_SYS\":%d,\"LWIP_TCPIP_CORE_LOCKING\":%d,\"LWIP_CHECKSUM_ON_COPY\":%d,"
             "\"MEM_LIBC_MALLOC\":%d,\"new_pcb_rcv_wnd\":%u,\"new_pcb_snd_buf\":%u}\n",
             LWIP_VERSION_STRING, TCP_MSS, TCP_WND, TCP_SND_BUF, LWIP_WND_SCALE, TCP_RCV_SCALE, (int)TCP_SND_QUEUELEN,
             (int)TCP_WND_UPDATE_THRESHOLD, (int)TCP_OVERSIZE, TCP_QUEUE_OOSEQ, LWIP_TCP_SACK_OUT, NO_SYS, LWIP_TCPIP_CORE_LOCKING,
             LWIP_CHECKSUM_ON_COPY, MEM_LIBC_MALLOC, info_rcv_wnd, info_snd_buf);
      return 0;
    }
    if (i + 1 >= argc) break;
    if (!strcmp(argv[i], "--tap")) tap = argv[++i];
    else if (!strcmp(argv[i], "--ip")) cidr = argv[++i];
    else if (!strcmp(argv[i], "--wnd")) cap_wnd = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--snd-buf")) cap_snd = (uint32_t)strtoul(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--mac")) {
      unsigned m[6];
      if (sscanf(argv[++i], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) return 2;
      for (int k = 0; k < 6; k++) mac[k] = (uint8_t)m[k];
    }
  }
  if (!tap || !cidr || parse_cidr(cidr, &ip, &mask)) {
    fprintf(stderr, "usage: lwip-bench --tap IFNAME --ip A.B.C.D/len [--mac MAC] [--wnd N] [--snd-buf N] | --info\n");
    return 2;
  }
  ip4_addr_set_zero(&gw);
  for (uint32_t i = 0; i < sizeof pattern; i++) pattern[i] = (uint8_t)(i % PERIOD);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  tap_fd = open_tap(tap);
  if (tap_fd < 0) return 1;
  int fl = fcntl(tap_fd, F_GETFL);
  if (fl < 0 || fcntl(tap_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    perror("lwip-bench: O_NONBLOCK");
    return 1;
  }
  tcpip_init(tcpip_ready, NULL);
  while (!up) usleep(1000);
  printf("ready\n");
  fflush(stdout);
  static uint8_t frame[2048];
  while (!stop) {
    ssize_t n = read(tap_fd, frame, sizeof frame);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        perror("lwip-bench: read tap");
        break;
      }
      /* Empty: sleep until a frame (the tcpip thread runs lwIP's timers meanwhile). */
      struct pollfd pf = {.fd = tap_fd, .events = POLLIN};
      poll(&pf, 1, 100);
      continue;
    }
    frames_in++;
    /* PBUF_RAM, not PBUF_POOL: Debian's build hands out 616-byte pool blocks and pbuf_take()
     * wrote a full-sized frame past their end (found with valgrind memcheck). */
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
    if (!p) continue;
    pbuf_take(p, frame, (u16_t)n);
    LOCK_TCPIP_CORE();
    if (nif.input(p, &nif) != ERR_OK) pbuf_free(p);
    UNLOCK_TCPIP_CORE();
  }
  LOCK_TCPIP_CORE();
  printf("{\"wnd_cap\":%u,\"snd_buf_cap\":%u,\"accepted\":%d,\"at_accept\":{\"rcv_wnd\":%u,\"rcv_ann_wnd\":%u,\"snd_buf\":%u,\"mss\":%u,"
         "\"rcv_scale\":%u,\"snd_scale\":%u,\"withheld\":%u},\"frames_in\":%llu,\"frames_out\":%llu}\n",
         cap_wnd, cap_snd, first.seen, first.rcv_wnd, first.rcv_ann_wnd, first.snd_buf, first.mss, first.rcv_scale, first.snd_scale,
         first.withheld, (unsigned long long)frames_in, (unsigned long long)frames_out);
  fflush(stdout);
  UNLOCK_TCPIP_CORE();
  return 0;
}
