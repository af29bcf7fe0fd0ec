/** The `host` option every network checker takes: a host name or IP address, never a URL. */
import { HealthCheckConfigError } from "../errors.js";

/**
 * Validates a checker's `host`. A URL (`http://127.0.0.1:8080/health`) or a host with a path is refused at
 * construction, naming the options that take those parts (`pathOption`, when the checker has one).
 */
export function checkHost(host: unknown, pathOption?: string): string {
  if (typeof host !== "string" || host.length === 0) {
    throw new HealthCheckConfigError("host", host, "must be a host name or IP address");
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host) || host.includes("/")) {
    const parts = pathOption
      ? `, the port in \`port\` and the path in \`${pathOption}\``
      : " and the port in `port`";
    throw new HealthCheckConfigError(
      "host",
      host,
      `is a URL, not a host: give only the host name or IP address here (e.g. "127.0.0.1")${parts}`,
    );
  }
  if (/\s/.test(host)) throw new HealthCheckConfigError("host", host, "must not contain spaces");
  return host;
}
