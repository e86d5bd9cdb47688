// Firmware image: the wasmip core plus the sensor app. `make build` writes build/sensor.wasm.
export * from "../../assembly/index";
import { setApp } from "../../assembly/app";
import { sensorPoll, sensorPushTo, sensorPushed, sensorReadings, sensorStart } from "./sensor";

setApp(sensorStart, sensorPoll);

/** sensor_push_to(ip, port, interval_ms): push the newest reading there every interval (ip 0: stop). */
export function sensor_push_to(ip: u32, port: u32, intervalMs: u32): i32 {
  return sensorPushTo(ip, port, intervalMs);
}
/** Readings taken since init. */
export function sensor_readings(): u32 {
  return sensorReadings();
}
/** Datagrams pushed since init. */
export function sensor_pushed(): u32 {
  return sensorPushed();
}
