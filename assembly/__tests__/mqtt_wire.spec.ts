// The MQTT codec (wire/mqtt.ts): the remaining-length varint at every width boundary (§2.2.3),
// incomplete and over-long headers, the flags of each type (§2.2.2), and parseBody's checks.
import {
  CONNACK, MqttIn, PINGRESP, PUBACK, PUBLISH, PUBREL, REMAINING_MAX, SUBACK, SUBSCRIBE, checkFlags, emitHeader, hdrLen, hdrRemaining,
  hdrType, parseBody, parseHeader, varintLen,
} from "../wire/mqtt";
import { WireError } from "../wire/error";

const buf = heap.alloc(64);
const m = changetype<MqttIn>(heap.alloc(offsetof<MqttIn>()));

function bytes(list: u8[]): usize {
  for (let i = 0; i < list.length; i++) store<u8>(buf + i, list[i]);
  return buf;
}

describe("mqtt wire: remaining length", () => {
  test("round trip at every width boundary; the length of the varint", () => {
    const values: u32[] = [0, 127, 128, 16383, 16384, 2097151, 2097152, REMAINING_MAX];
    const widths: u32[] = [1, 1, 2, 2, 3, 3, 4, 4];
    for (let i = 0; i < values.length; i++) {
      const n = emitHeader(buf, 0x30, values[i]);
      expect(n).toBe(1 + widths[i]);
      expect(varintLen(values[i])).toBe(widths[i]);
      expect(parseHeader(buf, n)).toBe(1);
      expect(hdrRemaining).toBe(values[i]);
      expect(hdrLen).toBe(n);
      expect(hdrType).toBe(PUBLISH);
      expect(parseHeader(buf, n - 1)).toBe(0); // one byte short: needs more
    }
  });
  test("a fifth length byte is malformed; so are types 0 and 15", () => {
    expect(parseHeader(bytes([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 6)).toBe(-1);
    expect(parseHeader(bytes([0x30, 0x80, 0x80, 0x80, 0x80]), 5)).toBe(-1);
    expect(parseHeader(bytes([0x00, 0x00]), 2)).toBe(-1);
    expect(parseHeader(bytes([0xf0, 0x00]), 2)).toBe(-1);
    expect(parseHeader(bytes([0x30]), 1)).toBe(0);
  });
});

describe("mqtt wire: flags and bodies", () => {
  test("fixed-header flags (§2.2.2)", () => {
    expect(checkFlags(PUBLISH, 0xb)).toBe(true); // DUP, QoS 1, RETAIN
    expect(checkFlags(PUBLISH, 0x6)).toBe(false); // QoS 3
    expect(checkFlags(PUBREL, 2)).toBe(true);
    expect(checkFlags(PUBREL, 0)).toBe(false);
    expect(checkFlags(SUBSCRIBE, 2)).toBe(true);
    expect(checkFlags(PUBACK, 1)).toBe(false);
    expect(checkFlags(CONNACK, 0)).toBe(true);
  });
  test("CONNACK: two bytes, reserved bits zero, codes up to 5", () => {
    expect(parseBody(m, bytes([1, 0]), CONNACK, 0, 2)).toBe(WireError.OK);
    expect(m.sessionPresent).toBe(1);
    expect(parseBody(m, bytes([2, 0]), CONNACK, 0, 2)).toBe(WireError.BAD_OP);
    expect(parseBody(m, bytes([0, 6]), CONNACK, 0, 2)).toBe(WireError.BAD_OP);
    expect(parseBody(m, bytes([0, 0, 0]), CONNACK, 0, 3)).toBe(WireError.BAD_TOTAL_LEN);
  });
  test("PUBLISH: topic within the packet, no wildcard, id non-zero at QoS > 0, the rest is payload", () => {
    expect(parseBody(m, bytes([0, 1, 0x61, 0, 7, 0x78]), PUBLISH, 2, 6)).toBe(WireError.OK);
    expect(m.id).toBe(7);
    expect(m.payloadLen).toBe(1);
    expect(parseBody(m, bytes([0, 1, 0x61, 0, 0]), PUBLISH, 2, 5)).toBe(WireError.BAD_OP);
    expect(parseBody(m, bytes([0, 1, 0x23]), PUBLISH, 0, 3)).toBe(WireError.BAD_OP);
    expect(parseBody(m, bytes([0, 0]), PUBLISH, 0, 2)).toBe(WireError.BAD_OP);
    expect(parseBody(m, bytes([0, 4, 0x61]), PUBLISH, 0, 3)).toBe(WireError.BAD_TOTAL_LEN);
    expect(parseBody(m, bytes([0, 1, 0x61]), PUBLISH, 2, 3)).toBe(WireError.BAD_TOTAL_LEN); // no room for the id
    expect(parseBody(m, bytes([0]), PUBLISH, 0, 1)).toBe(WireError.BAD_TOTAL_LEN);
  });
  test("SUBACK codes 0, 1, 2, 0x80; PINGRESP empty; a PINGREQ is not for a client", () => {
    expect(parseBody(m, bytes([0, 1, 0x80]), SUBACK, 0, 3)).toBe(WireError.OK);
    expect(m.code).toBe(0x80);
    expect(parseBody(m, bytes([0, 1, 3]), SUBACK, 0, 3)).toBe(WireError.BAD_OP);
    expect(parseBody(m, buf, PINGRESP, 0, 0)).toBe(WireError.OK);
    expect(parseBody(m, buf, PINGRESP, 0, 1)).toBe(WireError.BAD_TOTAL_LEN);
    expect(parseBody(m, buf, 12, 0, 0)).toBe(WireError.UNSUPPORTED);
  });
});
