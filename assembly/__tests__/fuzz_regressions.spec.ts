// Regressions found by the fuzz targets (fuzz/; the crashing inputs are kept in fuzz/regressions/
// and replayed by make test too). Each test is the smallest scripted form of one crash.
import { SYN, ACK, FIN } from "../wire/tcp";
import { tcpBind, tcpListen, tcpSocket, tcpTableRow } from "../api/tcp";
import { TCP_MAX_SOCKETS } from "../config";
import { tcpCheck } from "../sockets/tcp/check";
import { C, OUR_PORT, PEER_PORT, clearSent, seg, sentCount, tcpUp } from "../testing";
import { ctr } from "../testing";

const row = heap.alloc(28);

function listening(): i32 {
  tcpUp();
  const l = tcpSocket();
  tcpBind(l, OUR_PORT);
  tcpListen(l, 5);
  clearSent();
  return l;
}

/** Blocks in use, from the connection table. */
function blocksUsed(): i32 {
  let n = 0;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) if (tcpTableRow(<u32>i, row)) n++;
  return n;
}

describe("fuzz regressions", () => {
  // listen target, debug_check TCP_NO_ENDPOINT: a SYN (with FIN) from source port 0 made a child
  // connection with remote port 0, which the socket layer reads as "not connected".
  it("drops segments from or to port 0 without a reply or a block (tcp_bad_endpoint)", () => {
    listening();
    const before = blocksUsed();
    expect(seg(SYN, 1000, 0, 0, 65535, 1460, -1, 0, OUR_PORT)).toBe(C.TCP_BAD_ENDPOINT);
    expect(seg(SYN | FIN, 1000, 0, 0, 65535, 1460, -1, 0, OUR_PORT)).toBe(C.TCP_BAD_ENDPOINT);
    expect(seg(ACK, 1000, 5, 0, 65535, 0, -1, PEER_PORT, 0)).toBe(C.TCP_BAD_ENDPOINT);
    expect(sentCount()).toBe(0, "no SYN-ACK and no RST");
    expect(blocksUsed()).toBe(before);
    expect(ctr(C.TCP_BAD_ENDPOINT)).toBe(3);
    expect(tcpCheck()).toBe(0);
  });
});
