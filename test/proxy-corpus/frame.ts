// A strict-and-observant HTTP/1.1 message framer for the corpus: splits a byte stream into messages as an
// RFC 9112 recipient would (Transfer-Encoding chunked over Content-Length, 1xx/204/304 and HEAD without a body)
// and records every ambiguity it had to resolve, so the classifier can tell "one well-framed, normalised
// message" from "something another implementation could frame differently". Pure: bytes in, messages out.

export type Kind = "request" | "response";

export interface Message {
  /** request: method, target, version; response: version, status */
  method?: string;
  target?: string;
  version: string;
  status?: number;
  headers: [string, string][];
  bodyLength: number;
  /** decoded body (chunked bodies are de-chunked) */
  body: Buffer;
  framing: "content-length" | "chunked" | "none" | "until-close";
  /** ambiguities and violations seen (empty for a clean message) */
  flags: string[];
  /** the message's bytes as received */
  raw: Buffer;
}

export interface Framed {
  messages: Message[];
  /** bytes after the last complete message */
  rest: Buffer;
  /** why the framer stopped before the end, if it did (a violation it cannot frame past) */
  error?: string;
  /** the rest starts with a complete head whose body has not fully arrived */
  pendingBody?: boolean;
}

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A control character other than HTAB (field values allow VCHAR, obs-text, SP and HTAB only). */
const hasCtl = (s: string, allowTab = true): boolean => {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && !(allowTab && c === 0x09)) || c === 0x7f) return true;
  }
  return false;
};

function headEnd(buf: Buffer, from: number): { end: number; next: number } | undefined {
  // the head ends at the first empty line, CRLF or bare LF (a bare LF is flagged)
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== 0x0a) continue;
    if (buf[i + 1] === 0x0a) return { end: i + 1, next: i + 2 };
    if (buf[i + 1] === 0x0d && buf[i + 2] === 0x0a) return { end: i + 1, next: i + 3 };
  }
  return undefined;
}

/** Splits a head into lines, flagging bare LF and bare CR. */
function lines(text: string, flags: Set<string>): string[] {
  const out: string[] = [];
  const pieces = text.split("\n");
  if (pieces.at(-1) === "") pieces.pop();
  for (const piece of pieces) {
    if (piece.endsWith("\r")) out.push(piece.slice(0, -1));
    else {
      flags.add("bare-lf");
      out.push(piece);
    }
  }
  for (const l of out) if (l.includes("\r")) flags.add("bare-cr");
  return out;
}

function parseHeaders(hl: string[], flags: Set<string>): [string, string][] {
  const headers: [string, string][] = [];
  for (const line of hl) {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      flags.add("obs-fold");
      const last = headers.at(-1);
      if (last) last[1] = `${last[1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0) {
      flags.add(colon === 0 ? "empty-field-name" : "no-colon");
      continue;
    }
    let name = line.slice(0, colon);
    if (/[ \t]$/.test(name)) {
      flags.add("space-before-colon");
      name = name.trimEnd();
    }
    if (!TCHAR.test(name)) flags.add("invalid-field-name");
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    if (hasCtl(value)) flags.add(value.includes("\0") ? "nul-in-value" : "ctl-in-value");
    headers.push([name, value]);
  }
  return headers;
}

const all = (h: [string, string][], name: string) =>
  h.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);

interface Framing {
  kind: "content-length" | "chunked" | "none" | "until-close";
  length?: number;
}

function framing(kind: Kind, m: Message, requestMethod: string | undefined, flags: Set<string>): Framing {
  const te = all(m.headers, "transfer-encoding");
  const cl = all(m.headers, "content-length");
  if (te.length > 1) flags.add("multiple-te");
  if (te.length > 0 && cl.length > 0) flags.add("te-and-cl");
  if (kind === "request" && te.length > 0 && m.version === "HTTP/1.0") flags.add("te-on-http10");
  if (kind === "response") {
    const s = m.status ?? 0;
    if ((s >= 100 && s < 200) || s === 204 || s === 304 || requestMethod === "HEAD") {
      if (s === 204 && (cl.length > 0 || te.length > 0)) flags.add("body-framing-on-204");
      return { kind: "none" };
    }
  }
  if (te.length > 0) {
    const codings = te
      .join(",")
      .split(",")
      .map((c) => c.trim().toLowerCase());
    if (codings.some((c) => !TCHAR.test(c))) flags.add("te-invalid");
    if (codings.at(-1) !== "chunked") {
      flags.add("te-not-chunked");
      return kind === "request" ? { kind: "none" } : { kind: "until-close" };
    }
    if (codings.filter((c) => c === "chunked").length > 1) flags.add("te-chunked-twice");
    if (codings.length > 1) flags.add("te-coding-list");
    return { kind: "chunked" };
  }
  if (cl.length > 0) {
    const values = cl.flatMap((v) => v.split(",").map((x) => x.trim()));
    if (values.some((v) => !/^\d+$/.test(v))) {
      flags.add("cl-invalid");
      return { kind: "none" };
    }
    if (new Set(values.map((v) => BigInt(v))).size > 1) flags.add("cl-conflict");
    else if (values.length > 1) flags.add("cl-repeated");
    const n = BigInt(values[0]!);
    if (n > BigInt(Number.MAX_SAFE_INTEGER)) {
      flags.add("cl-overflow");
      return { kind: "none" };
    }
    return { kind: "content-length", length: Number(n) };
  }
  return kind === "request" ? { kind: "none" } : { kind: "until-close" };
}

const CHUNK_LINE =
  /^([0-9A-Fa-f]+)((?:[ \t]*;[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+\-.^_`|~0-9A-Za-z]+|"(?:[\t !#-[\]-~\x80-\xff]|\\[\t -~\x80-\xff])*"))?)*)$/;

