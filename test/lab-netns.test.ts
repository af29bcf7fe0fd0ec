// Self-test of the network lab: namespaces, bridge, addresses, processes, capture, and teardown.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BRIDGE, createLab, type Lab, reapStaleLabs, requireRoot } from "./lab/netns.js";
import { readPcap } from "./lab/pcap.js";

const pre = requireRoot(["ip", "tcpdump", "ping"]);

describe.skipIf(pre.skip)("test/lab network namespaces", () => {
  let lab: Lab;
  beforeAll(async () => {
    lab = await createLab({ nodes: ["a", "b"], ipv6: true });
  });
  afterAll(async () => {
    await lab?.destroy();
  });

  it("names namespaces uniquely per run and keeps the bridge out of the root namespace", async () => {
    expect(lab.id).toMatch(new RegExp(`^lbk-${process.pid}-[0-9a-f]{6}$`));
    expect(lab.node("a").ns).toBe(`${lab.id}-a`);
    const { stdout } = await lab.exec(BRIDGE, ["ip", "-j", "link", "show", "master", "br0"]);
    expect((JSON.parse(stdout) as unknown[]).length).toBe(2);
  });

  it("joins the nodes over IPv4 and IPv6", async () => {
    const a = lab.node("a");
    const b = lab.node("b");
    expect(a.ipv4).toBe("198.18.0.10");
    expect(b.ipv6).toBe("2001:db8::11");
    await lab.exec("a", ["ping", "-c", "1", "-W", "2", b.ipv4]);
    await lab.exec("a", ["ping", "-6", "-c", "1", "-W", "2", b.ipv6!]);
    const neigh = (await lab.exec("a", ["ip", "neigh", "show", b.ipv4])).stdout;
    expect(neigh).toContain(b.mac);
  });

  it("captures inside a namespace", async () => {
    const cap = await lab.capture("b", { filter: "icmp" });
    await lab.exec("a", ["ping", "-c", "2", "-i", "0.2", "-W", "2", lab.node("b").ipv4]);
    const file = await cap.stop();
    // 2 echo requests + 2 replies
    expect(readPcap(file).records.length).toBe(4);
  });

  it("kills its processes and deletes every namespace on destroy", async () => {
    const extra = await createLab({ nodes: ["x"] });
    const proc = extra.spawn("x", ["sleep", "60"]);
    const names = [extra.bridgeNs, extra.node("x").ns];
    for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(true);
    await extra.destroy();
    const { signal } = await proc.exited;
    expect(signal).toBe("SIGKILL");
    for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(false);
  });

  it("rejects addresses outside the lab ranges", async () => {
    await expect(createLab({ nodes: [{ name: "z", ipv4: "10.0.0.1/24" }] })).rejects.toThrow(
      /198\.18\.0\.0\/15/,
    );
  });
});

// A child Node process that holds a lab (netns.ts bundled with tsup's esbuild, since the child cannot load .ts).
describe.skipIf(pre.skip)("test/lab teardown when the process is interrupted or killed", () => {
  let dir: string;
  let bundle: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "lbk-labtest-"));
    bundle = join(dir, "netns.mjs");
    const esbuild = createRequire(createRequire(import.meta.url).resolve("tsup"))("esbuild") as {
      build(o: object): Promise<unknown>;
    };
    await esbuild.build({
      entryPoints: [fileURLToPath(new URL("./lab/netns.ts", import.meta.url))],
      bundle: true,
      platform: "node",
      format: "esm",
      outfile: bundle,
      logLevel: "silent",
    });
    writeFileSync(
      join(dir, "hold.mjs"),
      `import { createLab } from "./netns.mjs";
const lab = await createLab({ nodes: ["x"] });
lab.spawn("x", ["sleep", "60"]);
console.log(JSON.stringify([lab.bridgeNs, lab.node("x").ns]));
setInterval(() => {}, 1000);
`,
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const hold = async () => {
    const child = spawn(process.execPath, [join(dir, "hold.mjs")], { stdio: ["ignore", "pipe", "inherit"] });
    const names = await new Promise<string[]>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]!) as string[]);
      });
      child.on("exit", (code) => reject(new Error(`hold.mjs exited early (${code})`)));
    });
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on("exit", (_c, sig) => r(sig)));
    for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(true);
    return { child, names, exited };
  };

  it.each(["SIGINT", "SIGTERM"] as const)(
    "%s: deletes the namespaces, then dies of the signal",
    async (sig) => {
      const { child, names, exited } = await hold();
      child.kill(sig);
      expect(await exited).toBe(sig);
      for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(false);
    },
  );

  it("SIGKILL: the next run reaps the dead run's namespaces (and their processes)", async () => {
    const { child, names, exited } = await hold();
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(true);
    const reaped = reapStaleLabs();
    expect(reaped.sort()).toEqual([...names].sort());
    for (const n of names) expect(existsSync(`/run/netns/${n}`)).toBe(false);
  });
});
