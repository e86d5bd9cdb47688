// The firmware apps `make build` writes, in one list: what `wasmip tap --app`, `wasmip qemu --app`
// and `sim --topology`'s "firmware" accept, what their usage says, and what each serves (for the
// topology's warnings). The Makefile's APPS and EXAMPLES name the same images.
import path from "node:path";
import { DEFAULT_WASM, ROOT } from "./board.ts";

export interface AppInfo {
  name: string;
  /** The image (build/<image>.wasm): the core is build/wasmip.wasm. */
  image: string;
  /** One line for the usage. */
  what: string;
  tcp?: number[];
  udp?: number[];
  /** Runs on the Node board only (tap): its behaviour is the host's, not the image's. */
  hostOnly?: boolean;
}

export const APPS: readonly AppInfo[] = [
  { name: "bare", image: "wasmip", what: "the bare stack: ARP, ICMP echo (the default)" },
  { name: "ping", image: "wasmip", what: "as bare, and the board pings the peer --count times, once a second", hostOnly: true },
  { name: "greeter", image: "greeter", what: "TCP 54321: a greeting, then close", tcp: [54321] },
  { name: "http", image: "http", what: "an HTTP/1.1 server on TCP 80: / and /status", tcp: [80] },
  { name: "echo", image: "echo", what: "TCP echo on 7, discard on 9", tcp: [7, 9] },
  { name: "udp-echo", image: "udp-echo", what: "UDP echo on 7", udp: [7] },
  { name: "fetch", image: "fetch", what: "an HTTP client, driven through its exports (fetch_start)" },
  { name: "bulk", image: "bulk", what: "a bulk TCP transfer client, driven through its exports (bulk_start)" },
  { name: "sensor", image: "sensor", what: "examples/sensor: readings over HTTP on TCP 80, pushed over UDP", tcp: [80] },
];

export const APP_NAMES: readonly string[] = APPS.map((a) => a.name);

export function appInfo(name: string): AppInfo | undefined {
  return APPS.find((a) => a.name === name);
}

/** The image file of an app (appWasm in board.ts: any name, checked here against the list). */
export function appImage(name: string): string {
  const a = appInfo(name);
  if (!a) throw new Error(`unknown app "${name}": one of ${APP_NAMES.join(", ")}`);
  return a.image === "wasmip" ? DEFAULT_WASM : path.join(ROOT, "build", `${a.image}.wasm`);
}

/** The usage's lines for --app: one per app, indented to `indent`. */
export function appUsage(indent: number, apps: readonly string[] = APP_NAMES): string {
  const w = Math.max(...apps.map((n) => n.length));
  return APPS.filter((a) => apps.includes(a.name))
    .map((a) => `${" ".repeat(indent)}${a.name.padEnd(w)}  ${a.what}`)
    .join("\n");
}
