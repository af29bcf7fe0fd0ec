/** Target options, their HAProxy defaults, and validation that fails at construction. */
import { HealthCheckConfigError, v } from "./errors.js";
import { type PassiveConfig, type PassiveOptions, passiveConfig } from "./passive.js";
import type { Checker } from "./result.js";
import type { InitState, Intervals, RiseFall } from "./state.js";

const DAY = 86_400_000;

export interface AgentOptions {
  /** Usually `agentCheck({ host, port })`. */
  check: Checker;
  /** HAProxy `agent-inter`. Default: the target's `inter`. */
  inter?: number;
  /** Default: the agent `inter`. */
  timeout?: number;
}

export interface TargetOptions {
  /** The server id, as the pool knows it. */
  id: string;
  check: Checker;
  /** Interval while up, ms. HAProxy default 2000. */
  inter?: number;
  /** Interval while going up or down, ms. Default `inter`. */
  fastinter?: number;
  /** Interval while down, ms. Default `inter`. */
  downinter?: number;
  /** Successes to go up. HAProxy default 2. */
  rise?: number;
  /** Failures to go down. HAProxy default 3. */
  fall?: number;
  /** Check timeout, ms; at most `inter`. Default `inter`. */
  timeout?: number;
  /** HAProxy `init-state`. Default `up` (up, but the first failure takes it down). */
  initState?: InitState;
  /** HAProxy `agent-check`: a second, independent check whose words set state and weight. */
  agent?: AgentOptions;
  /** HAProxy `observe` + `error-limit` + `on-error` for outcomes reported with `observe()`. */
  passive?: PassiveOptions;
}

export interface TargetConfig extends RiseFall, Intervals {
  id: string;
  check: Checker;
  timeout: number;
  initState: InitState;
  agent?: { check: Checker; inter: number; timeout: number };
  passive?: PassiveConfig;
}

const INIT: readonly InitState[] = ["fully-up", "up", "down", "fully-down"];

export function targetConfig(o: TargetOptions): TargetConfig {
  if (typeof o.id !== "string" || o.id.length === 0) {
    throw new HealthCheckConfigError("id", o.id, "must be a non-empty string (the server id in the pool)");
  }
  if (typeof o.check !== "function") {
    throw new HealthCheckConfigError(
      "check",
      typeof o.check,
      "must be a checker function (tcpCheck, httpCheck, execCheck, agentCheck or customCheck)",
    );
  }
  const inter = v.ms("inter", o.inter ?? 2000, 1, DAY);
  const fastinter = v.ms("fastinter", o.fastinter ?? inter, 1, DAY);
  const downinter = v.ms("downinter", o.downinter ?? inter, 1, DAY);
  const rise = v.int("rise", o.rise ?? 2, 1, 1000, "a server needs at least one success to come up");
  const fall = v.int("fall", o.fall ?? 3, 1, 1000, "a server needs at least one failure to go down");
  const timeout = v.ms("timeout", o.timeout ?? inter, 1, DAY);
  if (timeout > inter) {
    throw new HealthCheckConfigError(
      "timeout",
      timeout,
      `exceeds inter ${inter}: a check must end before the next one is due (lower timeout or raise inter)`,
    );
  }
  const initState = o.initState ?? "up";
  if (!INIT.includes(initState)) {
    throw new HealthCheckConfigError("initState", initState, `must be one of ${INIT.join(", ")}`);
  }
  const cfg: TargetConfig = {
    id: o.id,
    check: o.check,
    inter,
    fastinter,
    downinter,
    rise,
    fall,
    timeout,
    initState,
  };
  if (o.agent !== undefined) {
    if (typeof o.agent.check !== "function") {
      throw new HealthCheckConfigError("agent.check", typeof o.agent.check, "must be a checker (agentCheck)");
    }
    const ainter = v.ms("agent.inter", o.agent.inter ?? inter, 1, DAY);
    const atimeout = v.ms("agent.timeout", o.agent.timeout ?? ainter, 1, DAY);
    if (atimeout > ainter) {
      throw new HealthCheckConfigError(
        "agent.timeout",
        atimeout,
        `exceeds agent.inter ${ainter} (lower agent.timeout or raise agent.inter)`,
      );
    }
    cfg.agent = { check: o.agent.check, inter: ainter, timeout: atimeout };
  }
  if (o.passive !== undefined) cfg.passive = passiveConfig(o.passive);
  return cfg;
}
