/**
 * Chunked transfer-coding → payload bytes (pure), for relaying an HTTP/1.1 response body as HTTP/2 DATA. It
 * trusts its input's framing: the wire layer's ChunkedBody validates the same bytes alongside (and the shell
 * stops at its first error). Extensions are skipped; the trailer section is kept (`trailers`, its lines as
 * received, at most `maxTrailers` bytes: the rest is dropped) for the shell to send as HTTP/2 trailers.
 */
import { Buffer } from "node:buffer";

const SIZE = 0;
const EXT = 1;
const SIZE_LF = 2;
const DATA = 3;
const DATA_CR = 4;
const DATA_LF = 5;
const TRAILER = 6;
const DONE = 7;

export class Dechunker {
  private state = SIZE;
  private size = 0;
  /** Bytes of the current trailer line (0 at a line start). */
  private lineLen = 0;
  private trailerBytes: number[] = [];

  constructor(private readonly maxTrailers = 8192) {}

  /** The trailer section's text ("name: value\r\n"…), once `done`. */
  get trailers(): string {
    const text = Buffer.from(this.trailerBytes).toString("latin1");
    return text.slice(0, text.lastIndexOf("\n") + 1); // a line cut by maxTrailers is dropped whole
  }

  get done(): boolean {
    return this.state === DONE;
  }

  /** The payload slices of `buf` (views, no copies). */
  feed(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let p = 0;
    while (p < buf.length && this.state !== DONE) {
      const c = buf[p] as number;
      switch (this.state) {
        case SIZE:
          if (c === 0x0d) this.state = SIZE_LF;
          else if (c === 0x3b || c === 0x20 || c === 0x09) this.state = EXT;
          else this.size = this.size * 16 + Number.parseInt(String.fromCharCode(c), 16);
          p++;
          break;
        case EXT:
          if (c === 0x0d) this.state = SIZE_LF;
          p++;
          break;
        case SIZE_LF:
          p++;
          this.state = this.size === 0 ? TRAILER : DATA;
          this.lineLen = 0;
          break;
        case DATA: {
          const n = Math.min(this.size, buf.length - p);
          out.push(buf.subarray(p, p + n));
          p += n;
          this.size -= n;
          if (this.size === 0) this.state = DATA_CR;
          break;
        }
        case DATA_CR:
          p++;
          this.state = DATA_LF;
          break;
        case DATA_LF:
          p++;
          this.state = SIZE;
          this.size = 0;
          break;
        case TRAILER:
          p++;
          if (this.lineLen > 0 || (c !== 0x0d && c !== 0x0a)) {
            if (this.trailerBytes.length < this.maxTrailers) this.trailerBytes.push(c);
          }
          if (c === 0x0a) {
            if (this.lineLen === 0) this.state = DONE;
            this.lineLen = 0;
          } else if (c !== 0x0d) this.lineLen++;
          break;
      }
    }
    return out;
  }
}
