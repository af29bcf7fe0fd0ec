/**
 * Interop: keepalived 2.2 `vrrp_script` + `track_script` weights against @lbkit/healthcheck's PriorityTracker.
 * One keepalived (in a network namespace of its own lab, never the root namespace) runs several VRRP
 * instances, each tracking a different mix of scripts that succeed (/bin/true) or fail (/bin/false) with
 * positive, negative, zero and `reverse` weights. The priority keepalived advertises on the wire (tshark) —
 * or FAULT, when it stops advertising — must be what lbkit computes for the same tracks from execCheck
 * results. Needs root, ip, tcpdump, tshark and keepalived (skips outside CI without them, fails under CI).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execCheck, HealthChecker, PriorityTracker, type TrackScript } from "@lbkit/healthcheck";
import { effectivePriority } from "@lbkit/vrrp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BRIDGE, createLab, type Lab, type LabProcess, requireRoot } from "./lab/netns.js";
import { spawnKeepalived } from "./vrrp/helpers.js";

const pre = requireRoot(["ip", "tcpdump", "tshark", "keepalived"]);

const BASE = 150;
/** The scripts: name → succeeds? */
const SCRIPTS = { ok: true, ko: false } as const;
type Script = keyof typeof SCRIPTS;
/** One VRRP instance per case: its tracks as keepalived `track_script` entries. */
const CASES: { vrid: number; tracks: { script: Script; weight: number; reverse?: boolean }[] }[] = [
  { vrid: 81, tracks: [{ script: "ok", weight: 10 }] },
  { vrid: 82, tracks: [{ script: "ko", weight: -20 }] },
  { vrid: 83, tracks: [{ script: "ok", weight: -30 }] },
  { vrid: 84, tracks: [{ script: "ko", weight: 40 }] },
  {
    vrid: 85,
    tracks: [
      { script: "ok", weight: 10 },
      { script: "ko", weight: -20 },
      { script: "ok", weight: -5 },
      { script: "ko", weight: 7 },
    ],
  },
  { vrid: 86, tracks: [{ script: "ok", weight: 10, reverse: true }] },
  { vrid: 87, tracks: [{ script: "ko", weight: -20, reverse: true }] },
  { vrid: 88, tracks: [{ script: "ok", weight: -20, reverse: true }] },
  { vrid: 89, tracks: [{ script: "ko", weight: 10, reverse: true }] },
  { vrid: 90, tracks: [{ script: "ko", weight: -200 }] }, // clamped to 1
  { vrid: 91, tracks: [{ script: "ok", weight: 200 }] }, // clamped to 254
  { vrid: 92, tracks: [{ script: "ko", weight: 0 }] }, // FAULT
  { vrid: 93, tracks: [{ script: "ok", weight: 0 }] },
  { vrid: 94, tracks: [{ script: "ok", weight: 0, reverse: true }] },
  { vrid: 95, tracks: [{ script: "ko", weight: 0, reverse: true }] },
];

