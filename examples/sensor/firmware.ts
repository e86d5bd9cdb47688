// Firmware image: the wasmip core plus the sensor app. `make build` writes build/sensor.wasm.
export * from "../../assembly/index";
import { setApp } from "../../assembly/app";
import {
  sensorCommands, sensorCommandsRejected, sensorMqttAcked, sensorMqttDropped, sensorMqttInterval, sensorMqttPublished, sensorMqttTo, sensorMqttToName,
  sensorConfig, sensorPoll, sensorPushTo, sensorPushed, sensorReadings, sensorStart, setSensorKeepAlive,
} from "./sensor";

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
/** sensor_mqtt_to(ip, port, interval_ms): publish to the broker at ip:port (0: 1883) every interval
 *  (0: each reading) and take commands on sensors/<name>/cmd; ip 0: disconnect. */
export function sensor_mqtt_to(ip: u32, port: u32, intervalMs: u32): i32 {
  return sensorMqttTo(ip, port, intervalMs);
}
/** sensor_mqtt_to_name(ptr, len, port, interval_ms): the same for a broker's host name (or dotted
 *  quad) the board wrote at ptr (its io_buffer); resolved by the core's DNS client, retried until
 *  it resolves. */
export function sensor_mqtt_to_name(ptr: usize, len: u32, port: u32, intervalMs: u32): i32 {
  return sensorMqttToName(ptr, len, port, intervalMs);
}
/** app_config(ptr, len) -> 0 | error: one setting, key=value, that the board wrote at ptr (its
 *  io_buffer): broker=HOST[:PORT], interval_ms=N, keepalive=S or name=NAME (sensor.ts, sensorConfig).
 *  The posix and WAMR boards call it for each --app-config. */
export function app_config(ptr: usize, len: u32): i32 {
  return sensorConfig(ptr, len);
}
/** sensor_mqtt_keepalive(seconds 1..65535) -> 1 | 0 (out of range): the keep-alive of the next
 *  sensor_mqtt_to (default 30 s); the broker publishes the sensor's will 1.5 times it after the last packet. */
export function sensor_mqtt_keepalive(s: u32): u32 {
  return setSensorKeepAlive(s) ? 1 : 0;
}
/** The MQTT publish interval (ms), as set by sensor_mqtt_to or the last command. */
export function sensor_mqtt_interval(): u32 {
  return sensorMqttInterval();
}
/** Readings handed to the MQTT client, acknowledged by the broker (PUBACK), and dropped (every
 *  in-flight slot taken, or the client stopped). */
export function sensor_mqtt_published(): u32 {
  return sensorMqttPublished();
}
export function sensor_mqtt_acked(): u32 {
  return sensorMqttAcked();
}
export function sensor_mqtt_dropped(): u32 {
  return sensorMqttDropped();
}
/** Commands taken, and rejected. */
export function sensor_commands(): u32 {
  return sensorCommands();
}
export function sensor_commands_rejected(): u32 {
  return sensorCommandsRejected();
}
