/** A planned handover's wait: resolves when a peer advertises as master, or rejects after `timeout` ms. */
import type { Time } from "@lbkit/core";
import type { Advert } from "./codec.js";
import { VrrpError } from "./errors.js";

export type AdvertListener = (src: string, advert: Advert) => void;

/**
 * `listen` registers a listener of every accepted advert and returns its remover; `onTimeout` runs before the
 * rejection (the instance resumes its priority).
 */
export function awaitPeerMaster(
  id: string,
  time: Time,
  timeout: number,
  listen: (fn: AdvertListener) => () => void,
  onTimeout: () => void,
): Promise<{ master: string }> {
  return new Promise((resolve, reject) => {
    const timer = time.setTimeout(() => {
      unlisten();
      onTimeout();
      reject(
        new VrrpError(
          "ERR_HANDOVER_TIMEOUT",
          `vrrp: handover of ${id}: no peer became master within ${timeout} ms`,
        ),
      );
    }, timeout);
    const unlisten = listen((src, a) => {
      if (a.priority === 0) return;
      time.clearTimeout(timer);
      unlisten();
      resolve({ master: src });
    });
  });
}
