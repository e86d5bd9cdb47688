// Prerequisites of the real-peer tests, shared by every TAP test file: what is missing is a skip
// locally and a failure under CI=true (never a silent skip in CI).
import assert from "node:assert/strict";
import { accessSync, constants, existsSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../../host/board/board.ts";
import { IP } from "../../host/devices/netns.ts";
import { BRIDGE_BIN } from "../../host/devices/tap-runner.ts";

const PACKAGES: Record<string, string> = {
  curl: "curl",
  nc: "nc (netcat-openbsd)",
  python3: "python3",
  ping: "ping (iputils-ping)",
  ss: "ss (iproute2)",
  tshark: "tshark",
  mosquitto: "mosquitto",
  mosquitto_sub: "mosquitto_sub (mosquitto-clients)",
  mosquitto_pub: "mosquitto_pub (mosquitto-clients)",
  chronyd: "chronyd (chrony)",
  dig: "dig (bind9-dnsutils)",
  "qemu-system-arm": "qemu-system-arm (and gcc-arm-none-eabi, libnewlib-arm-none-eabi for the image)",
};

export function onPath(cmd: string): boolean {
  if (cmd.includes("/")) return existsSync(cmd);
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
  return dirs.some((d) => {
    try {
      accessSync(path.join(d, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** What a TAP test lacks: root, ip, /dev/net/tun, the bridge (or gcc), the given tools and files. */
export function missingPrereqs(tools: string[], files: string[]): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root");
  if (!onPath(IP)) missing.push("ip (iproute2)");
  if (!existsSync("/dev/net/tun")) missing.push("/dev/net/tun");
  if (!existsSync(BRIDGE_BIN) && !onPath("gcc")) missing.push("gcc (to build build/tap-bridge)");
  for (const t of tools) if (!onPath(t)) missing.push(PACKAGES[t] ?? t);
  for (const f of files) if (!existsSync(f)) missing.push(`${path.relative(ROOT, f)} (make build)`);
  return missing;
}

/** Fails under CI=true, skips otherwise; returns true when the test may run. */
export function requirePrereqs(t: { skip: (msg: string) => void }, tools: string[], files: string[]): boolean {
  const missing = missingPrereqs(tools, files);
  if (missing.length === 0) return true;
  const reason = `missing prerequisites: ${missing.join(", ")} (scripts/install-deps.sh and make build provide them)`;
  if (process.env.CI === "true") assert.fail(reason);
  t.skip(reason);
  return false;
}
