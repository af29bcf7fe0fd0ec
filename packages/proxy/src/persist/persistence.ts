/**
 * A backend's persistence at run time: its cookie rules and stick table, feeding the balancer's own
 * persistence (the Pool is built with `cookie: PERSIST_COOKIE`, and each request's PickContext carries the
 * persisted server's cookie value under that name). The pool picks that server while it is up or draining;
 * otherwise the request is balanced as a new one (HAProxy's redispatch of a down sticky server), and the
 * cookie / table then name the new server. No sockets: the shells call `request` before the pick, `chosen` once
 * a server took it, and the header-rule helpers when they serialise.
 */
import type { PickContext } from "@lbkit/balancer";
import type { HeaderRules } from "../http/forward.js";
import type { RequestFacts } from "../route.js";
import { type CookieRead, type NormalCookie, readCookie, responseCookies } from "./cookie.js";
import type { NormalStick } from "./stick.js";
import { type StickEntry, StickTable } from "./stick-table.js";

/** The name the Pool's cookie persistence reads from the PickContext (never from a client's Cookie header). */
export const PERSIST_COOKIE = "lbkit.persist";
const NO_COOKIES: Readonly<Record<string, string>> = Object.freeze({});

export interface PersistRequest {
  read: CookieRead | undefined;
  key: string | undefined;
}

/**
 * Persistence sent this request to a particular server (a server cookie, or a stick key: HAProxy's SF_DIRECT), so a
 * retry after a failed connection must not leave it just because the backend is round-robin.
 */
export function persisted(p: PersistRequest | undefined): boolean {
  return p !== undefined && (p.read?.server !== undefined || p.key !== undefined);
}

export class Persistence {
  readonly table: StickTable | undefined;
  /** Hears every entry this node stores (the peers link pushes them); set by StickPeers. */
  onStore: ((e: StickEntry) => void) | undefined;
  /** What was last pushed to peers per key (bounded like the table). */
  private readonly pushed = new Map<string, { server: string; at: number }>();

  constructor(
    readonly cookie: NormalCookie | undefined,
    readonly stick: NormalStick | undefined,
    /** A server id's persistence cookie value (undefined when the server is gone). */
    private readonly cookieOf: (id: string) => string | undefined,
  ) {
    this.table = stick ? new StickTable(stick.size, stick.expire) : undefined;
  }

  /**
   * Before the pick: the server the request is persisted to goes where the pool's persistence reads it. `now`
   * is the stick table's clock, `wall` ms since the epoch (cookie dates).
   */
  request(
    ctx: PickContext,
    facts: RequestFacts,
    cookieFields: readonly string[],
    now: number,
    wall: number,
  ): PersistRequest {
    const read = this.cookie ? readCookie(this.cookie, cookieFields, wall) : undefined;
    const key = this.stick ? this.stick.key(facts) : undefined;
    let value = read?.server;
    if (value === undefined && key !== undefined && this.table) {
      const id = this.table.get(key, now);
      if (id !== undefined) value = this.cookieOf(id);
    }
    ctx.cookies = value === undefined ? NO_COOKIES : { [PERSIST_COOKIE]: value };
    return { read, key };
  }

  /**
   * A server took the request: the table learns or refreshes the entry. Peers hear new or changed entries at
   * once, refreshes of an unchanged one at most every quarter of `expire`.
   */
  chosen(p: PersistRequest, serverId: string, now: number): void {
    const table = this.table;
    if (p.key === undefined || !table) return;
    const e = table.set(p.key, serverId, now);
    if (!e || !this.onStore) return;
    const last = this.pushed.get(p.key);
    if (last && last.server === serverId && now - last.at < (this.stick as NormalStick).expire / 4) return;
    this.pushed.delete(p.key);
    this.pushed.set(p.key, { server: serverId, at: now });
    for (const k of this.pushed.keys()) {
      if (this.pushed.size <= table.size) break;
      this.pushed.delete(k);
    }
    this.onStore(e);
  }

  /** The request rules with the Cookie header replaced (indirect / prefix), when the read says so. */
  requestRules(base: HeaderRules, p: PersistRequest): HeaderRules {
    const forward = p.read?.forward;
    if (forward === undefined) return base;
    return {
      ...base,
      drop: [...base.drop, "cookie"],
      lines: forward === "" ? base.lines : `${base.lines}Cookie: ${forward}\r\n`,
    };
  }

  /** The response rules plus the persistence cookie lines for the server (by its cookie value) that answered. */
  responseRules(
    base: HeaderRules,
    p: PersistRequest,
    serverCookie: string,
    setCookies: readonly string[],
    now: number,
  ): HeaderRules {
    if (!this.cookie || !p.read) return base;
    const r = responseCookies(this.cookie, p.read, serverCookie, setCookies, now);
    if (r.lines === "") return base;
    return {
      ...base,
      drop: r.drop ? [...base.drop, "set-cookie"] : base.drop,
      lines: base.lines + r.lines,
    };
  }
}
