// Starts the corpus's proxies in front of the recording origin: the bench's peer definitions (bench/proxy/peers)
// with short idle timeouts, unpinned.
import { mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type PeerId, type RunningPeer, startPeer } from "../../bench/proxy/peers";
import { type RecordingOrigin, startOrigin } from "./origin";
import { type Result, runCorpus } from "./runner";
import { VECTORS } from "./vectors";

export type CorpusPeer = Exclude<PeerId, "direct" | "lbkit-l4" | "haproxy-tcp">;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export function cannedResponses() {
  return new Map(
    VECTORS.flatMap((v) =>
      v.kind === "response" ? [[v.id, { raw: v.response, close: v.close }] as const] : [],
    ),
  );
}

/** Runs every vector through one proxy; starts and stops the origin and the proxy (by PID) itself. */
export async function runPeerCorpus(id: CorpusPeer, origin?: RecordingOrigin): Promise<Result[]> {
  const own = origin ?? (await startOrigin(cannedResponses()));
  const dir = mkdtempSync(join(tmpdir(), `lbkit-corpus-${id}-`));
  let peer: RunningPeer | undefined;
  try {
    const listen = { host: "127.0.0.1", port: await freePort() };
    peer = await startPeer(id, {
      dir,
      listen,
      backends: [{ host: "127.0.0.1", port: own.port }],
      idleTimeout: 5,
    });
    return await runCorpus(VECTORS, listen, own);
  } finally {
    await peer?.stop();
    if (!origin) await own.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
