/*
 * bench/c/peer.c - the Linux kernel side of `make bench` (bench/README.md): a client, and a server
 * for the veth ceiling, speaking the bench protocol of assembly/apps/bench.ts over kernel sockets.
 * Run inside a namespace the bench created (ip netns exec).
 *
 *   peer server PORT                         serve the bench protocol, one connection at a time
 *   peer send HOST PORT BYTES                "D\n" + BYTES of the pattern, wait for the close
 *   peer recv HOST PORT BYTES [LOCALPORT]    "S BYTES\n", read to EOF, check count and pattern
 *   peer rr HOST PORT COUNT                  "E\n", then COUNT one-byte round trips
 *   peer cps HOST PORT COUNT                 COUNT times: connect, shutdown, wait for EOF, close
 *
 * Options before the mode clamp every socket to a small stack's buffers (make bench's loss step,
 * bench/lossy.ts): -w BYTES sets TCP_WINDOW_CLAMP (the largest window it advertises), -b BYTES
 * SO_SNDBUF (which the kernel doubles for its bookkeeping: it bounds unsent + unacknowledged data
 * counted with per-segment overhead), -c NAME the congestion control (TCP_CONGESTION). The server
 * sets them on the listening socket (the SYN-ACK's window) and again on each accepted one.
 * -t SECONDS bounds a send or recv by time instead: send writes until then (BYTES is a cap), shuts
 * down and waits for the close as usual; recv reads until then and closes (the server sees a
 * reset). Then "done"/"bytes" are what moved and "seconds" the time taken.
 *
 * A client prints one JSON object: what it moved, wall seconds (CLOCK_MONOTONIC, from before
 * connect to the end), and its own CPU time (schedstat ns, and getrusage user/sys). Every socket
 * has 30 s send/receive timeouts, so a dead peer ends the run with an error instead of a hang.
 * Byte k of a stream is k mod 251, as in the bench app.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PERIOD 251u
#define CHUNK (64u * 1024u)

static uint8_t pattern[CHUNK + PERIOD]; /* pattern[i] = i mod 251 */
static uint8_t buf[CHUNK];

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* CPU time of this (single-threaded) process in seconds: schedstat's on-CPU ns. */
static double cpu_s(void) {
  FILE *f = fopen("/proc/self/schedstat", "r");
  unsigned long long ns = 0;
  if (f) {
    if (fscanf(f, "%llu", &ns) != 1) ns = 0;
    fclose(f);
  }
  return (double)ns / 1e9;
}

static void rusage_s(double *user, double *sys) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
  *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int clamp_wnd, clamp_snd; /* -w, -b; 0: the kernel's defaults */
static const char *cong;          /* -c; NULL: the namespace's default */
static double deadline;           /* -t, as a CLOCK_MONOTONIC time; 0: none */

/* The clamp alone does not hold: receive-buffer autotuning raises window_clamp along with the
 * buffer (tcp_rcv_space_adjust) unless SO_RCVBUF is set, so -w also sets SO_RCVBUF to twice the
 * window (the kernel doubles it again; about half of that is window), enough not to be the limit. */
static int clamp(int fd) {
  int rcv = 2 * clamp_wnd;
  if (clamp_snd && setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &clamp_snd, sizeof clamp_snd) < 0) return -1;
  if (clamp_wnd && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv) < 0) return -1;
  if (clamp_wnd && setsockopt(fd, IPPROTO_TCP, TCP_WINDOW_CLAMP, &clamp_wnd, sizeof clamp_wnd) < 0) return -1;
  if (cong && setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cong, (socklen_t)strlen(cong)) < 0) return -1;
  return 0;
}

/* 30 s, or 20 ms while a deadline runs, so that a stalled connection cannot block past it. */
static void timeouts(int fd, int short_ones) {
  struct timeval tv = {short_ones ? 0 : 30, short_ones ? 20000 : 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

static int write_all(int fd, const uint8_t *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

/* lport: bind to this local port first (0: the kernel picks an ephemeral one). */
static int dial(const char *host, int port, int lport) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
    fprintf(stderr, "peer: bad address %s\n", host);
    return -1;
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeouts(fd, 0);
  if (clamp(fd) < 0) {
    close(fd);
    return -1;
  }
  if (lport) {
    struct sockaddr_in l;
    memset(&l, 0, sizeof l);
    l.sin_family = AF_INET;
    l.sin_port = htons((uint16_t)lport);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&l, sizeof l) < 0) {
      close(fd);
      return -1;
    }
  }
  if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int past_deadline(int err) {
  return (err == EAGAIN || err == EWOULDBLOCK) && deadline > 0 && now_s() >= deadline;
}

/* Send bytes [0, total) of the pattern, or as many as the deadline allows; *sent: how many. */
static int send_pattern(int fd, uint64_t total, uint64_t *sent) {
  *sent = 0;
  while (*sent < total) {
    uint32_t off = (uint32_t)(*sent % PERIOD);
    uint64_t n = total - *sent < CHUNK ? total - *sent : CHUNK;
    ssize_t w = write(fd, pattern + off, (size_t)n);
    if (w < 0) {
      if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) && !past_deadline(errno))) continue;
      return past_deadline(errno) ? 0 : -1;
    }
    *sent += (uint64_t)w;
    if (deadline > 0 && now_s() >= deadline) return 0;
  }
  return 0;
}

