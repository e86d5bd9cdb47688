// The firmware application hook. A firmware image (assembly/firmware/*.ts) registers its app's
// start and poll functions at module start; the core calls them after init and after every
// input()/poll(), so the app runs on the same event loop as the stack. The core never imports an app.
import { FEATURE_TCP } from "./config";
import { tcpFlushOutput, tcpHoldOutput } from "./api/tcp";
import { deliverNetEvents } from "./api/net";

let appStart: (() => void) | null = null;
let appPoll: (() => void) | null = null;

export function setApp(start: () => void, poll: () => void): void {
  appStart = start;
  appPoll = poll;
}

export function runAppStart(): void {
  const f = appStart;
  if (f) f();
}

/** The app's turn: what it sends over TCP is queued while it runs and sent when it returns. */
export function runAppPoll(): void {
  const f = appPoll;
  if (!f) return;
  if (FEATURE_TCP) tcpHoldOutput();
  deliverNetEvents();
  f();
  if (FEATURE_TCP) tcpFlushOutput();
}
