// Classifies one vector's transcript — what the client received from the proxy and what the origin received —
// as rejected, forwarded-safely or UNSAFE. Pure.
import { type Framed, frameStream, header, type Message } from "./frame";
import type { OriginRecord } from "./origin";
import type { RequestVector, ResponseVector } from "./vectors";

export type Verdict = "rejected" | "forwarded-safely" | "UNSAFE";

export interface Outcome {
  verdict: Verdict;
  /** one line: what the proxy answered and what the origin saw */
  detail: string;
  /**
   * UNSAFE because the two sides framed the bytes differently here and now (a request the client never got an
   * answer for, bytes left over at the origin, an injected response reaching the client) — not only because an
   * ambiguous message was passed on, which another implementation could frame differently
   */
  desync?: boolean;
}

/**
 * Flags that make a forwarded message ambiguous: another implementation could frame it differently, so a
 * proxy must never pass them on (RFC 9112 §6.1, §6.3, §5.1, §5.2, §2.2).
 */
export const UNSAFE_FLAGS = new Set([
  "te-and-cl",
  "multiple-te",
  "te-not-chunked",
  "te-invalid",
  "te-chunked-twice",
  "te-on-http10",
  "cl-conflict",
  "cl-invalid",
  "cl-overflow",
  "obs-fold",
  "space-before-colon",
  "invalid-field-name",
  "empty-field-name",
  "no-colon",
  "nul-in-value",
  "bare-lf",
  "bare-cr",
  "bare-lf-in-chunked",
  "multiple-host",
  "invalid-method",
  "invalid-target",
  "body-framing-on-204",
]);

export interface ClientView {
  /** every byte the proxy sent back */
  bytes: Buffer;
  /** the proxy closed the connection */
  closed: boolean;
}

const statusList = (ms: readonly Message[]) => ms.map((m) => m.status).join(",") || "none";
const unsafeFlags = (m: Message) => m.flags.filter((f) => UNSAFE_FLAGS.has(f));
const preview = (b: Buffer) => JSON.stringify(b.toString("latin1", 0, 40));

function originSummary(o: OriginRecord): { problems: string[]; framed: number; desync: boolean } {
  const problems: string[] = [];
  let desync = false;
  for (const m of o.messages) {
    const f = unsafeFlags(m.message);
    if (f.length)
      problems.push(
        `origin got an ambiguous message (${f.join(", ")}) for ${m.message.method} ${m.message.target}`,
      );
  }
  for (const c of o.conns) {
    const fr: Framed | undefined = o.framed.get(c.id);
    if (!fr) continue;
    if (fr.error) problems.push(`origin could not frame what it got: ${fr.error}`);
    else if (fr.rest.length > 0 && !fr.pendingBody) {
      problems.push(
        `origin holds ${fr.rest.length} unframed bytes ${preview(fr.rest)} after ${fr.messages.length} message(s)`,
      );
      desync = true;
    }
  }
  return { problems, framed: o.messages.length, desync };
}

/**
 * Unanswered origin messages that the proxy framed exactly as the client's bytes frame strictly — the same
 * method, target and body length at the same position, at the tail of the exchange, the proxy having closed —
 * are answers it dropped when it refused a later request (Node's http server does this), not smuggled requests.
 * Returns them as text, or undefined when some unanswered message is not of that kind.
 */
function lostAnswers(
  v: RequestVector,
  origin: OriginRecord,
  unanswered: readonly OriginRecord["messages"][number][],
  answeredCount: number,
  closed: boolean,
): string | undefined {
  if (unanswered.length === 0 || !closed) return undefined;
  const strict = frameStream(Buffer.from(v.raw, "latin1"), "request").messages;
  for (const u of unanswered) {
    const i = origin.messages.indexOf(u);
    const s = strict[i];
    if (i < answeredCount || !s) return undefined;
    if (
      s.method !== u.message.method ||
      s.target !== u.message.target ||
      s.bodyLength !== u.message.bodyLength
    )
      return undefined;
  }
  return unanswered.map((m) => `${m.message.method} ${m.message.target}`).join("; ");
}