/* Read to EOF (0), or to the deadline (1); count bytes and (check) pattern mismatches from stream
 * offset 0. */
static int read_to_eof(int fd, uint64_t *got, uint64_t *bad, int check) {
  for (;;) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r < 0) {
      if (errno == EINTR || ((errno == EAGAIN || errno == EWOULDBLOCK) && !past_deadline(errno))) continue;
      return past_deadline(errno) ? 1 : -1;
    }
    if (r == 0) return 0;
    if (check) {
      uint32_t off = (uint32_t)(*got % PERIOD);
      if (memcmp(buf, pattern + off, (size_t)r) != 0)
        for (ssize_t i = 0; i < r; i++)
          if (buf[i] != (uint8_t)((*got + (uint64_t)i) % PERIOD)) (*bad)++;
    }
    *got += (uint64_t)r;
    if (deadline > 0 && now_s() >= deadline) return 1;
  }
}

/* The kernel's view of a bulk connection at its end (its retransmissions, what was negotiated). */
static int tcp_info_of(int fd, struct tcp_info *ti) {
  socklen_t len = sizeof *ti;
  memset(ti, 0, sizeof *ti);
  return getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len) == 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ---- the server (veth ceiling) ---- */

static void serve_one(int c) {
  char line[32];
  size_t len = 0;
  for (;;) {
    ssize_t r = read(c, line + len, 1);
    if (r <= 0) return; /* EOF first: a bare connect/close */
    if (line[len] == '\n') break;
    if (++len >= sizeof line - 1) return;
  }
  line[len] = 0;
  if (!strcmp(line, "D")) {
    uint64_t got = 0, bad = 0;
    read_to_eof(c, &got, &bad, 0);
  } else if (line[0] == 'S' && line[1] == ' ') {
    uint64_t n = strtoull(line + 2, NULL, 10), sent;
    send_pattern(c, n, &sent);
  } else if (!strcmp(line, "E")) {
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
      ssize_t r = read(c, buf, sizeof buf);
      if (r <= 0) return;
      if (write_all(c, buf, (size_t)r) < 0) return;
    }
  }
}

static int server(int port) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (clamp(s) < 0) {
    perror("peer: clamp");
    return 1;
  }
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 16) < 0) {
    perror("peer: bind/listen");
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    timeouts(c, 0);
    clamp(c); /* again: an accepted socket does not keep the listener's window clamp here */
    serve_one(c);
    close(c);
  }
}

/* ---- the clients ---- */

