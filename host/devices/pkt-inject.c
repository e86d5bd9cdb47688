/*
 * pkt-inject: sends crafted Ethernet frames out of one interface, from the kernel's side of it.
 *
 *   pkt-inject IFNAME [RATE]
 *
 * Reads frames from stdin, each preceded by a 2-byte big-endian length (as tap-bridge writes
 * them), and sends each as is on an AF_PACKET socket bound to IFNAME, at most RATE frames a
 * second (0 or absent: as fast as the socket takes them). Only as many frames as it is given,
 * and only on that interface: the hostile-traffic tests run it inside the network namespace they
 * created, on the tap of the board under test. Prints "pkt-inject: ready" on stderr once bound,
 * and "pkt-inject: sent N, failed M" when stdin ends; exits 0, or 1 on a setup error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int read_full(unsigned char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(0, buf + got, n - got);
    if (r == 0) return 0;
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    got += (size_t)r;
  }
  return 1;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: pkt-inject IFNAME [RATE]\n");
    return 1;
  }
  double rate = argc == 3 ? atof(argv[2]) : 0;
  unsigned idx = if_nametoindex(argv[1]);
  if (idx == 0) {
    fprintf(stderr, "pkt-inject: no interface %s\n", argv[1]);
    return 1;
  }
  int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  if (fd < 0) {
    perror("pkt-inject: socket(AF_PACKET)");
    return 1;
  }
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = (int)idx;
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    perror("pkt-inject: bind");
    return 1;
  }
  fprintf(stderr, "pkt-inject: ready\n");
  static unsigned char buf[65536];
  unsigned long sent = 0, failed = 0;
  double t0 = now_s();
  for (;;) {
    unsigned char h[2];
    int r = read_full(h, 2);
    if (r <= 0) break;
    size_t len = (size_t)h[0] << 8 | h[1];
    if (read_full(buf, len) <= 0) break;
    if (rate > 0) {
      double due = t0 + (double)(sent + failed) / rate;
      double wait = due - now_s();
      if (wait > 0) {
        struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
    if (send(fd, buf, len, 0) == (ssize_t)len) sent++;
    else failed++;
  }
  fprintf(stderr, "pkt-inject: sent %lu, failed %lu\n", sent, failed);
  close(fd);
  return 0;
}
