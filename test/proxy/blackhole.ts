// A loopback port whose SYNs go unanswered: a listener that never accepts, with its accept queue filled, so a
// connect to it hangs until `timeout connect` (no firewall rule, nothing outside loopback).
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";

export interface Blackhole {
  port: number;
  close(): Promise<void>;
}

export async function blackhole(): Promise<Blackhole> {
  const py = spawn(
    "python3",
    [
      "-c",
      "import socket,sys,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(600)",
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const port = await new Promise<number>((resolve, reject) => {
    py.stdout?.once("data", (d) => resolve(Number(String(d).trim())));
    py.once("exit", (code) => reject(new Error(`python3 exited ${code}`)));
  });
  // fill the accept queue (backlog 0 holds one) so that further SYNs are dropped
  const fillers: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.on("error", () => {});
    fillers.push(s);
  }
  await new Promise((r) => setTimeout(r, 100));
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      await kill(py);
    },
  };
}

function kill(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    p.once("exit", () => r());
    p.kill("SIGTERM");
  });
}
