// The firmware application hook. A firmware image (assembly/firmware/*.ts) registers its app's
// start and poll functions at module start; the core calls them after init and after every
// input()/poll(), so the app runs on the same event loop as the stack. The core never imports an app.
import { FEATURE_MQTT, FEATURE_TCP } from "./config";
import { tcpFlushOutput, tcpHoldOutput } from "./api/tcp";
import { deliverNetEvents } from "./api/net";
import { mqttInit, mqttRun } from "./services/mqtt";

let appStart: (() => void) | null = null;
let appPoll: (() => void) | null = null;

export function setApp(start: () => void, poll: () => void): void {
  appStart = start;
  appPoll = poll;
}

export function runAppStart(): void {
  if (FEATURE_MQTT) mqttInit();
  const f = appStart;
  if (f) f();
}

/** The app's turn: what it sends over TCP is queued while it runs and sent when it returns. The
 *  MQTT client (a service with a TCP connection, like an app) runs first, on the same terms. */
export function runAppPoll(): void {
  const f = appPoll;
  if (!f && !FEATURE_MQTT) return;
  if (FEATURE_TCP) tcpHoldOutput();
  if (FEATURE_MQTT) mqttRun();
  if (f) {
    deliverNetEvents();
    f();
  }
  if (FEATURE_TCP) tcpFlushOutput();
}
