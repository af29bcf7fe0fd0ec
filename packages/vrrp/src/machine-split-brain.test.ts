// The machine's split-brain and hostile-input decisions: keepalived's higher_prio_send_advert, and answers to
// lower-priority adverts rate-limited so that a flood of them costs nothing but their decoding.
import { describe, expect, it } from "vitest";
import type { Advert } from "./codec.js";
import { initialState, type MachineConfig, type MachineState, step } from "./machine.js";

const c: MachineConfig = { version: 3, vrid: 7, advertInterval: 100, primaryAddress: "198.18.0.2" };
const advert = (priority: number): Advert => ({
  version: 3,
  vrid: 7,
  priority,
  advertInterval: 100,
  addresses: ["198.18.0.100"],
});
/** A master at `priority`: a backup whose Master_Down_Timer fired at 0. */
const master = (cfg: MachineConfig, priority: number): MachineState =>
  step(cfg, { ...initialState(cfg, priority), state: "backup", timerAt: 0 }, { type: "timer" }, 0).state;

describe("higher_prio_send_advert", () => {
  it("a master stepping down to a higher priority (or a tie from a higher address) first sends one advert of its own priority", () => {
    const s = master(c, 100);
    expect(s.state).toBe("master");
    for (const [src, p, reason] of [
      ["198.18.0.1", 150, "higher-priority"],
      ["198.18.0.9", 100, "equal-priority-higher-address"],
    ] as const) {
      const r = step(c, s, { type: "advert", src, advert: advert(p) }, 50);
      expect(r.state.state).toBe("backup");
      expect(r.actions[0]).toEqual({ type: "sendAdvert", priority: 100 });
      expect(r.actions.filter((a) => a.type === "sendAdvert")).toHaveLength(1);
      expect(r.actions.at(-1)).toMatchObject({ event: "backup", reason });
    }
  });

  it("higherPrioSendAdvert: false steps down silently (the RFC's behaviour)", () => {
    const cfg = { ...c, higherPrioSendAdvert: false };
    const r = step(cfg, master(cfg, 100), { type: "advert", src: "198.18.0.1", advert: advert(150) }, 50);
    expect(r.state.state).toBe("backup");
    expect(r.actions.some((a) => a.type === "sendAdvert")).toBe(false);
  });

  it("a backup hearing a higher priority sends nothing", () => {
    const b = step(c, initialState(c, 100), { type: "startup" }, 0).state;
    const r = step(c, b, { type: "advert", src: "198.18.0.1", advert: advert(150) }, 50);
    expect(r.actions.some((a) => a.type === "sendAdvert")).toBe(false);
  });
});

describe("answers to lower-priority adverts", () => {
  it("at most one answer (advert + GARP burst) per advert interval, however many lower adverts arrive", () => {
    let s = master(c, 200);
    let answers = 0;
    let bursts = 0;
    // 10,000 lower-priority adverts per second for 3 s
    for (let i = 0; i < 30_000; i++) {
      const now = 1 + i / 10;
      const r = step(c, s, { type: "advert", src: "198.18.0.66", advert: advert(50) }, now);
      s = r.state;
      for (const a of r.actions) {
        if (a.type === "sendAdvert") answers++;
        if (a.type === "announce") {
          expect(a.cause).toBe("lower-priority");
          bursts++;
        }
      }
    }
    expect(answers).toBeGreaterThanOrEqual(29);
    expect(answers).toBeLessThanOrEqual(31);
    expect(bursts).toBe(answers);
    expect(s.state).toBe("master");
  });

  it("answers the first lower advert at once, and again once the interval has passed", () => {
    const s = master(c, 200);
    const first = step(c, s, { type: "advert", src: "198.18.0.66", advert: advert(50) }, 10);
    expect(first.actions.map((a) => a.type)).toEqual(["sendAdvert", "announce", "setTimer"]);
    const soon = step(c, first.state, { type: "advert", src: "198.18.0.66", advert: advert(50) }, 109);
    expect(soon.actions).toEqual([]);
    const later = step(c, first.state, { type: "advert", src: "198.18.0.66", advert: advert(50) }, 110);
    expect(later.actions.map((a) => a.type)).toEqual(["sendAdvert", "announce", "setTimer"]);
  });

  it("lowerPrioAnswerInterval sets the limit; a higher advert still wins at once during a flood", () => {
    const cfg = { ...c, lowerPrioAnswerInterval: 1000 };
    let s = master(cfg, 200);
    s = step(cfg, s, { type: "advert", src: "198.18.0.66", advert: advert(50) }, 10).state;
    expect(step(cfg, s, { type: "advert", src: "198.18.0.66", advert: advert(50) }, 900).actions).toEqual([]);
    const win = step(cfg, s, { type: "advert", src: "198.18.0.3", advert: advert(250) }, 20);
    expect(win.state.state).toBe("backup");
  });

  it("a new mastership starts with a clean slate", () => {
    let s = master(c, 200);
    s = step(c, s, { type: "advert", src: "198.18.0.66", advert: advert(50) }, 10).state;
    s = step(c, s, { type: "advert", src: "198.18.0.3", advert: advert(250) }, 20).state;
    s = step(c, s, { type: "timer" }, 10_000).state;
    expect(s.state).toBe("master");
    const r = step(c, s, { type: "advert", src: "198.18.0.66", advert: advert(50) }, 10_001);
    expect(r.actions.map((a) => a.type)).toContain("sendAdvert");
  });
});
