// `wasmip help`: the usage of every command but those that print their own (tap, qemu, netstat,
// build); UsageError, a bad command line (main() in host/cli.ts prints it, pointing here; exit 2);
// parseFlags, node:util's flag parser with our messages.
import { parseArgs } from "node:util";

export const HELP = `usage: wasmip <command> [flags]

commands:
  sim         boards on an emulated switch in virtual time, with no static configuration: they
              lease addresses from a simulated DHCP server and find each other by name through a
              simulated DNS server (zone sim); A pings B (b.sim), connects to the greeter firmware
              on G (greeter.sim:54321) and fetches http://web.sim/ from the http firmware on H;
              then IPv6: C and E (echo6 firmware) configure from router advertisements (SLAAC,
              RDNSS), C pings echo.sim over IPv6 and connects to its echo service by name
  sim --topology FILE
              a fleet from a topology file (JSON, see examples/README.md): boards running their
              firmware images on several switches joined by impaired links, DHCP and DNS, what
              each board does; prints every board's counters and connection table and the run's
              invariants at the end (exit 1 if one fails)
  ladder      draw a TCP exchange from a capture as a sequence (ladder) diagram, SVG
  tap         bridge a board to a Linux TAP interface (see: wasmip tap --help)
  qemu        the firmware on an emulated Cortex-M3 board (QEMU mps2-an385, LAN9118 Ethernet)
              on a Linux TAP interface (see: wasmip qemu --help)
  netstat     connection table and counters of a running \`wasmip tap\` (--netns NAME)
  build       your app and the core as one firmware image (see: wasmip build --help,
              docs/your-app.md)
  help        show this help

sim flags:
  --seed N        PRNG seed; the same seed gives the same run and pcap (default 1)
  --count N       echo requests to send, one per second of virtual time (default 4)
  --size N        ICMP payload bytes (default 56)
  --pcap FILE     write every transmitted frame to FILE (classic pcap, Ethernet)
  --wasm FILE     firmware of A and B (default build/wasmip.wasm; G and H run greeter, http,
                  C and E build/ipv6.wasm, echo6)
  --verbose       also print debug, DHCP and DNS log lines and the connection tables
impairments of A's link during the pings only, each direction (probabilities: 0..1 or a percentage
like 20%; the TCP and IPv6 parts run on clean links; sim --topology impairs every link for the whole run):
  --loss P        drop probability (default 20%)
  --dup P         duplication probability (default 0)
  --reorder P     probability a frame is held back 10 ms so later ones overtake it (default 0)
  --corrupt P     probability one bit after the Ethernet header is flipped (default 0)
  --mtu N         drop frames whose payload exceeds N bytes (default: no limit)
  --delay MS      propagation delay, every board's link (default 1)
  --jitter MS     uniform extra delay in [0, MS), every board's link (default 0)

sim --topology flags:
  --topology FILE    the fleet (JSON); its seed and duration unless given below
  --seed N           PRNG seed (default: the file's, else 1); the same seed gives the same pcap
  --duration D       virtual run length (ms, or 500ms, 60s, 2m, 1h), instead of the file's
  --pcap FILE        every frame any board or service transmits (classic pcap, Ethernet)
  --capture-dir DIR  one pcap per board at its interface: what it sent and what reached it
  --capture NAMES    with --capture-dir: only these boards (comma-separated)
  --json FILE        write the summary (boards, tasks, counters, links, invariants) as JSON
  --brief            one line per board; no per-board tables and counters
  --verbose          board log lines and task events as they happen

ladder FILE.pcap [PEER.pcap] [--conn A:P-B:P] [-o OUT.svg] [--max N]
  One arrow per TCP segment between two endpoints, labelled with its flags, relative seq/ack,
  length and window; retransmissions and losses marked. Classic pcap or pcapng (tshark,
  tcpdump, the harness), Ethernet, Linux cooked, raw IP or loopback link types; IPv4.
  --conn A:P-B:P     the connection (either order; A is drawn on the left); default: the first
                     TCP connection in the file
  -o FILE            write the SVG to FILE (default: standard output)
  --max N            draw at most N segments (default 1000)
  PEER.pcap          a capture at the other endpoint (e.g. two files of sim --capture-dir):
                     arrows then go from send time to arrival time, and a segment sent but never
                     received is drawn as lost for certain
`;

export class UsageError extends Error {}

type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

/** node:util parseArgs with our messages instead of Node's: a value may start with '-' (`--count
 *  -3` is then refused by the flag's own range check, not as "ambiguous"). Throws UsageError. */
export function parseFlags<T extends FlagSpec>(args: string[], options: T, allowPositionals = false) {
  const joined: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const name = a.startsWith("--") ? a.slice(2) : a.length === 2 && a[0] === "-" ? Object.keys(options).find((k) => options[k].short === a[1]) : undefined;
    const spec = name === undefined ? undefined : options[name];
    if (spec?.type === "string" && !a.includes("=") && i + 1 < args.length && args[i + 1].startsWith("-")) joined.push(`--${name}=${args[++i]}`);
    else joined.push(a);
  }
  try {
    return parseArgs({ args: joined, options, strict: true, allowPositionals });
  } catch (e) {
    const m = (e as Error).message;
    const opt = /'(-[^' ]+)/.exec(m)?.[1] ?? "";
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") throw new UsageError(`unknown option '${opt}'`);
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE")
      throw new UsageError(/argument missing/.test(m) ? `${opt.replace(/ .*/, "")}: expected a value` : `${opt}: takes no value`);
    if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") throw new UsageError(`unexpected argument '${/'([^']*)'/.exec(m)?.[1] ?? ""}'`);
    throw new UsageError(m.split("\n")[0]);
  }
}
