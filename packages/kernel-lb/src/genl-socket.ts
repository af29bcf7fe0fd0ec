/**
 * The shell's one socket: a NETLINK_GENERIC socket (the `netlink` package's raw binding, loaded on first use) that
 * sends already-encoded requests and hands back the messages answering each, matched by sequence number.
 */
import { moduleExports } from "@lbkit/core";
import { KernelLbError } from "./errors.js";
import { decodeNetlink, endsAnswer, NETLINK_GENERIC, type NetlinkMessage } from "./genl.js";

/** A request/answer channel to the kernel's generic netlink (the seam `IpvsDirector` programs through). */
export interface GenlChannel {
  /** Sends `message` (whose header carries `seq`); resolves with the messages of `seq` up to the NLMSG_ERROR that ends them. */
  request(message: Uint8Array, seq: number): Promise<NetlinkMessage[]>;
  close(): void;
}

interface RawSocket {
  on(event: "message", fn: (msg: Buffer) => void): unknown;
  on(event: "error", fn: (err: Error) => void): unknown;
  send(msg: Uint8Array, options: { port: number }, callback: (err?: Error) => void): void;
  close(): void;
  unref(): void;
  ref(): void;
}

/** Opens a NETLINK_GENERIC socket; `timeoutMs` bounds each request (default 5000). */
export async function openGenlChannel(timeoutMs = 5000): Promise<GenlChannel> {
  const lib = moduleExports(await import("netlink")) as unknown as {
    RawNetlinkSocket: new (protocol: number) => RawSocket;
  };
  const socket = new lib.RawNetlinkSocket(NETLINK_GENERIC);
  socket.unref();
  const pending = new Map<
    number,
    { got: NetlinkMessage[]; done: (m: NetlinkMessage[]) => void; fail: (e: Error) => void }
  >();
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.fail(err);
    pending.clear();
  };
  socket.on("message", (buf) => {
    for (const m of decodeNetlink(buf)) {
      const p = pending.get(m.seq);
      if (!p) continue; // another request's late answer, or a notification
      p.got.push(m);
      if (endsAnswer(m)) {
        pending.delete(m.seq);
        p.done(p.got);
      }
    }
    if (pending.size === 0) socket.unref();
  });
  socket.on("error", (err) =>
    failAll(
      new KernelLbError("ERR_IPVS", `kernel-lb: generic-netlink socket failed: ${err.message}`, {
        cause: err,
      }),
    ),
  );
  return {
    request(message, seq) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(seq);
          reject(
            new KernelLbError(
              "ERR_IPVS",
              `kernel-lb: no generic-netlink answer to request ${seq} in ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs);
        const settle =
          <T>(fn: (v: T) => void) =>
          (v: T) => {
            clearTimeout(timer);
            fn(v);
          };
        pending.set(seq, { got: [], done: settle(resolve), fail: settle(reject) });
        socket.ref();
        socket.send(message, { port: 0 }, (err) => {
          if (!err) return;
          pending.delete(seq);
          settle(reject)(
            new KernelLbError("ERR_IPVS", `kernel-lb: generic-netlink send failed: ${err.message}`, {
              cause: err,
            }),
          );
        });
      });
    },
    close() {
      failAll(new KernelLbError("ERR_NOT_RUNNING", "kernel-lb: generic-netlink socket closed"));
      socket.close();
    },
  };
}
