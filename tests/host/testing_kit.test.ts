// The as-pect testing kit (assembly/testing) can fail: as-pect run on a fixture whose script
// differs from what the stack sends exits non-zero and prints the kit's description of each
// difference, while the fixture's control test (the real handshake) passes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { ROOT } from "../../host/board/board.ts";

test("testing kit: a script that differs from the stack's segments fails under as-pect, with the difference", () => {
  const r = spawnSync(path.join(ROOT, "node_modules/.bin/asp"), ["--config", "tests/aspect/as-pect.config.js", "--no-logo"], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  const out = (r.stdout + r.stderr).replace(/\x1b\[[0-9;]*m/g, "");
  assert.equal(r.status, 1, `as-pect exit status (output:\n${out})`);
  assert.match(out, /scripted_mismatch\.spec\.ts Pass: 1 \/ 3/);
  assert.match(out, /❌ MISMATCH-ACK[^\n]*\n\s*\[Actual\]\s*: "expected SYN\|ACK seq=0 ack=2 len=0, got SYN\|ACK seq=0 ack=1 len=0"/);
  assert.match(out, /❌ MISMATCH-DATA[^\n]*\n\s*\[Actual\]\s*: "expected PSH\|ACK seq=1 ack=1 len=5, got nothing"/);
  assert.doesNotMatch(out, /❌ control/);
});