/** Decodes a chunked body at `from`; undefined when incomplete; throws a reason on a violation. */
function chunked(
  buf: Buffer,
  from: number,
  flags: Set<string>,
): { body: Buffer; next: number; trailers: [string, string][] } | undefined {
  const parts: Buffer[] = [];
  let i = from;
  for (;;) {
    const lf = buf.indexOf(0x0a, i);
    if (lf < 0) {
      if (buf.length - i > 4096) throw new Error("chunk-size line too long");
      return undefined;
    }
    const crlf = buf[lf - 1] === 0x0d && lf - 1 >= i;
    if (!crlf) flags.add("bare-lf-in-chunked");
    const line = buf.toString("latin1", i, crlf ? lf - 1 : lf);
    const m = CHUNK_LINE.exec(line);
    if (!m) throw new Error(`bad chunk-size line ${JSON.stringify(line.slice(0, 40))}`);
    if (m[2]) flags.add("chunk-ext");
    if (m[1]!.length > 15 && BigInt(`0x${m[1]}`) > BigInt(Number.MAX_SAFE_INTEGER))
      throw new Error(`chunk-size ${m[1]} overflows`);
    const size = Number.parseInt(m[1]!, 16);
    i = lf + 1;
    if (size === 0) {
      // trailer section up to an empty line
      const tlines: string[] = [];
      for (;;) {
        const e = buf.indexOf(0x0a, i);
        if (e < 0) return undefined;
        const cr = buf[e - 1] === 0x0d && e - 1 >= i;
        if (!cr) flags.add("bare-lf-in-chunked");
        const t = buf.toString("latin1", i, cr ? e - 1 : e);
        i = e + 1;
        if (t === "") break;
        tlines.push(t);
      }
      if (tlines.length) flags.add("trailers");
      const trailers = parseHeaders(tlines, flags);
      for (const [n] of trailers)
        if (["content-length", "transfer-encoding", "host"].includes(n.toLowerCase()))
          flags.add("framing-trailer");
      return { body: Buffer.concat(parts), next: i, trailers };
    }
    if (buf.length < i + size + 2) {
      if (buf.length >= i + size && buf.length > i + size && buf[i + size] !== 0x0d && buf[i + size] !== 0x0a)
        throw new Error("chunk data not followed by CRLF");
      return undefined;
    }
    parts.push(buf.subarray(i, i + size));
    i += size;
    if (buf[i] === 0x0d && buf[i + 1] === 0x0a) i += 2;
    else if (buf[i] === 0x0a) {
      flags.add("bare-lf-in-chunked");
      i += 1;
    } else throw new Error("chunk data not followed by CRLF");
  }
}

