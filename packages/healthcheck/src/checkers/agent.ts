/**
 * HAProxy agent-check: connect, optionally send `agent-send`, read one line and parse its words. As in
 * HAProxy (checked against 2.6 in test/healthcheck-haproxy.test.ts): the line must end with CR or LF — a
 * reply cut by the connection close is ignored; words are separated by spaces, tabs or commas, in any order:
 * `NN%` (weight relative to the initial weight, capped at 256 by the pool binding), `maxconn:NN`,
 * `ready`/`drain`/`maint` (administrative state), `up`, and `down`/`fail`/`stopped`; a word starting with
 * `#` starts a free-text description that runs to the end of the line. Unknown words (`down#x` is one) are
 * ignored; words not said leave that setting unchanged.
 */
import net from "node:net";
import { HealthCheckConfigError, v } from "../errors.js";
import { type AgentReply, type Checker, down, printable, up } from "../result.js";
import { attemptChecker } from "./attempt.js";
import { checkHost } from "./host.js";

export interface AgentCheckOptions {
  host: string;
  port: number;
  /** HAProxy `agent-send`: a string sent after connecting, e.g. `"be_web/srv1\n"`. */
  send?: string;
  /** Most bytes read for the line. Default 1024. */
  maxLine?: number;
}

export function agentCheck(opts: AgentCheckOptions): Checker {
  const host = checkHost(opts.host);
  const port = v.int("port", opts.port, 1, 65535);
  if (opts.send !== undefined && typeof opts.send !== "string") {
    throw new HealthCheckConfigError("send", opts.send, "must be a string (HAProxy agent-send)");
  }
  const maxLine = v.int("maxLine", opts.maxLine ?? 1024, 1, 65536);

  return attemptChecker((finish) => {
    let buf: Buffer = Buffer.alloc(0);
    let connected = false;
    const socket = net.connect({ host, port });
    const conclude = () => {
      const text = buf.toString("latin1");
      const end = text.search(/[\r\n]/);
      if (end < 0) {
        return finish(down("L7RSP", "ignoring an incomplete line from the agent (no CR or LF)", text));
      }
      const line = text.slice(0, Math.min(end, maxLine));
      if (line.trim() === "") return finish(down("L7RSP", "agent sent an empty reply"));
      const reply = parseAgentReply(line);
      // up()/down() make the reason printable: the agent's raw bytes never reach change events or logs
      const r =
        reply.op !== undefined && reply.op !== "up" ? down("L7OK", line, line) : up("L7OK", line, line);
      r.agent = reply;
      if (reply.weightPercent !== undefined) r.weightPercent = reply.weightPercent;
      finish(r);
    };
    socket.once("connect", () => {
      connected = true;
      if (opts.send) socket.write(opts.send);
    });
    socket.on("data", (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (buf.includes(10) || buf.includes(13) || buf.length >= maxLine) conclude();
    });
    socket.on("end", conclude);
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (!connected)
        return finish(down("L4CON", `${err.code ?? err.message} connecting to the agent ${host}:${port}`));
      if (buf.length > 0) return conclude();
      finish(down("L7RSP", `${err.code ?? err.message} before the agent replied`));
    });
    return {
      aborted: () =>
        connected
          ? down("L7TOUT", "timeout waiting for the agent's reply", buf)
          : down("L4TOUT", "timeout connecting to the agent"),
      release: () => socket.destroy(),
    };
  });
}

/** Parse one agent line. Pure. */
export function parseAgentReply(line: string): AgentReply {
  const out: AgentReply = {};
  // A word starting with `#` starts the free-text description, up to the end of the line.
  const hash = line.search(/(^|[ \t,])#/);
  const head = hash >= 0 ? line.slice(0, hash) : line;
  const words = head.split(/[ \t,]+/).filter(Boolean);
  if (hash >= 0) {
    const d = line.slice(line.indexOf("#", hash) + 1).trim();
    if (d) out.description = printable(d, 1024);
  }
  for (const raw of words) {
    const w = raw.toLowerCase();
    const pct = /^(\d+)%$/.exec(w);
    if (pct) {
      out.weightPercent = Number(pct[1]);
      continue;
    }
    const mc = /^maxconn:(\d+)$/.exec(w);
    if (mc) {
      out.maxConn = Number(mc[1]);
      continue;
    }
    if (w === "ready" || w === "drain" || w === "maint") out.admin = w;
    else if (w === "up" || w === "down" || w === "fail" || w === "stopped") out.op = w;
    // anything else: ignored, as HAProxy does
  }
  return out;
}
