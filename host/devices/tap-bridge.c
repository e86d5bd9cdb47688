/*
 * tap-bridge IFNAME - relay Ethernet frames between a Linux TAP device and stdin/stdout.
 *
 * Opens /dev/net/tun with TUNSETIFF (IFF_TAP | IFF_NO_PI) on IFNAME: an existing persistent tap
 * (`ip tuntap add dev IFNAME mode tap`) is attached, otherwise a tap is created and disappears
 * when this process exits. Run it inside the namespace that holds the tap:
 *     ip netns exec NS build/tap-bridge tap0
 *
 * Wire format on both pipes: per frame, a 2-byte big-endian length then the frame (Ethernet II,
 * destination MAC first, no FCS).
 *   stdin  -> written to the tap (the kernel receives it)
 *   stdout <- every frame the kernel transmits on the tap
 * Once the tap is attached, "tap-bridge: attached IFNAME" is written to stderr (one line), so a
 * parent can wait for it. Exits 0 when stdin reaches end of file, 1 on errors (stdout closed
 * included). A frame of length 0 on stdin is ignored.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define FRAME_MAX 65535u
#define IN_BUF (2u * (FRAME_MAX + 2u))
/* Frames from the tap are gathered and written to stdout together (one pipe write per batch,
 * not per frame): at most OUT_BATCH frames or until the next might not fit. */
#define OUT_BATCH 64
#define OUT_BUF (64u * 1024u + FRAME_MAX + 2u)

static int open_tap(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "tap-bridge: open /dev/net/tun: %s\n", strerror(errno));
    return -1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "tap-bridge: TUNSETIFF %s: %s\n", name, strerror(errno));
    close(fd);
    return -1;
  }
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
    fprintf(stderr, "tap-bridge: O_NONBLOCK: %s\n", strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

/* Write all of buf to fd (a blocking pipe). Returns 0, or -1 on error. */
static int write_all(int fd, const uint8_t *buf, size_t len) {
  while (len > 0) {
    ssize_t n = write(fd, buf, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    buf += n;
    len -= (size_t)n;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '\0' || strlen(argv[1]) >= IFNAMSIZ) {
    fprintf(stderr, "usage: tap-bridge IFNAME   (frames on stdin/stdout, 2-byte big-endian length prefix)\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN); /* a closed stdout shows up as EPIPE from write() */

  int tap = open_tap(argv[1]);
  if (tap < 0) return 1;
  fprintf(stderr, "tap-bridge: attached %s\n", argv[1]);
  fflush(stderr);

  static uint8_t inbuf[IN_BUF];  /* bytes read from stdin, not yet a whole frame */
  static uint8_t outbuf[OUT_BUF];
  size_t have = 0;
  unsigned long tap_write_errors = 0;

  struct pollfd pfd[2] = {
      {.fd = STDIN_FILENO, .events = POLLIN},
      {.fd = tap, .events = POLLIN},
  };
  for (;;) {
    int r = poll(pfd, 2, -1);
    if (r < 0) {
      if (errno == EINTR) continue;
      fprintf(stderr, "tap-bridge: poll: %s\n", strerror(errno));
      return 1;
    }

    /* kernel -> stdout: drain everything queued on the tap. */
    if (pfd[1].revents & (POLLERR | POLLNVAL)) {
      fprintf(stderr, "tap-bridge: tap error\n");
      return 1;
    }
    if (pfd[1].revents & POLLIN) {
      size_t used = 0;
      for (int i = 0; i < OUT_BATCH && used + FRAME_MAX + 2u <= sizeof outbuf; i++) {
        ssize_t n = read(tap, outbuf + used + 2, FRAME_MAX);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) break;
          fprintf(stderr, "tap-bridge: read tap: %s\n", strerror(errno));
          return 1;
        }
        if (n == 0) break;
        outbuf[used] = (uint8_t)(n >> 8);
        outbuf[used + 1] = (uint8_t)n;
        used += (size_t)n + 2;
      }
      if (used > 0 && write_all(STDOUT_FILENO, outbuf, used) < 0) {
        fprintf(stderr, "tap-bridge: write stdout: %s\n", strerror(errno));
        return 1;
      }
    }

    /* stdin -> kernel. */
    if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(STDIN_FILENO, inbuf + have, sizeof inbuf - have);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        fprintf(stderr, "tap-bridge: read stdin: %s\n", strerror(errno));
        return 1;
      }
      if (n == 0) {
        if (have != 0) fprintf(stderr, "tap-bridge: stdin closed inside a frame (%zu bytes dropped)\n", have);
        if (tap_write_errors) fprintf(stderr, "tap-bridge: %lu frames the tap refused\n", tap_write_errors);
        close(tap);
        return 0;
      }
      have += (size_t)n;
      size_t off = 0;
      while (have - off >= 2) {
        size_t len = ((size_t)inbuf[off] << 8) | inbuf[off + 1];
        if (have - off < 2 + len) break;
        if (len > 0) {
          ssize_t w;
          do w = write(tap, inbuf + off + 2, len);
          while (w < 0 && errno == EINTR);
          /* The tap may refuse a frame (link down, no buffer): the wire loses it, as a wire would. */
          if (w < 0) {
            if (tap_write_errors++ == 0) fprintf(stderr, "tap-bridge: write tap: %s\n", strerror(errno));
          }
        }
        off += 2 + len;
      }
      if (off > 0) {
        memmove(inbuf, inbuf + off, have - off);
        have -= off;
      }
    }
  }
}