/**
 * Frames every complete message in `buf`. `requestMethods` (responses only) gives the method each response
 * answers, in order, so a HEAD response is framed without a body. `closed` says the stream has ended, which
 * completes an until-close body.
 */
export function frameStream(
  buf: Buffer,
  kind: Kind,
  opts: { requestMethods?: readonly string[]; closed?: boolean } = {},
): Framed {
  const messages: Message[] = [];
  let at = 0;
  for (;;) {
    // RFC 9112 §2.2: ignore at least one empty line before a request-line
    let start = at;
    while (kind === "request" && (buf[start] === 0x0d || buf[start] === 0x0a) && start - at < 4) start++;
    if (start >= buf.length) return { messages, rest: buf.subarray(at) };
    const he = headEnd(buf, start);
    if (!he) return { messages, rest: buf.subarray(at) };
    const flags = new Set<string>();
    if (start > at) flags.add("leading-empty-line");
    const text = buf.toString("latin1", start, he.end);
    const [first = "", ...hl] = lines(text, flags);
    const m: Message = {
      version: "",
      headers: [],
      bodyLength: 0,
      body: Buffer.alloc(0),
      framing: "none",
      flags: [],
      raw: Buffer.alloc(0),
    };
    if (kind === "request") {
      const rl = /^([^ ]+) ([^ ]+) (HTTP\/\d\.\d)$/.exec(first);
      if (!rl)
        return {
          messages,
          rest: buf.subarray(at),
          error: `bad request-line ${JSON.stringify(first.slice(0, 60))}`,
        };
      [, m.method, m.target, m.version] = rl as unknown as [string, string, string, string];
      if (!TCHAR.test(m.method!)) flags.add("invalid-method");
      if (hasCtl(m.target!, false) || m.target!.includes(" ")) flags.add("invalid-target");
    } else {
      const sl = /^(HTTP\/\d\.\d) (\d{3}) ?(.*)$/.exec(first);
      if (!sl)
        return {
          messages,
          rest: buf.subarray(at),
          error: `bad status-line ${JSON.stringify(first.slice(0, 60))}`,
        };
      m.version = sl[1]!;
      m.status = Number(sl[2]);
      if (hasCtl(sl[3]!)) flags.add("ctl-in-reason");
    }
    m.headers = parseHeaders(hl, flags);
    if (kind === "request") {
      const hosts = all(m.headers, "host");
      if (hosts.length > 1) flags.add("multiple-host");
      if (hosts.length === 0 && m.version === "HTTP/1.1") flags.add("missing-host");
      if (/^https?:\/\//i.test(m.target ?? "") && hosts.length === 1) {
        const auth = m.target!.replace(/^https?:\/\//i, "").split(/[/?#]/)[0]!;
        if (auth.toLowerCase() !== hosts[0]!.toLowerCase()) flags.add("absolute-form-host-mismatch");
      }
    }
    const reqMethod =
      kind === "response"
        ? opts.requestMethods?.[messages.filter((x) => (x.status ?? 0) >= 200).length]
        : undefined;
    let f: Framing;
    try {
      f = framing(kind, m, reqMethod, flags);
    } catch (e) {
      return { messages, rest: buf.subarray(at), error: (e as Error).message };
    }
    m.framing = f.kind;
    let next = he.next;
    if (f.kind === "content-length") {
      if (buf.length < next + f.length!) return { messages, rest: buf.subarray(at), pendingBody: true };
      m.body = buf.subarray(next, next + f.length!);
      next += f.length!;
    } else if (f.kind === "chunked") {
      let c: ReturnType<typeof chunked>;
      try {
        c = chunked(buf, next, flags);
      } catch (e) {
        return { messages, rest: buf.subarray(at), error: (e as Error).message };
      }
      if (!c) return { messages, rest: buf.subarray(at), pendingBody: true };
      m.body = c.body;
      next = c.next;
    } else if (f.kind === "until-close") {
      if (!opts.closed) return { messages, rest: buf.subarray(at), pendingBody: true };
      m.body = buf.subarray(next);
      next = buf.length;
    }
    m.bodyLength = m.body.length;
    m.flags = [...flags];
    m.raw = buf.subarray(at, next);
    messages.push(m);
    at = next;
  }
}

export const header = (m: Message, name: string): string | undefined =>
  m.headers.find(([n]) => n.toLowerCase() === name)?.[1];
