// wasmip's Node API (package.json's "." export), for a project that depends on wasmip: run your
// firmware image on a board in virtual time (Simulator, a switch, impairments, pcap), as a fleet
// from a topology file, or build it. Deeper modules stay importable as "wasmip/host/...".
export { Board, DEFAULT_WASM, ROOT, appWasm, imageConfig, type BoardOptions, type LogLevel } from "./board/board.ts";
export { APPS, appImage, type AppInfo } from "./board/apps.ts";
export { CORE_EXPORTS, FirmwareError, firmwareExports } from "./board/firmware.ts";
export { formatCounters, formatTcpTable } from "./board/netstat.ts";
export { dhcpStart, dhcpStatus } from "./board/dhcp.ts";
export { Simulator } from "./sim/sim.ts";
export { SimDhcpServer } from "./sim/services/dhcpd.ts";
export { SimDnsServer } from "./sim/services/dnsd.ts";
export { TopologyError, checkFirmware, loadTopology, parseTopology, type Topology } from "./sim/fleet/topology.ts";
export { runFleet, type FleetOptions } from "./sim/fleet/fleet.ts";
export type { FleetSummary } from "./sim/fleet/summary.ts";
export { PcapWriter, parsePcap } from "./capture/pcap.ts";
export { BuildError, buildImage, type ImageOptions, type ImageResult } from "./image/build.ts";
