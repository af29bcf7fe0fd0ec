import { describe, expect, it } from "vitest";
import { ArpError } from "./errors.js";
import { type NativePacket, PacketSocket } from "./socket.js";

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
    expect((err as ArpError).code).toBe("EPERM");
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