/** A request vector: the origin must have seen only clean messages, each answered to the client in order. */
export function classifyRequest(v: RequestVector, client: ClientView, origin: OriginRecord): Outcome {
  const got = frameStream(client.bytes, "response", { requestMethods: v.methods, closed: client.closed });
  const finals = got.messages.filter((m) => (m.status ?? 0) >= 200);
  // the origin tags each answer in a header and in its body (an HTTP/0.9 answer has no header)
  const tags = finals.map((m) => header(m, "x-origin-msg")).filter((x): x is string => x !== undefined);
  const inBodies = [...client.bytes.toString("latin1").matchAll(/\{"seq":(\d+),/g)].map((m) => m[1]!);
  const answered = tags.length >= inBodies.length ? tags : inBodies;
  const { problems, framed, desync: originDesync } = originSummary(origin);
  let desync = originDesync;
  const seqs = origin.messages.map((m) => String(m.seq));
  const unanswered = origin.messages.filter((m) => !answered.includes(String(m.seq)));
  const lost = lostAnswers(v, origin, unanswered, answered.length, client.closed);
  if (unanswered.length > 0 && !lost) {
    const targets = unanswered.map((m) => `${m.message.method} ${m.message.target}`);
    problems.push(`origin answered ${targets.join("; ")} but the client never got that answer`);
    desync = true;
  }
  if (answered.join(",") !== seqs.filter((s) => answered.includes(s)).join(",")) {
    problems.push(`answers reached the client out of order (${answered.join(",")})`);
    desync = true;
  }
  const said = `proxy answered ${statusList(finals)}${client.closed ? " and closed" : ""}`;
  if (problems.length > 0) return { verdict: "UNSAFE", detail: `${said}; ${problems.join("; ")}`, desync };
  if (framed === 0) return { verdict: "rejected", detail: `${said}; origin saw nothing` };
  const what = origin.messages.map(
    (m) => `${m.message.method} ${m.message.target} (${m.message.framing} ${m.message.bodyLength} B)`,
  );
  const note = lost ? `; the answer to ${lost} was lost when the proxy closed` : "";
  return { verdict: "forwarded-safely", detail: `${said}; origin saw ${what.join("; ")}${note}` };
}

/**
 * A response vector: the client's stream must frame cleanly, hold no injected response (X-Smuggled), and the
 * follow-up request (/check), when sent, must get the origin's own answer to it.
 */
export function classifyResponse(
  v: ResponseVector,
  client: ClientView,
  origin: OriginRecord,
  sentCheck: boolean,
): Outcome {
  const got = frameStream(client.bytes, "response", { closed: client.closed });
  const finals = got.messages.filter((m) => (m.status ?? 0) >= 200);
  const problems: string[] = [];
  let desync = false;
  const said = `proxy answered ${statusList(finals)}${client.closed ? " and closed" : ""}`;
  if (finals.some((m) => header(m, "x-smuggled") !== undefined)) {
    problems.push("the client received the injected response");
    desync = true;
  }
  for (const m of got.messages) {
    const f = unsafeFlags(m);
    if (f.length) problems.push(`the client got an ambiguous response (${f.join(", ")})`);
  }
  if (got.error) problems.push(`the client could not frame the proxy's answer: ${got.error}`);
  // a response cut short by the proxy closing (a truncated chunked body) is how a proxy reports a bad upstream
  // response it had started to forward: not a desync
  else if (got.rest.length > 0 && !got.pendingBody) {
    problems.push(`${got.rest.length} unframed bytes ${preview(got.rest)} reached the client`);
    desync = true;
  }
  const check = origin.messages.find((m) => m.message.target === "/check");
  if (sentCheck && finals.length >= 2) {
    const second = header(finals[1]!, "x-origin-msg");
    if (!check || second !== String(check.seq)) {
      problems.push("the follow-up request got someone else's response");
      desync = true;
    }
  }
  if (problems.length > 0) return { verdict: "UNSAFE", detail: `${said}; ${problems.join("; ")}`, desync };
  const first = finals[0];
  const cut = got.pendingBody && client.closed ? ", a response cut short" : "";
  if (!first || (first.status ?? 0) >= 500) return { verdict: "rejected", detail: `${said}${cut}` };
  return {
    verdict: "forwarded-safely",
    detail: `${said}; first response ${first.framing} ${first.bodyLength} B${v.close ? " (origin closed)" : ""}`,
  };
}
