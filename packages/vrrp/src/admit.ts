/** The receive checks of one packet for an instance, and the time its Master_Down_Timer counts from. */
import { systemTime, type Time } from "@lbkit/core";
import { type Advert, type DiscardReason, type ReceivedPacket, validateAdvert } from "./codec.js";
import type { VrrpConfig } from "./config.js";
import type { Transport } from "./transports/transport.js";

export type Admitted =
  | { ok: true; advert: Advert; at: number }
  | { ok: false; reason: DiscardReason; detail: string };

export function admit(p: ReceivedPacket, c: VrrpConfig, t: Transport | undefined, time: Time): Admitted {
  // the Master_Down_Timer runs from the advert's arrival, not from the end of decoding and validation; a
  // transport's stamp is performance.now(), so it is used only with the system clock (never later than now)
  const now = time.now();
  const at = time === systemTime && p.receivedAt !== undefined && p.receivedAt <= now ? p.receivedAt : now;
  const r = validateAdvert(p, {
    version: c.version,
    vrid: c.vrid,
    advertInterval: c.version === 2 ? c.advertInterval : undefined,
    authPassword: c.authPassword,
    ignoreTtl: !t?.checksTtl,
  });
  return r.ok ? { ok: true, advert: r.advert, at } : r;
}
