/**
 * An incremental HTTP/1.x response reader for health checks, as HAProxy's checks read responses: status
 * line, headers, then as much body as a check needs (Content-Length, chunked, or up to the close). Pure:
 * bytes in, state out. It reads at most `maxHead` bytes of head (however they arrive) and keeps at most
 * `maxBody` bytes of body.
 */

export interface ResponseHead {
  status: number;
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

export type ReadState = { kind: "more" } | { kind: "done" } | { kind: "error"; message: string };

type Body =
  | { mode: "none" }
  | { mode: "length"; remaining: number }
  | { mode: "chunked"; remaining: number; phase: "size" | "data" | "crlf" }
  | { mode: "close" };

const CRLFCRLF = Buffer.from("\r\n\r\n");
const EMPTY = Buffer.alloc(0);
const MORE: ReadState = Object.freeze({ kind: "more" });
const DONE: ReadState = Object.freeze({ kind: "done" });
const LFLF = Buffer.from("\n\n");

export class ResponseReader {
  head: ResponseHead | undefined;
  /** The body read so far (at most maxBody bytes, de-chunked). */
  body: Buffer = EMPTY;
  private buf: Buffer = EMPTY;
  private bodyMode: Body = { mode: "close" };
  private finished = false;
  /** Bytes of `buf` already searched for the end of the head. */
  private scanned = 0;
  /** Bytes of head consumed so far (interim responses). */
  private headBytes = 0;

  constructor(
    private readonly method: string,
    private readonly maxHead = 16384,
    private readonly maxBody = 16384,
  ) {}

  /** Feed received bytes. `done` once the head and enough body are in. */
  push(chunk: Buffer): ReadState {
    if (this.finished) return DONE;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return this.step();
  }

  /** The connection closed. */
  end(): ReadState {
    if (this.finished) return DONE;
    if (!this.head) {
      return {
        kind: "error",
        message: this.buf.length ? "connection closed inside the response head" : "empty response",
      };
    }
    // a close ends a close-delimited body; for the others a truncated body is still enough to judge
    this.finished = true;
    return DONE;
  }

  private step(): ReadState {
    while (!this.head) {
      // the head ends at an empty line; bare-LF line endings are tolerated, as most servers' clients do.
      // The search resumes where the last one stopped (a head trickling in byte by byte is not rescanned), and
      // the limit holds however the bytes arrive: a head (interim 1xx heads included) longer than maxHead is
      // an error even when its end arrived in the same chunk.
      const from = Math.max(0, this.scanned - 3);
      let at = this.buf.indexOf(CRLFCRLF, from);
      let sep = 4;
      const lf = this.buf.indexOf(LFLF, from);
      if (lf >= 0 && (at < 0 || lf < at)) {
        at = lf;
        sep = 2;
      }
      if (at < 0 ? this.headBytes + this.buf.length > this.maxHead : this.headBytes + at + sep > this.maxHead)
        return { kind: "error", message: `response head over ${this.maxHead} bytes` };
      if (at < 0) {
        this.scanned = this.buf.length;
        return MORE;
      }
      const parsed = parseHead(this.buf.subarray(0, at).toString("latin1"));
      if ("error" in parsed) return { kind: "error", message: parsed.error };
      const head = parsed.head;
      this.buf = this.buf.subarray(at + sep);
      this.headBytes += at + sep;
      this.scanned = 0;
      if (head.status >= 100 && head.status < 200 && head.status !== 101) continue; // interim: skip
      this.head = head;
      this.bodyMode = bodyMode(this.method, head);
    }
    return this.readBody();
  }

  private readBody(): ReadState {
    const room = () => this.maxBody - this.body.length;
    const take = (n: number) => {
      const part = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
      const keep = part.subarray(0, Math.max(0, room()));
      if (keep.length) this.body = this.body.length === 0 ? keep : Buffer.concat([this.body, keep]);
    };
    const m = this.bodyMode;
    for (;;) {
      if (room() <= 0) return this.done();
      if (m.mode === "none") return this.done();
      if (m.mode === "close") {
        take(this.buf.length);
        return room() <= 0 ? this.done() : MORE;
      }
      if (m.mode === "length") {
        const n = Math.min(m.remaining, this.buf.length);
        take(n);
        m.remaining -= n;
        if (m.remaining === 0 || room() <= 0) return this.done();
        return MORE;
      }
      // chunked
      if (m.phase === "size") {
        const eol = this.buf.indexOf("\r\n");
        if (eol < 0) {
          if (this.buf.length > 1024) return { kind: "error", message: "chunk size line too long" };
          return MORE;
        }
        const line = this.buf.subarray(0, eol).toString("latin1");
        const size = Number.parseInt(line.split(";")[0]!.trim(), 16);
        if (!/^[0-9a-fA-F]+/.test(line.trim()) || !Number.isFinite(size) || size < 0) {
          return { kind: "error", message: `bad chunk size ${JSON.stringify(line.slice(0, 20))}` };
        }
        this.buf = this.buf.subarray(eol + 2);
        if (size === 0) return this.done(); // trailers are not needed
        m.remaining = size;
        m.phase = "data";
      }
      if (m.phase === "data") {
        const n = Math.min(m.remaining, this.buf.length);
        take(n);
        m.remaining -= n;
        if (room() <= 0) return this.done();
        if (m.remaining > 0) return MORE;
        m.phase = "crlf";
      }
      if (m.phase === "crlf") {
        if (this.buf.length < 2) return MORE;
        this.buf = this.buf.subarray(2);
        m.phase = "size";
      }
    }
  }

  private done(): ReadState {
    this.finished = true;
    return DONE;
  }
}

function parseHead(text: string): { head: ResponseHead } | { error: string } {
  // lines end in LF or CRLF; walked with indexOf rather than split into an array (this runs once per check)
  let eol = text.indexOf("\n");
  const first = lineAt(text, 0, eol);
  const m = STATUS_LINE.exec(first);
  if (!m) return { error: `not an HTTP/1.x status line: ${JSON.stringify(first.slice(0, 40))}` };
  const headers = new Map<string, string>();
  while (eol >= 0) {
    const start = eol + 1;
    eol = text.indexOf("\n", start);
    const line = lineAt(text, start, eol);
    const colon = line.indexOf(":");
    if (colon <= 0) return { error: `malformed header line ${JSON.stringify(line.slice(0, 40))}` };
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return { head: { status: Number(m[1]), headers } };
}

const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/;

/** The line from `start` to the LF at `eol` (or the end when -1), without its CR. */
function lineAt(text: string, start: number, eol: number): string {
  let end = eol < 0 ? text.length : eol;
  if (end > start && text.charCodeAt(end - 1) === 13) end--;
  return text.slice(start, end);
}

function bodyMode(method: string, head: ResponseHead): Body {
  if (method === "HEAD" || head.status === 204 || head.status === 304 || head.status < 200)
    return { mode: "none" };
  const te = head.headers.get("transfer-encoding");
  if (te && /(^|,)\s*chunked\s*$/i.test(te)) return { mode: "chunked", remaining: 0, phase: "size" };
  const cl = head.headers.get("content-length");
  if (cl !== undefined && /^\d+$/.test(cl)) return { mode: "length", remaining: Number(cl) };
  return { mode: "close" };
}
