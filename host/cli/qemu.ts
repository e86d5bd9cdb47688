// `wasmip qemu`: the firmware on an emulated MPS2 AN385 board (devices/qemu.ts) on a TAP device
// in a network namespace until a signal; its UART log goes to stderr, the terminal to its console.
import { appUsage } from "../board/apps.ts";
import { netnsExists, type Netns } from "../devices/netns.ts";
import { QEMU_APPS, QemuSession, buildQemuImage, qemuImage } from "../devices/qemu.ts";
import { dhcpServer, type Dnsmasq } from "../devices/services/dnsmasq.ts";
import { MPS2_RUNTIMES, type Mps2Runtime } from "../devices/qemu.ts";
import { DEFAULTS } from "../devices/tap.ts";
import { StopSignals, commandOptions, imageLabel, parseTapArgs } from "./tap-options.ts";

const USAGE = `usage: wasmip qemu [--app NAME] [--netns NAME] [--board-ip A/len | --dhcp]
                  [--peer-ip B/len] [--pcap FILE] [--mac MAC] [--tap IFNAME] [--log-level LEVEL]

Runs the wasmip firmware on an emulated Arm MPS2 AN385 board (Cortex-M3, LAN9118 Ethernet;
qemu-system-arm -M mps2-an385) attached to a TAP device in network namespace NAME (created if
absent, and then deleted on exit), with the kernel at the peer address as its peer. Builds
boards/mps2-an385/build/wasmip-<app>[-<runtime>].elf first if it is missing or stale. Prints "ready" once the
board answers a ping from the kernel, then runs until SIGINT/SIGTERM, which stop QEMU (by its pid)
and remove the tap and the namespace. The board's UART (its log) goes to stderr; what you type
goes to it: "s" and Enter print the board's counters.
  --netns NAME       default ${DEFAULTS.netns}
  --board-ip A/len   the board's address, default ${DEFAULTS.boardIp}
  --peer-ip B/len    the kernel's address on the tap, default ${DEFAULTS.peerIp}
  --app NAME         the firmware app, default bare; its image is translated to the ELF
                     boards/mps2-an385/build/wasmip-<app>.elf:
${appUsage(21, QEMU_APPS)}
  --dhcp             boot the board with no address: dnsmasq runs in the namespace on the tap
                     (pool .100-.199 of the peer's subnet, router and DNS = the peer), the board
                     leases an address (prints "leased A/len gw G"), then "ready"
  --pcap FILE        capture both directions (QEMU's filter-dump on the board's network device)
  --mac MAC          the board's MAC (QEMU's LAN9118 EEPROM), default ${DEFAULTS.mac}
  --tap IFNAME       the tap's name inside the namespace, default ${DEFAULTS.tap}
  --log-level LEVEL  error|warn|info|debug: the core's log lines on the UART, default info
  --runtime RT       what runs the image: wasm2c (default: the image compiled to C), wamr-fast or
                     wamr-classic (WAMR's interpreters, the .wasm in flash), wamr-aot (wamrc's
                     image executed in place from flash; building wamrc takes minutes)

Try it (another shell): ip netns exec ${DEFAULTS.netns} curl http://${DEFAULTS.boardIp.split("/")[0]}/ (with --app http)`;

/** Flags of wasmip tap that have no meaning here (they act on the Node board). */
const TAP_ONLY = ["--loss", "--seed", "--wasm", "--count", "--app-config"];

export async function qemuCommand(args: string[]): Promise<number> {
  let runtime: Mps2Runtime = "wasm2c";
  const parsed = commandOptions("qemu", USAGE, () => {
    const bad = args.find((a) => TAP_ONLY.includes(a.split("=")[0]));
    if (bad) throw new Error(`${bad.split("=")[0]} is a flag of wasmip tap only (it acts on the Node board)`);
    const rest: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a !== "--runtime" && !a.startsWith("--runtime=")) {
        rest.push(a);
        continue;
      }
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : args[++i];
      if (!(MPS2_RUNTIMES as readonly string[]).includes(v)) throw new Error(`--runtime ${v ?? ""}: one of ${MPS2_RUNTIMES.join(", ")}`);
      runtime = v as Mps2Runtime;
    }
    const o = parseTapArgs(rest, QEMU_APPS);
    // The firmware's configuration block carries one level (boards/mps2-an385/config.h).
    if (o !== "help" && o.logLevels.modules) throw new Error("--log-level: per-module levels are not supported by wasmip qemu (one level)");
    return o;
  });
  if (typeof parsed === "number") return parsed;
  const opts = parsed;
  const stop = new StopSignals();

  const session = new QemuSession();
  let server: Dnsmasq | undefined;
  let code = 0;
  const forward = (d: Buffer) => session.proc?.stdin?.write(d);
  try {
    buildQemuImage(opts.app, runtime);
    if (stop.why) return 0;
    if (await netnsExists(opts.netns)) console.error(`wasmip qemu: using the existing namespace ${opts.netns} (it will not be deleted)`);
    const peerCidr = opts.peerIp;
    await session.start({
      netns: opts.netns,
      tap: opts.tap,
      boardIp: opts.boardIp,
      peerIp: opts.peerIp,
      pcap: opts.pcap,
      mac: opts.mac,
      app: opts.app,
      runtime,
      dhcp: opts.dhcp,
      logLevel: opts.logLevel,
      reuseNetns: true,
      readyTimeoutMs: opts.dhcp ? 60_000 : 20_000,
      beforeBoot: async (ns: Netns) => {
        if (!opts.dhcp) return;
        server = dhcpServer(ns, opts.tap, peerCidr);
        await server.ready();
      },
      log: (level, msg) => process.stderr.write(`[board ${level}] ${msg}\n`),
      onOutput: (stream, line) => {
        if (line.trim() && !/^(ready|leased .*)$/.test(line)) process.stderr.write(stream === "stdout" ? `[board] ${line}\n` : `${line}\n`);
      },
      onError: (e) => stop.wake(`error: ${e.message}`),
    });
    console.error(`wasmip qemu: QEMU pid ${session.proc!.pid}: board ${session.boardIp} (${session.mac}, ${imageLabel(qemuImage(opts.app, runtime), opts.app)}) on ${opts.tap} in namespace ${opts.netns}, kernel at ${session.peerIp}`);
    if (session.lease) console.log(`leased ${session.lease.ip}/${session.lease.prefix} gw ${session.lease.gw}`);
    let ready = false;
    for (let i = 0; i < 10 && !stop.why && !ready; i++) ready = await session.waitReachable(1);
    if (stop.why) {
      // Stopped before ready: fall through to cleanup.
    } else if (!ready) {
      console.error(`wasmip qemu: the board did not answer ping from ${session.peerIp}`);
      code = 1;
    } else {
      console.log("ready");
      // The terminal is the board's console: "s" + Enter prints its counters.
      process.stdin.on("data", forward);
      const why = await stop.done;
      if (why.startsWith("error")) {
        console.error(`wasmip qemu: ${why}`);
        code = 1;
      }
    }
  } catch (e) {
    console.error(`wasmip qemu: ${(e as Error).message}`);
    code = 1;
  } finally {
    process.stdin.off("data", forward);
    process.stdin.pause(); // or the open stdin keeps this process alive
    await server?.stop().catch(() => {});
    try {
      await session.stop();
    } catch (e) {
      console.error(`wasmip qemu: cleanup: ${(e as Error).message}`);
      code = 1;
    }
    stop.dispose();
  }
  return code;
}
