// Zero-window probing (RFC 9293 §3.8.6.1) and its limits: kept for ever while answered, ended
// after TCP_MAX_RETRIES unanswered probes, and after TCP_MAX_RETRIES probes in all once the
// application has closed.
import { ACK } from "../wire/tcp";
import { tcpClose, tcpRecv, tcpSend, tcpState, tcpTableRow } from "../api/tcp";
import { ETIMEDOUT } from "../support/errors";
import { CLOSED, ESTABLISHED } from "../sockets/tcp/pcb";
import { TCP_MAX_RETRIES, TCP_MAX_SOCKETS, TCP_PERSIST_MAX_MS } from "../config";
import { tcpCheck } from "../sockets/tcp/check";
import { C, acceptOne, acceptedIss, advance, clearSent, seg, sentCount } from "../testing";
import { ctr } from "../testing";

const buf = heap.alloc(4096);
const PISN: u32 = 7000000;
const row = heap.alloc(28);

function blocksUsed(): i32 {
  let n = 0;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) if (tcpTableRow(<u32>i, row)) n++;
  return n;
}

/** An accepted connection with 100 bytes queued behind the peer's zero window. */
function behindZeroWindow(): i32 {
  const fd = acceptOne(PISN);
  seg(ACK, PISN + 1, acceptedIss + 1, 0, 0);
  expect(tcpSend(fd, buf, 100)).toBe(100);
  clearSent();
  return fd;
}

describe("zero-window probes", () => {
  it("keeps a connection whose peer answers its probes, however long", () => {
    const fd = behindZeroWindow();
    for (let k: u32 = 0; k < 3 * TCP_MAX_RETRIES; k++) {
      advance(TCP_PERSIST_MAX_MS);
      seg(ACK, PISN + 1, acceptedIss + 1, 0, 0); // the answer: still closed
    }
    expect(ctr(C.TCP_WINDOW_PROBES)).toBeGreaterThanOrEqual(3 * TCP_MAX_RETRIES);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(tcpCheck()).toBe(0);
  });

  it("gives up with ETIMEDOUT and a RST after TCP_MAX_RETRIES unanswered probes (the peer vanished)", () => {
    const fd = behindZeroWindow();
    const rsts = ctr(C.TCP_RST_SENT);
    let probes = 0;
    for (let k: u32 = 0; k <= TCP_MAX_RETRIES + 1 && tcpState(fd) == ESTABLISHED; k++) {
      clearSent();
      advance(TCP_PERSIST_MAX_MS);
      if (tcpState(fd) == ESTABLISHED) probes++;
    }
    expect(probes).toBe(<i32>TCP_MAX_RETRIES);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(ctr(C.TCP_RST_SENT)).toBe(rsts + 1); // (queued behind ARP by now: the entry has expired)
    expect(tcpRecv(fd, buf, 10)).toBe(ETIMEDOUT);
    expect(tcpCheck()).toBe(0);
  });

  it("frees a closed connection stuck behind an answered zero window after TCP_MAX_RETRIES probes", () => {
    const fd = behindZeroWindow();
    const used = blocksUsed();
    expect(tcpClose(fd)).toBe(0); // the FIN waits behind the 100 bytes
    let k: u32 = 0;
    for (; k < 3 * TCP_MAX_RETRIES && blocksUsed() == used; k++) {
      advance(TCP_PERSIST_MAX_MS);
      if (blocksUsed() == used) seg(ACK, PISN + 1, acceptedIss + 1, 0, 0);
    }
    expect(blocksUsed()).toBe(used - 1, "the block is free");
    expect(k).toBe(TCP_MAX_RETRIES + 1);
    expect(sentCount()).toBeGreaterThanOrEqual(1);
    expect(ctr(C.TCP_TIMEOUTS)).toBeGreaterThanOrEqual(1);
    expect(tcpCheck()).toBe(0);
  });
});