describe.skipIf(pre.skip)("healthcheck track weights vs keepalived 2.2 vrrp_script/track_script", () => {
  let lab: Lab;
  let ka: LabProcess | undefined;
  const wire = new Map<number, number>(); // vrid → last advertised priority
  let kaLog = "";

  beforeAll(async () => {
    lab = await createLab({ nodes: ["k"] });
    const scripts = Object.entries(SCRIPTS).map(
      ([name, ok]) =>
        `vrrp_script chk_${name} {\n  script "${ok ? "/bin/true" : "/bin/false"}"\n  interval 1\n  rise 1\n  fall 1\n}`,
    );
    const instances = CASES.map(
      (c) => `vrrp_instance VI_${c.vrid} {
  state BACKUP
  interface eth0
  virtual_router_id ${c.vrid}
  priority ${BASE}
  advert_int 1
  track_script {
${c.tracks.map((t) => `    chk_${t.script} weight ${t.weight}${t.reverse ? " reverse" : ""}`).join("\n")}
  }
  virtual_ipaddress {
    198.18.1.${c.vrid}/24 dev eth0
  }
}`,
    );
    const conf = join(lab.dir, "keepalived-hc.conf");
    writeFileSync(
      conf,
      `${[
        "global_defs {\n  router_id hc\n  vrrp_version 2\n  enable_script_security\n  script_user root\n}",
        ...scripts,
        ...instances,
      ].join("\n")}\n`,
    );
    const cap = await lab.capture(BRIDGE, { filter: "vrrp" });
    ka = spawnKeepalived(lab, "k", "hc", conf);
    // masters after 3 × advert_int + skew; then let every script run and a few adverts go out
    await ka.waitFor(/Entering MASTER STATE/, 15_000);
    await new Promise((r) => setTimeout(r, 5000));
    const file = await cap.stop();
    kaLog = ka.output();
    const fields = execFileSync(
      "tshark",
      ["-r", file, "-Y", "vrrp", "-T", "fields", "-e", "vrrp.virt_rtr_id", "-e", "vrrp.prio"],
      {
        encoding: "utf8",
      },
    );
    for (const line of fields.trim().split("\n")) {
      const [vrid, prio] = line.split("\t").map(Number);
      if (vrid !== undefined && prio !== undefined && Number.isFinite(vrid)) wire.set(vrid, prio);
    }
  }, 60_000);

  afterAll(async () => {
    ka?.kill("SIGTERM");
    await ka?.exited;
    await lab?.destroy();
  });

  it("advertises the priority lbkit computes; weight 0 on a failing script is FAULT on both sides", async () => {
    const hc = new HealthChecker();
    for (const [name, ok] of Object.entries(SCRIPTS)) {
      hc.add({
        id: `chk_${name}`,
        check: execCheck({ command: ok ? "/bin/true" : "/bin/false" }),
        inter: 1000,
        rise: 1,
        fall: 1,
      });
    }
    // every script has run once (the first check is due at a random point of the first interval, and a busy host
    // may spawn it late): a fixed sleep would read the initial state of one that has not
    const pending = new Set(Object.keys(SCRIPTS).map((n) => `chk_${n}`));
    const allChecked = new Promise<void>((resolve, reject) => {
      const late = setTimeout(() => reject(new Error(`no first check within 10 s: ${[...pending]}`)), 10_000);
      const on = (e: { id: string }) => {
        pending.delete(e.id);
        if (pending.size > 0) return;
        hc.off("check", on);
        clearTimeout(late);
        resolve();
      };
      hc.on("check", on);
    });
    hc.start();
    await allChecked.catch(async (e) => {
      await hc.stop();
      throw e;
    });
    const ours = new Map<number, number | "FAULT">();
    const theirs = new Map<number, number | "FAULT">();
    for (const c of CASES) {
      const tracks: TrackScript[] = c.tracks.map((t) => ({
        id: `chk_${t.script}`,
        weight: t.weight,
        ...(t.reverse ? { reverse: true } : {}),
      }));
      const tracker = new PriorityTracker(hc, tracks);
      ours.set(c.vrid, tracker.fault ? "FAULT" : effectivePriority(BASE, [tracker.delta]));
      await tracker.stop();
      // an instance that starts in FAULT never becomes BACKUP or MASTER and never advertises
      const faulted =
        !wire.has(c.vrid) && !new RegExp(`\\(VI_${c.vrid}\\) Entering (MASTER|BACKUP) STATE`).test(kaLog);
      theirs.set(c.vrid, faulted ? "FAULT" : (wire.get(c.vrid) ?? -1));
    }
    await hc.stop();
    expect(Object.fromEntries(ours)).toEqual(Object.fromEntries(theirs));
    // and what that means, spelled out
    expect(Object.fromEntries(ours)).toMatchObject({
      81: 160,
      82: 130,
      83: 150,
      84: 150,
      85: 140,
      90: 1,
      91: 254,
      92: "FAULT",
      93: 150,
    });
  });
});

/**
 * vrrp_script rise/fall: keepalived and lbkit run the same script, which answers its n-th run with SEQ[n]
 * (then 0), and must turn failed/succeeded after the same run. rise 2, fall 3.
 */
