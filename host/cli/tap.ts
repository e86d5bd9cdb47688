// `wasmip tap`: a Node board on a TAP device in a network namespace (devices/tap.ts) until a
// signal; the ping app and --dhcp (dnsmasq on the tap, then the board's DHCP client) run here.
// Meanwhile the board's status file is kept for `wasmip netstat` (devices/status.ts).
import { parseCidr } from "../board/address.ts";
import { appWasm, type LogLevel } from "../board/board.ts";
import { dhcpRelease, dhcpStart, dhcpStatus } from "../board/dhcp.ts";
import { netnsExists } from "../devices/netns.ts";
import { dhcpServer, type Dnsmasq } from "../devices/services/dnsmasq.ts";
import { STATUS_DIR, statusPath } from "../devices/status.ts";
import { DEFAULTS, TapSession } from "../devices/tap.ts";
import { appUsage } from "../board/apps.ts";
import { StopSignals, TAP_APPS, commandOptions, imageLabel, parseTapArgs, type TapArgs } from "./tap-options.ts";

const USAGE = `usage: wasmip tap [--netns NAME] [--board-ip A/len] [--peer-ip B/len] [--app NAME]
                 [--count N] [--pcap FILE] [--wasm FILE] [--mac MAC] [--tap IFNAME] [--log-level LEVEL]
                 [--loss P] [--seed N] [--dhcp] [--app-config KEY=VALUE ...]

Runs the wasmip core on a real TAP device in network namespace NAME (created if absent, and
then deleted on exit), with the kernel at the peer address as its peer. Prints "ready" once the
board answers a ping from the kernel, then runs until SIGINT/SIGTERM.
  --netns NAME       default ${DEFAULTS.netns}
  --board-ip A/len   the board's address, default ${DEFAULTS.boardIp}
  --peer-ip B/len    the kernel's address on the tap, default ${DEFAULTS.peerIp}
  --app NAME         the app; each runs its image, build/<app>.wasm (make build):
${appUsage(21, TAP_APPS)}
  --count N          echo requests the ping app sends (1..1000), default 4
  --pcap FILE        capture both directions to a pcap file
  --wasm FILE        the firmware image (yours: wasmip build), instead of the app's
  --loss P           drop this fraction of frames (0..1 or N%) in each direction, default 0
  --seed N           seed of the loss PRNG, default 1
  --mac MAC          the board's MAC, default ${DEFAULTS.mac}
  --tap IFNAME       the tap's name inside the namespace, default ${DEFAULTS.tap}
  --log-level SPEC   error|warn|info|debug: the board's log lines on stderr, default info; per
                     module too: info,dhcp=debug,arp=warn (eth arp ip icmp tcp udp dhcp dns app)
  --dhcp             boot the board with no address: dnsmasq (dnsmasq-base) runs in the namespace
                     on the tap (pool .100-.199 of the peer's subnet, router and DNS = the peer),
                     the board leases an address (prints "leased A/len ..."), then "ready";
                     DHCPRELEASE on exit
  --app-config K=V   a setting for the app (its app_config export), before "ready"; up to 8, in
                     order (the sensor: broker=HOST[:PORT] interval_ms=N keepalive=S name=NAME)

While running it keeps ${STATUS_DIR}/NAME.json (connection table, counters) for \`wasmip netstat\`.

Try it (another shell): ip netns exec ${DEFAULTS.netns} ping ${DEFAULTS.boardIp.split("/")[0]}
                       ip netns exec ${DEFAULTS.netns} curl http://${DEFAULTS.boardIp.split("/")[0]}/ (with --app http)`;

/** The ping app: the board pings the kernel `count` times, one a second, printing like ping(8). */
async function boardPings(session: TapSession, count: number, stopped: () => boolean): Promise<void> {
  const board = session.board!;
  const size = 56;
  let received = 0;
  console.log(`PING ${session.peerIp} from ${session.boardIp}: ${size} data bytes`);
  for (let seq = 1; seq <= count && !stopped() && !session.error; seq++) {
    const t0 = performance.now();
    try {
      board.ping(session.peerIp, seq, size);
      session.runner!.kick();
      let rtt = -1;
      while (rtt < 0 && performance.now() - t0 < 1000 && !stopped()) {
        await new Promise((r) => setTimeout(r, 5));
        rtt = board.pingRtt(seq);
      }
      if (rtt >= 0) {
        received++;
        console.log(`${size + 8} bytes from ${session.peerIp}: icmp_seq=${seq} time=${rtt} ms`);
      } else if (!stopped()) console.log(`no reply from ${session.peerIp}: icmp_seq=${seq}`);
    } catch (e) {
      console.log(`ping ${session.peerIp}: icmp_seq=${seq}: ${(e as Error).message}`);
    }
    const left = 1000 - (performance.now() - t0);
    if (seq < count && left > 0 && !stopped()) await new Promise((r) => setTimeout(r, left));
  }
  console.log(`--- ${session.peerIp}: ${received} of ${count} answered; the board keeps running (Ctrl-C stops) ---`);
}