int main(int argc, char **argv) {
  signal(SIGPIPE, SIG_IGN);
  for (uint32_t i = 0; i < sizeof pattern; i++) pattern[i] = (uint8_t)(i % PERIOD);
  int opt;
  double limit = 0;
  while ((opt = getopt(argc, argv, "+w:b:c:t:")) != -1) {
    if (opt == 't') limit = atof(optarg);
    else if (opt == 'w') clamp_wnd = atoi(optarg);
    else if (opt == 'b') clamp_snd = atoi(optarg);
    else if (opt == 'c') cong = optarg;
    else return 2;
  }
  argc -= optind - 1;
  argv += optind - 1;
  if (argc == 3 && !strcmp(argv[1], "server")) return server(atoi(argv[2]));
  if (argc != 5 && !(argc == 6 && !strcmp(argv[1], "recv"))) {
    fprintf(stderr, "usage: peer [-w WND] [-b SNDBUF] [-c CONG] [-t SECONDS] server PORT | send|recv|rr|cps HOST PORT N | recv HOST PORT N LOCALPORT\n");
    return 2;
  }
  const char *mode = argv[1], *host = argv[2];
  int port = atoi(argv[3]);
  uint64_t n = strtoull(argv[4], NULL, 10);
  double c0 = cpu_s(), u0, s0, u1, s1;
  rusage_s(&u0, &s0);
  double t0 = now_s();
  if (limit > 0) deadline = t0 + limit;
  uint64_t got = 0, bad = 0, done = 0;
  int ok = 0;
  const char *err = "";
  double *lat = NULL;
  struct tcp_info ti;
  int have_ti = 0;
  if (!strcmp(mode, "send") || !strcmp(mode, "recv")) {
    int fd = dial(host, port, argc == 6 ? atoi(argv[5]) : 0);
    if (fd < 0) {
      err = strerror(errno);
    } else if (!strcmp(mode, "send")) {
      uint64_t sent = 0;
      if (write_all(fd, (const uint8_t *)"D\n", 2) < 0) err = "write";
      else {
        if (deadline > 0) timeouts(fd, 1);
        int w = send_pattern(fd, n, &sent);
        deadline = 0; /* the close is waited for as without one */
        timeouts(fd, 0);
        if (w < 0) err = "write";
        else if (shutdown(fd, SHUT_WR) < 0 || read_to_eof(fd, &got, &bad, 0) < 0) err = "waiting for the close";
        else {
          done = sent;
          ok = got == 0;
          if (!ok) err = "the server sent data";
        }
      }
      have_ti = tcp_info_of(fd, &ti);
      close(fd);
    } else {
      char line[32];
      int l = snprintf(line, sizeof line, "S %llu\n", (unsigned long long)n);
      if (write_all(fd, (const uint8_t *)line, (size_t)l) < 0) err = "write";
      else {
        if (deadline > 0) timeouts(fd, 1);
        int r = read_to_eof(fd, &got, &bad, 1); /* 1: stopped by the deadline */
        if (r < 0) err = "read";
        else {
          done = got;
          ok = (got == n || r == 1) && bad == 0;
          if (!ok) err = got != n ? "short stream" : "pattern mismatch";
        }
      }
      have_ti = tcp_info_of(fd, &ti);
      close(fd);
    }
  } else if (!strcmp(mode, "rr")) {
    lat = calloc(n ? n : 1, sizeof *lat);
    int fd = dial(host, port, 0);
    if (fd < 0) {
      err = strerror(errno);
    } else {
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (write_all(fd, (const uint8_t *)"E\n", 2) < 0) err = "write";
      else {
        ok = 1;
        for (uint64_t i = 0; i < n; i++) {
          uint8_t b = (uint8_t)i, back;
          double a = now_s();
          if (write(fd, &b, 1) != 1 || read(fd, &back, 1) != 1 || back != b) {
            ok = 0;
            err = "round trip failed";
            break;
          }
          lat[i] = now_s() - a;
          done++;
        }
        shutdown(fd, SHUT_WR);
        uint64_t extra = 0;
        if (ok && read_to_eof(fd, &extra, &bad, 0) < 0) ok = 0, err = "waiting for the close";
      }
      close(fd);
    }
  } else if (!strcmp(mode, "cps")) {
    ok = 1;
    for (uint64_t i = 0; i < n; i++) {
      int fd = dial(host, port, 0);
      if (fd < 0) {
        ok = 0;
        err = strerror(errno);
        break;
      }
      uint64_t extra = 0;
      if (shutdown(fd, SHUT_WR) < 0 || read_to_eof(fd, &extra, &bad, 0) < 0 || extra != 0) {
        ok = 0;
        err = "teardown";
        close(fd);
        break;
      }
      close(fd);
      done++;
    }
  } else {
    fprintf(stderr, "peer: unknown mode %s\n", mode);
    return 2;
  }
  double t1 = now_s(), c1 = cpu_s();
  rusage_s(&u1, &s1);
  printf("{\"mode\":\"%s\",\"ok\":%s,\"error\":\"%s\",\"n\":%llu,\"done\":%llu,\"bytes\":%llu,\"mismatches\":%llu,\"seconds\":%.6f,"
         "\"cpu_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f",
         mode, ok ? "true" : "false", err, (unsigned long long)n, (unsigned long long)done, (unsigned long long)(strcmp(mode, "recv") ? done : got),
         (unsigned long long)bad, t1 - t0, c1 - c0, u1 - u0, s1 - s0);
  if (have_ti)
    printf(",\"tcpi_total_retrans\":%u,\"tcpi_sack\":%d,\"tcpi_timestamps\":%d,\"tcpi_rcv_mss\":%u,\"tcpi_snd_mss\":%u", ti.tcpi_total_retrans,
           !!(ti.tcpi_options & TCPI_OPT_SACK), !!(ti.tcpi_options & TCPI_OPT_TIMESTAMPS), ti.tcpi_rcv_mss, ti.tcpi_snd_mss);
  if (lat && done > 0) {
    double sum = 0;
    for (uint64_t i = 0; i < done; i++) sum += lat[i];
    qsort(lat, done, sizeof *lat, cmp_double);
    printf(",\"rtt_mean_us\":%.3f,\"rtt_p50_us\":%.3f,\"rtt_p99_us\":%.3f,\"rtt_min_us\":%.3f", sum / (double)done * 1e6,
           lat[done / 2] * 1e6, lat[(done * 99) / 100 < done ? (done * 99) / 100 : done - 1] * 1e6, lat[0] * 1e6);
  }
  printf("}\n");
  return ok ? 0 : 1;
}