const SEQ = [0, 0, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 0, 0];

function sequenceScript(dir: string, name: string): { path: string; counter: string } {
  const counter = join(dir, `${name}.count`);
  const path = join(dir, `${name}.sh`);
  writeFileSync(counter, "0\n");
  writeFileSync(
    path,
    `#!/bin/sh\nn=$(cat ${counter})\necho $((n + 1)) > ${counter}\n[ "$n" -ge ${SEQ.length} ] && exit 0\nset -- ${SEQ.join(" ")}\nshift "$n"\nexit "$1"\n`,
    { mode: 0o755 },
  );
  return { path, counter };
}

describe.skipIf(pre.skip)("healthcheck rise/fall vs keepalived 2.2 vrrp_script", () => {
  let lab: Lab;
  let ka: LabProcess | undefined;
  afterAll(async () => {
    ka?.kill("SIGTERM");
    await ka?.exited;
    await lab?.destroy();
  });

  it("turns failed and succeeded after the same script run", async () => {
    lab = await createLab({ nodes: ["k"] });
    const theirsScript = sequenceScript(lab.dir, "ka");
    const oursScript = sequenceScript(lab.dir, "lb");
    const runs = (counter: string) => Number(readFileSync(counter, "utf8").trim());

    const conf = join(lab.dir, "keepalived-seq.conf");
    writeFileSync(
      conf,
      `global_defs {
  router_id seq
  enable_script_security
  script_user root
}
vrrp_script chk_seq {
  script "${theirsScript.path}"
  interval 1
  rise 2
  fall 3
}
vrrp_instance VI_96 {
  state BACKUP
  interface eth0
  virtual_router_id 96
  priority 150
  advert_int 1
  track_script {
    chk_seq weight -20
  }
  virtual_ipaddress {
    198.18.1.96/24 dev eth0
  }
}
`,
    );
    ka = spawnKeepalived(lab, "k", "seq", conf);
    // lbkit runs the same kind of script, faster (the interval does not change the counting). The timeout is
    // generous: a spawn delayed past it on a loaded machine would count as one more failure (PROCTOUT) and
    // shift the run the verdict follows — a race with the clock, not a difference from keepalived.
    const hc = new HealthChecker();
    hc.add({
      id: "chk_seq",
      check: execCheck({ command: oursScript.path }),
      inter: 500,
      timeout: 500,
      rise: 2,
      fall: 3,
      initState: "fully-up",
    });
    const ours: string[] = [];
    const timeouts: string[] = [];
    hc.on("check", (e) => e.result.code === "PROCTOUT" && timeouts.push(e.result.reason));
    hc.on("change", (e) =>
      ours.push(`${e.to === "up" ? "succeeded" : "failed"} after run ${runs(oursScript.counter)}`),
    );
    hc.start();

    // keepalived logs "VRRP_Script(chk_seq) failed/succeeded"; note the run count when each line appears
    const theirs: string[] = [];
    let seen = 0;
    const end = performance.now() + 25_000;
    const transitions = () => theirs.filter((t, i) => !(i === 0 && t.startsWith("succeeded")));
    while (transitions().length < 2 && performance.now() < end) {
      const log = ka.output();
      const lines = [...log.matchAll(/VRRP_Script\(chk_seq\) (failed|succeeded)/g)];
      for (const m of lines.slice(seen)) theirs.push(`${m[1]} after run ${runs(theirsScript.counter)}`);
      seen = lines.length;
      await new Promise((r) => setTimeout(r, 50));
    }
    await hc.stop();
    // 0 0 0 | 1 1 0 (no three failures in a row) | 1 1 1 → failed after run 9 | 0 1 (a failure resets) 0 0 →
    // succeeded after run 13; keepalived logs the initial success first
    expect(timeouts).toEqual([]);
    expect(ours).toEqual(["failed after run 9", "succeeded after run 13"]);
    expect(transitions()).toEqual(ours);
  }, 40_000);
});