/** --dhcp: dnsmasq on the tap, then the board's DHCP client; prints the lease. */
async function tapDhcp(session: TapSession, opts: TapArgs): Promise<Dnsmasq> {
  const peer = parseCidr(opts.peerIp);
  const server = dhcpServer(session, opts.tap, opts.peerIp);
  try {
    await server.ready();
    const t0 = performance.now();
    dhcpStart(session.board!, "wasmip-board");
    const st = await session.waitLease(60_000);
    const c = session.board!.counters();
    console.log(
      `leased ${st.address}/${peer.prefix} gw ${st.router} dns ${st.dns.join(",") || "-"} from ${st.server}, lease ${st.leaseRemaining} s ` +
        `(${(performance.now() - t0).toFixed(0)} ms, ${c.dhcp_discovers_sent} DISCOVER, ${c.dhcp_requests_sent} REQUEST)`,
    );
  } catch (e) {
    await server.stop().catch(() => {});
    throw e;
  }
  return server;
}

export async function tapCommand(args: string[]): Promise<number> {
  const parsed = commandOptions("tap", USAGE, () => parseTapArgs(args));
  if (typeof parsed === "number") return parsed;
  const opts = parsed;

  // The core filters by level, per module (--log-level).
  const log = (level: LogLevel, msg: string) => process.stderr.write(`[board ${level}] ${msg}\n`);

  const stop = new StopSignals();
  const session = new TapSession();
  let dhcpServer: Dnsmasq | undefined;
  let code = 0;
  try {
    const reused = await netnsExists(opts.netns);
    if (reused) console.error(`wasmip tap: using the existing namespace ${opts.netns} (it will not be deleted)`);
    await session.start({
      netns: opts.netns,
      tap: opts.tap,
      boardIp: opts.boardIp,
      peerIp: opts.peerIp,
      pcap: opts.pcap,
      mac: opts.mac,
      wasm: opts.wasm,
      app: opts.app,
      loss: opts.loss,
      seed: opts.seed,
      statusFile: statusPath(opts.netns),
      imageLabel: imageLabel(opts.wasm ?? appWasm(opts.app), opts.wasm ? undefined : opts.app),
      reuseNetns: true,
      addressless: opts.dhcp,
      logLevel: opts.logLevels,
      log,
      onError: (e) => stop.wake(`error: ${e.message}`),
    });
    if (opts.dhcp && !stop.why) dhcpServer = await tapDhcp(session, opts);
    console.error(`wasmip tap: board ${session.boardIp} (${session.board!.macString}, ${imageLabel(session.wasm, opts.wasm ? undefined : opts.app)}) on ${opts.tap} in namespace ${opts.netns}, kernel at ${session.peerIp}`);
    if (opts.loss > 0) console.error(`wasmip tap: dropping ${(opts.loss * 100).toFixed(1)}% of frames each way (seed ${opts.seed})`);
    console.error(`wasmip tap: status in ${statusPath(opts.netns)} (wasmip netstat --netns ${opts.netns})`);
    let ready = false;
    for (let i = 0; i < 10 && !stop.why && !ready; i++) ready = await session.waitReachable(1);
    if (stop.why) {
      // Stopped before ready: fall through to cleanup.
    } else if (!ready) {
      console.error(`wasmip tap: the board did not answer ping from ${session.peerIp}`);
      code = 1;
    } else {
      for (const c of opts.appConfig) {
        session.board!.appConfig(c);
        console.error(`wasmip tap: app config ${c}`);
      }
      console.log("ready");
      if (opts.app === "ping") void boardPings(session, opts.count, () => stop.why !== undefined);
      const why = await stop.done;
      if (why.startsWith("error")) {
        console.error(`wasmip tap: ${why}`);
        code = 1;
      }
    }
    if (session.runner) console.error(`wasmip tap: ${session.runner.rxFrames} frames in, ${session.runner.txFrames} out`);
  } catch (e) {
    console.error(`wasmip tap: ${(e as Error).message}`);
    code = 1;
  } finally {
    if (dhcpServer) {
      try {
        dhcpRelease(session.board!);
        for (let i = 0; i < 50 && dhcpStatus(session.board!).state !== "STOPPED"; i++) await new Promise((r) => setTimeout(r, 10));
      } catch {
        // the board is gone: nothing to release
      }
      await dhcpServer.stop().catch(() => {});
    }
    try {
      await session.stop();
    } catch (e) {
      console.error(`wasmip tap: cleanup: ${(e as Error).message}`);
      code = 1;
    }
    stop.dispose();
  }
  return code;
}
