/**
 * What the L7 shell decides before it picks a server, kept apart from the socket code: the frontend's compiled
 * header rules, `http-request` deny/redirect/return evaluated over the request facts, and the bytes of the
 * answers the proxy gives itself.
 */
import { Buffer } from "node:buffer";
import { CidrMap } from "./cidr.js";
import type { HttpRequestRule, HttpResponseRule, NormalFrontend, ResponseFacts } from "./config.js";
import { type HeaderRules, headerRules } from "./http/forward.js";
import { type CannedStatus, cannedResponse } from "./http/responses.js";
import type { RequestHead } from "./http/types.js";
import type { RequestFacts } from "./route.js";

const compiled = new WeakMap<NormalFrontend, HeaderRules>();

/** The frontend's set/add/del-header rules and forwarding headers, compiled once per configuration. */
export function frontendHeaderRules(fe: NormalFrontend): HeaderRules {
  let r = compiled.get(fe);
  if (r) return r;
  const set: [string, string][] = [];
  const add: [string, string][] = [];
  const del: string[] = [];
  for (const rule of fe.httpRequest) {
    if ("setHeader" in rule) set.push([rule.setHeader, rule.value]);
    else if ("addHeader" in rule) add.push([rule.addHeader, rule.value]);
    else if ("delHeader" in rule) del.push(rule.delHeader);
  }
  const ff = fe.forwardFor;
  let except: ((a: string) => boolean) | undefined;
  if (ff?.except !== undefined) {
    const map = new CidrMap<true>();
    for (const c of Array.isArray(ff.except) ? ff.except : [ff.except]) map.set(c as string, true);
    except = (a) => map.get(a) === true;
  }
  r = headerRules({
    set,
    add,
    del,
    ...(ff
      ? {
          forwardedFor: { ...(ff.header ? { header: ff.header } : {}), ...(except ? { except } : {}) },
          forwardedProto: ff.proto === true,
          forwardedHost: ff.host === true,
          forwarded: ff.forwarded === true,
        }
      : {}),
  });
  compiled.set(fe, r);
  return r;
}

/**
 * A frontend's `http-response` rules, prepared once per configuration: `fixed` when every rule is an
 * unconditional header edit (the common case: compiled once, nothing evaluated per response), else the rules to
 * evaluate on each response (`responseAction`).
 */
export type ResponsePlan =
  | { readonly fixed: HeaderRules; readonly rules?: undefined }
  | {
      readonly fixed?: undefined;
      readonly rules: readonly HttpResponseRule[];
      readonly cache: Map<string, HeaderRules>;
    };

const plans = new WeakMap<NormalFrontend, ResponsePlan>();

/** The frontend's `http-response` plan, prepared once per configuration. */
export function responsePlan(fe: NormalFrontend): ResponsePlan {
  let p = plans.get(fe);
  if (p) return p;
  const dynamic = fe.httpResponse.some((r) => r.if !== undefined || "deny" in r || "return" in r);
  p = dynamic
    ? { rules: fe.httpResponse, cache: new Map() }
    : { fixed: compileEdits(fe.httpResponse, undefined) };
  plans.set(fe, p);
  return p;
}

function compileEdits(rules: readonly HttpResponseRule[], only: readonly boolean[] | undefined): HeaderRules {
  const set: [string, string][] = [];
  const add: [string, string][] = [];
  const del: string[] = [];
  rules.forEach((rule, i) => {
    if (only && !only[i]) return;
    if ("setHeader" in rule) set.push([rule.setHeader, rule.value]);
    else if ("addHeader" in rule) add.push([rule.addHeader, rule.value]);
    else if ("delHeader" in rule) del.push(rule.delHeader);
  });
  return headerRules({ set, add, del });
}

const MAX_CACHED_EDITS = 64;

/**
 * Evaluates the `http-response` rules on one response, in order: the header edits whose condition holds, or the
 * answer of the first `deny` (502 by default) / `return` whose condition holds, which replaces the response.
 */
export function responseAction(
  plan: ResponsePlan,
  facts: ResponseFacts,
  close: boolean,
): { headers: HeaderRules } | LocalAnswer {
  if (plan.rules === undefined) return { headers: plan.fixed };
  const applies: boolean[] = [];
  let key = "";
  for (const r of plan.rules) {
    const on = r.if === undefined || r.if(facts) === true;
    if (on && "deny" in r) {
      const status = r.status ?? 502;
      return {
        status,
        bytes:
          cannedOrNull(status, close) ?? answer(status, "Content-Type: text/plain\r\n", `${status}\n`, close),
        termination: "proxy",
      };
    }
    if (on && "return" in r)
      return {
        status: r.return,
        bytes: answer(r.return, `Content-Type: ${r.contentType ?? "text/plain"}\r\n`, r.body ?? "", close),
        termination: "none",
      };
    applies.push(on);
    key += on ? "1" : "0";
  }
  let headers = plan.cache.get(key);
  if (!headers) {
    headers = compileEdits(plan.rules, applies);
    if (plan.cache.size < MAX_CACHED_EDITS) plan.cache.set(key, headers);
  }
  return { headers };
}

export type LocalAnswer = { status: number; bytes: Buffer; termination: "proxy" | "none" };

const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  403: "Forbidden",
  404: "Not Found",
  410: "Gone",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

function answer(status: number, headers: string, body: string, close: boolean): Buffer {
  const reason = STATUS_TEXT[status] ?? "Status";
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n` +
      `Connection: ${close ? "close" : "keep-alive"}\r\n\r\n${body}`,
  );
}

/** The first deny/redirect/return rule whose condition holds, as the bytes to send; undefined: forward the request. */
export function localAnswer(
  rules: readonly HttpRequestRule[],
  facts: RequestFacts,
  close: boolean,
): LocalAnswer | undefined {
  for (const r of rules) {
    if ("redirect" in r) {
      if (r.if && !r.if(facts)) continue;
      const code = r.code ?? 302;
      return {
        status: code,
        bytes: answer(code, `Location: ${r.redirect}\r\n`, "", close),
        termination: "none",
      };
    }
    if ("deny" in r) {
      if (r.if && !r.if(facts)) continue;
      const status = r.status ?? 403;
      const canned = cannedOrNull(status, close);
      return {
        status,
        bytes: canned ?? answer(status, "Content-Type: text/plain\r\n", `${status}\n`, close),
        termination: "proxy",
      };
    }
    if ("return" in r) {
      if (r.if && !r.if(facts)) continue;
      const type = r.contentType ?? "text/plain";
      return {
        status: r.return,
        bytes: answer(r.return, `Content-Type: ${type}\r\n`, r.body ?? "", close),
        termination: "none",
      };
    }
  }
  return undefined;
}

function cannedOrNull(status: number, close: boolean): Buffer | undefined {
  try {
    return cannedResponse(status as CannedStatus, close);
  } catch {
    return undefined;
  }
}

/** Host for routing: without port, lower-case. */
export function routingHost(head: RequestHead): string | undefined {
  const h = head.host;
  if (h === undefined) return undefined;
  let end = h.length;
  if (h.charCodeAt(0) === 0x5b) {
    const close = h.indexOf("]");
    return (close > 0 ? h.slice(0, close + 1) : h).toLowerCase();
  }
  const colon = h.lastIndexOf(":");
  if (colon >= 0) end = colon;
  return h.slice(0, end).toLowerCase();
}
