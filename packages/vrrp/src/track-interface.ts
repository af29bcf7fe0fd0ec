/**
 * keepalived `track_interface`: a tracker that is in fault while an interface is down (not up, or no carrier),
 * or that adds `weight` to the priority while it is up (keepalived `weight` on a tracked interface).
 * Polls rtnetlink; stop it with `close()`.
 */
import { EventEmitter } from "eventemitter3";
import { VrrpError } from "./errors.js";
import type { Tracker } from "./instance.js";

export interface TrackInterfaceOptions {
  /** keepalived `weight`: with a weight, a down interface lowers the priority by it instead of causing FAULT */
  weight?: number;
  /** poll period, ms (default 200) */
  interval?: number;
}

export interface InterfaceTracker extends Tracker {
  readonly up: boolean;
  close(): void;
}

interface LinkSocket {
  getLinks(): Promise<{ data: { flags?: { up?: true; running?: true } }; attrs: { ifname?: string } }[]>;
  socket: { close?(): void };
}

export async function trackInterface(
  ifname: string,
  o: TrackInterfaceOptions = {},
): Promise<InterfaceTracker> {
  const nl = await import("netlink");
  const lib = ("default" in nl ? nl.default : nl) as typeof import("netlink");
  const rt = lib.createRtNetlink() as unknown as LinkSocket;
  const read = async () => {
    const link = (await rt.getLinks()).find((l) => l.attrs.ifname === ifname);
    if (!link) throw new VrrpError(`vrrp: tracked interface ${ifname} not found`);
    return Boolean(link.data.flags?.up && link.data.flags.running);
  };
  const emitter = new EventEmitter<{ change: () => void }>();
  let up = await read().catch((e: unknown) => {
    rt.socket.close?.();
    throw e;
  });
  const weight = o.weight;
  const timer = setInterval(async () => {
    const now = await read().catch(() => false);
    if (now === up) return;
    up = now;
    emitter.emit("change");
  }, o.interval ?? 200);
  timer.unref?.();
  return {
    get up() {
      return up;
    },
    get delta() {
      return weight !== undefined && !up ? -Math.abs(weight) : 0;
    },
    get fault() {
      return weight === undefined && !up;
    },
    on(event, fn) {
      emitter.on(event, fn);
      return this;
    },
    off(event, fn) {
      emitter.off(event, fn);
      return this;
    },
    close() {
      clearInterval(timer);
      rt.socket.close?.();
    },
  };
}
