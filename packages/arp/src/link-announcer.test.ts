import { describe, expect, it } from "vitest";
import { ArpError } from "./errors.js";
import { parseArp } from "./frames.js";
import type { InterfaceInfo } from "./interfaces.js";
import { LinkAnnouncer } from "./link-announcer.js";
import { encodeBpf } from "./socket-filter.js";

const info: InterfaceInfo = { name: "eth0", ifindex: 3, mac: "02:00:00:00:00:01", up: true };

function fakeOpen() {
  const log = { opened: 0, closed: 0, frames: [] as Uint8Array[] };
  const open = async () => {
    log.opened++;
    return {
      info,
      sender: {
        send: (f: Uint8Array) => void log.frames.push(f),
        close: () => void log.closed++,
      },
    };
  };
  return { log, open };
}

describe("LinkAnnouncer: one socket for many bursts", () => {
  it("opens once, sends every burst on the same socket, closes once", async () => {
    const { log, open } = fakeOpen();
    const link = await LinkAnnouncer.open("eth0", { open });
    for (let i = 0; i < 100; i++) link.announce(["198.18.0.100"], { count: 3 });
    expect(log.opened).toBe(1);
    expect(log.closed).toBe(0);
    expect(log.frames).toHaveLength(300);
    const arp = parseArp(log.frames[0]!);
    expect(arp.senderIp).toBe("198.18.0.100");
    expect(arp.senderMac).toBe("02:00:00:00:00:01");
    link.close();
    link.close();
    expect(log.closed).toBe(1);
    expect(link.closed).toBe(true);
    expect(() => link.announce(["198.18.0.100"])).toThrow(ArpError);
  });

  it("announces a given MAC and IPv6 addresses; bad addresses fail like announce()", async () => {
    const { log, open } = fakeOpen();
    const link = await LinkAnnouncer.open("eth0", { open });
    const sent = link.announce(["198.18.0.100", "2001:db8::100"], { count: 2, mac: "00:00:5e:00:01:07" });
    expect(sent.map((f) => f.kind)).toEqual(["arp-request", "na", "arp-request", "na"]);
    expect(parseArp(log.frames[0]!).senderMac).toBe("00:00:5e:00:01:07");
    expect(() => link.announce(["not-an-ip"])).toThrow(ArpError);
  });
});

describe("encodeBpf", () => {
  it("lays out struct sock_filter (u16 code, u8 jt, u8 jf, u32 k, little-endian)", () => {
    const b = encodeBpf([{ code: 0x30, jt: 1, jf: 2, k: 0xfff00007 }]);
    expect([...b]).toEqual([0x30, 0, 1, 2, 0x07, 0x00, 0xf0, 0xff]);
  });
});
