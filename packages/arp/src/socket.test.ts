import { describe, expect, it } from "vitest";
import { ArpError } from "./errors.js";
import { loadNative, type NativePacket, PacketSocket } from "./socket.js";

const errno = (code: string, syscall: string) =>
  Object.assign(new Error(`${syscall}: ${code}`), { code, syscall });

function fakeNative(
  over: Partial<NativePacket> = {},
): NativePacket & { sent: Uint8Array[]; closed: number[] } {
  const sent: Uint8Array[] = [];
  const closed: number[] = [];
  return {
    sent,
    closed,
    open: () => 42,
    send: (_fd, _ifindex, frame) => {
      sent.push(frame);
      return frame.length;
    },
    close: (fd) => {
      closed.push(fd);
    },
    ...over,
  };
}

const link = { name: "eth0", ifindex: 3 };

describe("PacketSocket error mapping", () => {
  it.each(["EPERM", "EACCES"])("%s names CAP_NET_RAW and the fix", (code) => {
    const native = fakeNative({
      open: () => {
        throw errno(code, "socket");
      },
    });
    let err: unknown;
    try {
      PacketSocket.open(link, native);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArpError);
    expect((err as ArpError).code).toBe("ERR_PERMISSION");
    expect((err as Error).message).toContain('interface "eth0"');
    expect((err as Error).message).toContain("CAP_NET_RAW");
    expect((err as Error).message).toContain("setcap cap_net_raw+ep $(command -v node)");
    expect((err as Error).message).toContain("run as root");
  });

  it("ENODEV names the interface", () => {
    const native = fakeNative({
      open: () => {
        throw errno("ENODEV", "bind");
      },
    });
    expect(() => PacketSocket.open(link, native)).toThrow(/interface "eth0" \(index 3\) does not exist/);
  });

  it("ENETDOWN on send says how to bring the link up", () => {
    const native = fakeNative({
      send: () => {
        throw errno("ENETDOWN", "sendto");
      },
    });
    const s = PacketSocket.open(link, native);
    expect(() => s.send(new Uint8Array(42))).toThrow("ip link set eth0 up");
  });

  it("sends on the bound ifindex, closes once, refuses sends after close", () => {
    const native = fakeNative();
    const s = PacketSocket.open(link, native);
    s.send(new Uint8Array(42));
    s.close();
    s.close();
    expect(native.sent.length).toBe(1);
    expect(native.closed).toEqual([42]);
    expect(() => s.send(new Uint8Array(42))).toThrow(/closed/);
  });
});

describe("loadNative", () => {
  it("loads the addon built by pnpm install (open/send/close)", () => {
    const native = loadNative();
    expect(typeof native.open).toBe("function");
    expect(typeof native.send).toBe("function");
    expect(typeof native.close).toBe("function");
    // argument checks happen before any syscall
    expect(() => native.open(0)).toThrow(/ifindex must be > 0/);
    expect(() => native.send(-1, 1, new Uint8Array(4))).toThrow(/shorter than an Ethernet header/);
  });

  it("says how to build it when it is missing", () => {
    let err: unknown;
    try {
      loadNative("/nonexistent/lbkit-arp");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ArpError);
    expect((err as ArpError).code).toBe("ERR_NATIVE");
    expect((err as Error).message).toContain("pnpm install");
    expect((err as Error).message).toContain("/nonexistent/lbkit-arp");
  });
});
