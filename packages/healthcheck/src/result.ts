/** What one check reports, and the signature every checker implements. */

/**
 * Result codes in HAProxy's own words (the `check_status` column of `show stat`):
 * L4OK/L4TOUT/L4CON, L6OK/L6TOUT/L6RSP, L7OK/L7TOUT/L7RSP/L7STS, SOCKERR (connection reset or broken after
 * connect), plus PROCOK/PROCERR/PROCTOUT for exec.
 */
export type CheckCode =
  | "L4OK"
  | "L4TOUT"
  | "L4CON"
  | "L6OK"
  | "L6TOUT"
  | "L6RSP"
  | "L7OK"
  | "L7TOUT"
  | "L7RSP"
  | "L7STS"
  | "SOCKERR"
  | "PROCOK"
  | "PROCERR"
  | "PROCTOUT"
  | "CUSTOM"
  | "TIMEOUT"
  | "ERROR";

export interface CheckResult {
  /** The health verdict of this one check. */
  status: "up" | "down";
  code: CheckCode;
  /** Human-readable reason, e.g. `HTTP status 500 not in 200-399`. */
  reason: string;
  /** A short, printable excerpt of what the target answered (at most EXCERPT_MAX characters). */
  excerpt?: string;
  /** Weight as a percentage of the server's initial weight (agent `NN%`, custom checks). */
  weightPercent?: number;
  /** Absolute weight (keepalived `misc_dynamic`: exit code - 2). */
  weight?: number;
  /** Set by the agent checker: what the agent said, word by word. */
  agent?: AgentReply;
}

/** A parsed HAProxy agent-check reply. Words the agent did not say are left undefined (unchanged). */
export interface AgentReply {
  /** `ready`, `drain` or `maint`: the administrative state. */
  admin?: "ready" | "drain" | "maint";
  /** `up`, or `down`/`fail`/`stopped`: the operational state. */
  op?: "up" | "down" | "fail" | "stopped";
  /** Text after `#` following down/fail/stopped. */
  description?: string;
  /** `NN%`: weight relative to the initial weight. */
  weightPercent?: number;
  /** `maxconn:NN`. */
  maxConn?: number;
}

export interface CheckContext {
  /** Aborted at the check timeout or when the checker stops; checkers must settle promptly. */
  signal: AbortSignal;
  /** The check timeout in milliseconds (informational: the shell enforces it through `signal`). */
  timeout: number;
}

/** A checker is a small async function: one attempt, one result. It should resolve, not reject. */
export type Checker = (ctx: CheckContext) => Promise<CheckResult>;

export const EXCERPT_MAX = 128;

/**
 * `text` made safe to print: control characters (C0, DEL and C1, so no terminal escape sequence survives) shown
 * as `.`, cut at `max` characters with a trailing `…`.
 */
export function printable(text: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: replacing control characters is the point
  const clean = text.slice(0, max).replace(/[\u0000-\u001f\u007f-\u009f]/g, ".");
  return text.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** A printable excerpt of what a target answered, at most EXCERPT_MAX characters. */
export function excerpt(data: string | Uint8Array | undefined): string | undefined {
  if (data === undefined || data.length === 0) return undefined;
  const text =
    typeof data === "string"
      ? data
      : Buffer.from(data.buffer, data.byteOffset, Math.min(data.length, EXCERPT_MAX + 1)).toString("latin1");
  if (text.length === 0) return undefined;
  return printable(text, EXCERPT_MAX);
}

/** The most characters of a result's `reason`. */
export const REASON_MAX = 512;

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A reason as results carry it: printable (it may quote what a target sent) and bounded. */
export function reasonText(reason: string): string {
  return reason.length > REASON_MAX || CONTROL.test(reason) ? printable(reason, REASON_MAX) : reason;
}

export function up(code: CheckCode, reason: string, data?: string | Uint8Array): CheckResult {
  const ex = excerpt(data);
  const r = reasonText(reason);
  return ex === undefined
    ? { status: "up", code, reason: r }
    : { status: "up", code, reason: r, excerpt: ex };
}

export function down(code: CheckCode, reason: string, data?: string | Uint8Array): CheckResult {
  const ex = excerpt(data);
  const r = reasonText(reason);
  return ex === undefined
    ? { status: "down", code, reason: r }
    : { status: "down", code, reason: r, excerpt: ex };
}
