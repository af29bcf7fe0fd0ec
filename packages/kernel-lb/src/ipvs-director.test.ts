// The IPVS shell against a scripted kernel (a GenlChannel answering like the generic-netlink controller and the IPVS
// family): which requests it sends, in what order, and what it does with each acknowledgement.
import { Pool } from "@lbkit/balancer";
import { describe, expect, it } from "vitest";
import { decodeNetlink, type NetlinkMessage } from "./genl.js";
import type { GenlChannel } from "./genl-socket.js";
import { encodeIpvs, IPVS_CMD, type IpvsCommand } from "./ipvs.js";
import { IpvsDirector } from "./ipvs-director.js";

const FAMILY = 42;
const CMD_NAME = Object.fromEntries(Object.entries(IPVS_CMD).map(([k, v]) => [v, k]));

function message(type: number, seq: number, payload: number[]): NetlinkMessage {
  return { type, flags: 0, seq, pid: 1, payload: new Uint8Array(payload) };
}
const le32 = (n: number) => new Uint8Array(new Int32Array([n]).buffer);
const ack = (seq: number, errno = 0) => message(2, seq, [...le32(-errno), ...new Array(16).fill(0)]);

/** A kernel: `ipvs: false` knows no IPVS family; `refuse` answers a command name with an errno. */
function kernel(o: { ipvs?: boolean; refuse?: Record<string, number> } = {}) {
  const sent: Uint8Array[] = [];
  let closed = 0;
  let opened = 0;
  const channel: GenlChannel = {
    async request(bytes, seq) {
      sent.push(bytes);
      const [m] = decodeNetlink(bytes);
      if (m!.type === 16) {
        if (o.ipvs === false) return [ack(seq, 2)];
        const id = new Uint8Array(new Uint16Array([FAMILY]).buffer);
        return [
          message(16, seq, [1, 2, 0, 0, ...new Uint8Array(new Uint16Array([6, 1]).buffer), ...id, 0, 0]),
          ack(seq),
        ];
      }
      expect(m!.type).toBe(FAMILY);
      return [ack(seq, o.refuse?.[CMD_NAME[m!.payload[0]!]!] ?? 0)];
    },
    close: () => void closed++,
  };
  return {
    sent,
    open: async () => {
      opened++;
      return channel;
    },
    get closed() {
      return closed;
    },
    get opened() {
      return opened;
    },
    /** the IPVS requests sent since `from`, as the commands they encode (seq taken from each) */
    commands(from = 0): string[] {
      return sent.slice(from).flatMap((b) => {
        const [m] = decodeNetlink(b);
        return m!.type === FAMILY ? [CMD_NAME[m!.payload[0]!]!] : [];
      });
    },
  };
}

function pool() {
  return new Pool({
    servers: [
      { id: "r1", address: "198.18.0.12", weight: 1 },
      { id: "r2", address: "198.18.0.13", weight: 2 },
    ],
  });
}

describe("IpvsDirector", () => {
  it("resolves the family, then programs each service: a stale one deleted, the service, its destinations", async () => {
    const k = kernel();
    const p = pool();
    const d = new IpvsDirector({
      netlink: k.open,
      services: [{ id: "web", vip: "198.18.0.100", port: 80, pool: p }],
    });
    await d.start();
    expect(d.isRunning).toBe(true);
    expect(k.commands()).toEqual(["DEL_SERVICE", "NEW_SERVICE", "NEW_DEST", "NEW_DEST"]);
    // the bytes are encodeIpvs' own, with the family id the controller gave and increasing sequence numbers
    const service = { address: "198.18.0.100", port: 80, protocol: "tcp" } as const;
    const second: IpvsCommand = { cmd: "NEW_SERVICE", service: { ...service, scheduler: "wrr" } };
    const seq = decodeNetlink(k.sent[2]!)[0]!.seq;
    expect([...k.sent[2]!]).toEqual([...encodeIpvs(second, FAMILY, seq)]);

    const syncs: unknown[] = [];
    d.on("sync", (e) => syncs.push(e));
    const from = k.sent.length;
    p.setWeight("r2", 5);
    await d.sync();
    expect(k.commands(from)).toEqual(["SET_DEST"]);
    p.setState("r1", "down");
    await d.sync();
    expect(k.commands(from)).toEqual(["SET_DEST", "DEL_DEST"]);
    expect(syncs).toMatchObject([
      { changed: ["web"], commands: 1 },
      { changed: ["web"], commands: 1 },
    ]);

    await d.stop();
    expect(k.commands(from)).toEqual(["SET_DEST", "DEL_DEST", "DEL_SERVICE"]);
    expect(k.closed).toBe(1);
    expect(d.isRunning).toBe(false);
  });

  it("rejects start() on a kernel without IPVS, naming the module, and stays never started", async () => {
    const k = kernel({ ipvs: false });
    const d = new IpvsDirector({
      netlink: k.open,
      services: [{ id: "web", vip: "198.18.0.100", port: 80, pool: pool() }],
    });
    await expect(d.start()).rejects.toMatchObject({
      code: "ERR_IPVS_MISSING",
      message: expect.stringContaining("modprobe ip_vs"),
    });
    expect(d.isRunning).toBe(false);
    expect(k.closed).toBe(1);
    expect(k.commands()).toEqual([]);
    await expect(d.sync()).rejects.toMatchObject({ code: "ERR_NOT_RUNNING" });
    await d.stop(); // nothing to undo
    expect(k.opened).toBe(1);
  });

  it("names the command, the service, the destination and the errno IPVS refused; the next sync reprograms afresh", async () => {
    const refuse: Record<string, number> = {};
    const k = kernel({ refuse });
    const p = pool();
    const d = new IpvsDirector({
      netlink: k.open,
      services: [{ id: "web", vip: "198.18.0.100", port: 80, pool: p }],
    });
    await d.start();
    refuse.SET_DEST = 22;
    p.setWeight("r1", 3);
    await expect(d.sync()).rejects.toMatchObject({
      code: "ERR_IPVS",
      message: "kernel-lb: IPVS refused SET_DEST tcp 198.18.0.100:80 → 198.18.0.12:80: EINVAL (22)",
    });
    delete refuse.SET_DEST;
    const from = k.sent.length;
    await d.sync();
    expect(k.commands(from)).toEqual(["DEL_SERVICE", "NEW_SERVICE", "NEW_DEST", "NEW_DEST"]);
    await d.stop();
  });

  it("a failed start closes the socket and leaves nothing applied", async () => {
    const k = kernel({ refuse: { NEW_DEST: 17 } });
    const d = new IpvsDirector({
      netlink: k.open,
      services: [{ id: "web", vip: "198.18.0.100", port: 80, pool: pool() }],
    });
    await expect(d.start()).rejects.toThrow(
      /IPVS refused NEW_DEST tcp 198\.18\.0\.100:80 → 198\.18\.0\.12:80: EEXIST \(17\)/,
    );
    expect(d.isRunning).toBe(false);
    expect(k.closed).toBe(1);
  });
});

describe("IpvsDirector without a socket", () => {
  it("a socket that cannot open rejects start() and a later start() tries again", async () => {
    let tries = 0;
    const d = new IpvsDirector({
      netlink: async () => {
        tries++;
        throw new Error("no netlink here");
      },
    });
    await expect(d.start()).rejects.toThrow("no netlink here");
    await expect(d.start()).rejects.toThrow("no netlink here");
    expect(tries).toBe(2);
    expect(d.isRunning).toBe(false);
  });
});
