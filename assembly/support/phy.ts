// The imports of the PHY shim ABI (boards/include/wasmip.h). Nothing else is imported.

@external("phy", "tx")
export declare function phy_tx(frame: usize, len: u32): void;

@external("phy", "now_ms")
export declare function phy_now_ms(): u32;

@external("phy", "random")
export declare function phy_random(): u32;

/** The RFC 1071 sum of len bytes at p (not complemented, network order): called only where the
 *  board asked for it (set_offload(OFFLOAD_SUM)). */
@external("phy", "checksum")
export declare function phy_checksum(p: usize, len: u32): u32;

@external("phy", "panic")
export declare function phy_panic(msg: usize, len: u32, line: u32): void;

@external("phy", "log")
export declare function phy_log(level: u32, msg: usize, len: u32): void;
