import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  crc32c,
  decodeProxyHeader,
  decodeV1,
  decodeV2,
  encodeV1,
  encodeV2,
  type ProxyHeader,
  V2_SIGNATURE,
} from "./index.js";

const ascii = (s: string) => Buffer.from(s, "latin1");
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");

describe("PROXY v1", () => {
  it("decodes TCP4, TCP6 and UNKNOWN, with the bytes after the line left alone", () => {
    const r = decodeV1(ascii("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\nGET / HTTP/1.1\r\n"));
    expect(r).toEqual({
      kind: "header",
      length: 45,
      header: {
        version: 1,
        command: "proxy",
        transport: "tcp4",
        source: { address: "192.0.2.1", port: 56324 },
        destination: { address: "198.51.100.2", port: 443 },
        tlvs: [],
      },
    });
    const r6 = decodeV1(ascii("PROXY TCP6 2001:DB8::1 2001:db8:0:0:0:0:0:2 65535 0\r\n"));
    expect(r6.kind === "header" && r6.header.source).toEqual({ address: "2001:db8::1", port: 65535 });
    expect(r6.kind === "header" && r6.header.destination?.address).toBe("2001:db8::2");
    expect(decodeV1(ascii("PROXY UNKNOWN\r\n"))).toMatchObject({ kind: "header", length: 15 });
    expect(decodeV1(ascii("PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n"))).toMatchObject({
      kind: "header",
      header: { transport: "unknown" },
    });
  });

  it("waits for more bytes until CRLF or 107 bytes", () => {
    const line = ascii("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n");
    for (let i = 0; i < line.length; i++) expect(decodeV1(line.subarray(0, i)).kind).toBe("incomplete");
    expect(decodeV1(ascii(`PROXY TCP6 ${"a".repeat(101)}`)).kind).toBe("error");
  });

  it.each([
    ["lowercase magic", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"],
    ["two spaces", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"],
    ["trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"],
    ["bare LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"],
    ["CR without LF", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"],
    ["a port with a leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"],
    ["a port over 65535", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"],
    ["a signed port", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"],
    ["an IPv4 octet with a leading zero", "PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n"],
    ["IPv6 under TCP4", "PROXY TCP4 ::1 ::2 1 2\r\n"],
    ["IPv4 under TCP6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"],
    ["an IPv6 zone", "PROXY TCP6 fe80::1%eth0 ::2 1 2\r\n"],
    ["a missing field", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"],
    ["an extra field", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"],
    ["UDP4", "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n"],
    ["a NUL", "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n"],
    ["a TAB", "PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n"],
    ["plain HTTP", "GET / HTTP/1.1\r\n"],
  ])("rejects %s", (_why, s) => {
    expect(decodeProxyHeader(ascii(s)).kind).toBe("error");
  });
});

describe("PROXY v2", () => {
  // the layout from the specification: PROXY, TCP over IPv4, 127.0.0.1:56324 → 127.0.0.2:443
  const v4 = hex(`0d0a0d0a000d0a515549540a 21 11 000c 7f000001 7f000002 dc04 01bb`);

  it("decodes a PROXY TCP4 header", () => {
    expect(decodeV2(Buffer.concat([v4, ascii("tail")]))).toEqual({
      kind: "header",
      length: 28,
      header: {
        version: 2,
        command: "proxy",
        transport: "tcp4",
        source: { address: "127.0.0.1", port: 56324 },
        destination: { address: "127.0.0.2", port: 443 },
        tlvs: [],
      },
    });
    for (let i = 0; i < v4.length; i++) expect(decodeProxyHeader(v4.subarray(0, i)).kind).toBe("incomplete");
  });

  it("LOCAL ignores the address block; UNSPEC has none; TLVs are returned in order", () => {
    const local = Buffer.from(v4);
    local[12] = 0x20;
    expect(decodeV2(local)).toMatchObject({
      kind: "header",
      header: { command: "local", transport: "tcp4", tlvs: [] },
    });
    const r = decodeV2(local);
    expect(r.kind === "header" && r.header.source).toBeUndefined();
    const unspec = hex(`0d0a0d0a000d0a515549540a 21 00 0007 02 0004 61626364`);
    expect(decodeV2(unspec)).toMatchObject({
      kind: "header",
      header: {
        command: "proxy",
        transport: "unknown",
        tlvs: [{ type: 2, value: new Uint8Array([97, 98, 99, 100]) }],
      },
    });
  });

  it.each([
    ["version 1 in the binary form", (b: Buffer) => (b[12] = 0x11)],
    ["command 2", (b: Buffer) => (b[12] = 0x22)],
    ["family 4", (b: Buffer) => (b[13] = 0x41)],
    ["transport 3", (b: Buffer) => (b[13] = 0x13)],
    ["INET with UNSPEC transport", (b: Buffer) => (b[13] = 0x10)],
    ["a length shorter than the addresses", (b: Buffer) => b.writeUInt16BE(11, 14)],
    ["a bad signature byte", (b: Buffer) => (b[7] = 0x52)],
  ])("rejects %s", (_why, mutate) => {
    const b = Buffer.from(v4);
    mutate(b);
    expect(decodeV2(b).kind).toBe("error");
  });

  it("rejects a truncated or overrunning TLV, a bad CRC32C, and headers beyond the bound", () => {
    const withTlv = (tlv: string) => {
      const t = hex(tlv);
      const b = Buffer.concat([v4, t]);
      b.writeUInt16BE(12 + t.length, 14);
      return b;
    };
    expect(decodeV2(withTlv("04 0000")).kind).toBe("header");
    expect(decodeV2(withTlv("04 00")).kind).toBe("error");
    expect(decodeV2(withTlv("04 0005 0000")).kind).toBe("error");
    const crc = encodeV2(
      {
        command: "proxy",
        transport: "tcp4",
        source: { address: "1.2.3.4", port: 1 },
        destination: { address: "5.6.7.8", port: 2 },
      },
      { crc: true },
    );
    expect(decodeV2(crc).kind).toBe("header");
    const bad = Buffer.from(crc);
    bad[20] = (bad[20] as number) ^ 1;
    expect(decodeV2(bad)).toMatchObject({ kind: "error", reason: expect.stringContaining("CRC32C") });
    expect(decodeV2(withTlv(`04 0100 ${"00".repeat(256)}`), 200).kind).toBe("error");
  });

  it("CRC-32C matches the standard check value", () => {
    expect(crc32c(ascii("123456789"))).toBe(0xe3069283);
  });

  it("detects the version by the first byte and rejects anything else", () => {
    expect(decodeProxyHeader(V2_SIGNATURE.subarray(0, 5)).kind).toBe("incomplete");
    expect(decodeProxyHeader(ascii("PRO")).kind).toBe("incomplete");
    expect(decodeProxyHeader(ascii("\x16\x03\x01")).kind).toBe("error");
  });
});

describe("round trips (fast-check)", () => {
  const port = fc.integer({ min: 0, max: 65535 });
  const v4 = fc.ipV4().map((a) => decodeV1(ascii(`PROXY TCP4 ${a} ${a} 1 1\r\n`)));
  const v4addr = v4.map((r) => (r.kind === "header" ? (r.header.source?.address as string) : "0.0.0.0"));
  const v6addr = fc.ipV6().map((a) => {
    const r = decodeV1(ascii(`PROXY TCP6 ${a} ${a} 1 1\r\n`));
    return r.kind === "header" ? (r.header.source?.address as string) : "::";
  });
  const endpoints = fc.oneof(
    fc.record({ transport: fc.constant("tcp4" as const), s: v4addr, d: v4addr, sp: port, dp: port }),
    fc.record({ transport: fc.constant("tcp6" as const), s: v6addr, d: v6addr, sp: port, dp: port }),
  );

  it("v1: decode(encode(h)) = h", () => {
    fc.assert(
      fc.property(endpoints, (e) => {
        const h: ProxyHeader = {
          version: 1,
          command: "proxy",
          transport: e.transport,
          source: { address: e.s, port: e.sp },
          destination: { address: e.d, port: e.dp },
          tlvs: [],
        };
        const b = encodeV1(h);
        expect(b.length).toBeLessThanOrEqual(107);
        expect(decodeV1(b)).toEqual({ kind: "header", header: h, length: b.length });
      }),
      { numRuns: 300 },
    );
  });

  it("v2: decode(encode(h)) = h, with TLVs and optional CRC, and every prefix is incomplete", () => {
    const tlv = fc.record({
      type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== 0x03),
      value: fc.uint8Array({ maxLength: 40 }),
    });
    fc.assert(
      fc.property(
        endpoints,
        fc.array(tlv, { maxLength: 4 }),
        fc.boolean(),
        fc.constantFrom("proxy" as const, "local" as const),
        (e, tlvs, crc, command) => {
          const h = {
            command,
            transport: e.transport,
            source: { address: e.s, port: e.sp },
            destination: { address: e.d, port: e.dp },
            tlvs,
          };
          const b = encodeV2(h, { crc });
          const r = decodeV2(Buffer.concat([b, ascii("x")]));
          expect(r.kind).toBe("header");
          if (r.kind !== "header") return;
          expect(r.length).toBe(b.length);
          expect(r.header.command).toBe(command);
          expect(r.header.transport).toBe(e.transport);
          if (command === "proxy") {
            expect(r.header.source).toEqual(h.source);
            expect(r.header.destination).toEqual(h.destination);
          }
          expect(r.header.tlvs.filter((t) => t.type !== 0x03)).toEqual(tlvs);
          expect(decodeV2(b.subarray(0, b.length - 1)).kind).toBe("incomplete");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("v2 UNIX paths round-trip", () => {
    const h = {
      command: "proxy" as const,
      transport: "unix" as const,
      source: { address: "/run/a.sock", port: 0 },
      destination: { address: "/run/b.sock", port: 0 },
    };
    const r = decodeV2(encodeV2(h));
    expect(r).toMatchObject({
      kind: "header",
      length: 232,
      header: { source: h.source, destination: h.destination },
    });
  });

  it("no random bytes crash the decoder; whatever decodes re-encodes to the same addresses", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.boolean(), (tail, v2) => {
        const b = Buffer.concat([v2 ? V2_SIGNATURE : ascii("PROXY "), tail]);
        const r = decodeProxyHeader(b);
        if (r.kind === "header" && r.header.version === 1) {
          const again = decodeV1(encodeV1(r.header));
          expect(again.kind === "header" && again.header.source).toEqual(r.header.source);
        }
      }),
      { numRuns: 500 },
    );
  });
});
