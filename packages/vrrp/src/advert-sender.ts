/**
 * Sending adverts fast: every advert is encoded once per (priority, destination) and sent at once when no other
 * is in flight (before the VIP, GARP and event work of the same step), otherwise behind the earlier ones. At start
 * the takeover path is warmed (JIT): the machine's step into master and the send queue run on a sink, so a
 * backup's first advert as master does not run cold code (first calls cost 50–100 µs each).
 */
import { type Advert, AuthType, encodeAdvert, passwordAuthData } from "./codec.js";
import type { VrrpConfig } from "./config.js";
import type { VrrpError } from "./errors.js";
import { asVrrpError } from "./errors.js";
import { type MachineConfig, type MachineState, step } from "./machine.js";
import type { Transport } from "./transports/transport.js";

export class AdvertSender {
  /** settles when every queued advert has left */
  sends: Promise<void> = Promise.resolve();
  private sending = 0;
  private readonly encoded = new Map<string, Uint8Array>();
  private transport: Transport | undefined;

  constructor(
    private readonly config: VrrpConfig,
    private readonly onSent: () => void,
    private readonly onError: (e: VrrpError) => void,
  ) {}

  /** Uses `t` from now on; encodes its adverts for `priority` and warms the takeover path. */
  attach(t: Transport | undefined, machine?: MachineConfig, state?: MachineState): Promise<void> {
    this.transport = t;
    this.encoded.clear();
    if (!t || !machine || !state) return Promise.resolve();
    for (const dst of t.destinations) this.bytes(t, state.priority, dst);
    const warm: MachineState = { ...state, state: "backup", timerAt: 0, hold: false };
    for (let i = 0; i < 50; i++) step(machine, warm, { type: "timer" }, 1);
    const sink: Transport = {
      family: t.family,
      sourceAddress: t.sourceAddress,
      destinations: t.destinations,
      checksTtl: t.checksTtl,
      send: () => Promise.resolve(),
      onMessage: () => () => {},
    };
    for (let i = 0; i < 20; i++) this.queue(state.priority, sink);
    return this.sends;
  }

  /** Sends the advert at `priority` to every destination: now when nothing is queued, else behind the rest. */
  send(priority: number): void {
    if (this.transport) this.queue(priority, this.transport);
  }

  private queue(priority: number, t: Transport): void {
    const send = () => this.sendTo(priority, t).finally(() => this.sending--);
    this.sends = this.sending++ === 0 ? send() : this.sends.then(send);
  }

  private async sendTo(priority: number, t: Transport): Promise<void> {
    for (const dst of t.destinations) {
      try {
        await t.send(dst, this.bytes(t, priority, dst));
        if (t === this.transport) this.onSent();
      } catch (e) {
        this.onError(asVrrpError("ERR_TRANSPORT", `advert to ${dst}`, e));
      }
    }
  }

  /** The encoded advert for `priority` to `dst`, built once (the fields other than the priority never change). */
  private bytes(t: Transport, priority: number, dst: string): Uint8Array {
    const key = `${priority} ${dst}`;
    let bytes = this.encoded.get(key);
    if (!bytes) {
      bytes = encodeAdvert(this.fields(priority), { src: t.sourceAddress, dst });
      this.encoded.set(key, bytes);
    }
    return bytes;
  }

  private fields(priority: number): Advert {
    const c = this.config;
    return {
      version: c.version,
      vrid: c.vrid,
      priority,
      advertInterval: c.advertInterval,
      addresses: c.virtualAddresses.map((v) => v.address),
      ...(c.version === 2
        ? c.authPassword === undefined
          ? { authType: AuthType.none }
          : { authType: AuthType.simple, authData: passwordAuthData(c.authPassword) }
        : {}),
    };
  }
}
