/**
 * TLS to servers (HAProxy `server … ssl verify required ca-file <f> sni <name>`), for http and tcp backends; pure:
 * the options, their validation, and the node:tls connect options and health-check TLS options they turn into. Verification is on
 * by default (against the system CAs, or `ca`); the name checked is `sni` when set, else the server's address.
 */
import { Buffer } from "node:buffer";
import net from "node:net";
import type tls from "node:tls";
import { ProxyConfigError } from "../errors.js";

export interface ServerTlsOptions {
  /** "required" (default): the certificate must chain to `ca` (or the system CAs) and name the server. */
  verify?: "required" | "none";
  /** PEM CA certificate(s) to verify against (HAProxy `ca-file`). */
  ca?: string | Buffer;
  /** Server name sent in SNI and verified. Default: the address when it is a host name. */
  sni?: string;
  /** ALPN offered to the server. Default ["http/1.1"] in http mode, none in tcp mode. */
  alpn?: readonly string[];
}

export interface ServerTls {
  connect: tls.ConnectionOptions;
  /** For @lbkit/healthcheck's `tls` options (HAProxy `check-ssl`). */
  check: { servername?: string; ca?: string | Buffer; rejectUnauthorized: boolean };
}

/** `mode` is the backend's: a tcp backend offers no ALPN unless `alpn` says so (the bytes relayed are not HTTP/1.1). */
export function serverTls(
  option: string,
  v: ServerTlsOptions | true,
  address: string,
  mode: "http" | "tcp" = "http",
): ServerTls {
  const o: ServerTlsOptions = v === true ? {} : v;
  if (typeof o !== "object" || o === null)
    throw new ProxyConfigError(
      option,
      v,
      'must be true or { verify?: "required" | "none", ca?, sni?, alpn? }',
    );
  for (const k of Object.keys(o))
    if (!["verify", "ca", "sni", "alpn"].includes(k))
      throw new ProxyConfigError(`${option}.${k}`, k, "is not an option (known: verify, ca, sni, alpn)");
  const verify = o.verify ?? "required";
  if (verify !== "required" && verify !== "none")
    throw new ProxyConfigError(`${option}.verify`, verify, 'must be "required" or "none"');
  if (o.ca !== undefined && typeof o.ca !== "string" && !Buffer.isBuffer(o.ca))
    throw new ProxyConfigError(`${option}.ca`, "(ca)", "must be PEM text or a Buffer");
  if (o.sni !== undefined && (typeof o.sni !== "string" || !/^[A-Za-z0-9.-]+$/.test(o.sni)))
    throw new ProxyConfigError(`${option}.sni`, o.sni, "must be a host name");
  const servername = o.sni ?? (net.isIP(address) ? undefined : address);
  const rejectUnauthorized = verify === "required";
  return {
    connect: {
      ...(servername ? { servername } : {}),
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      rejectUnauthorized,
      ...(o.alpn !== undefined || mode === "http" ? { ALPNProtocols: [...(o.alpn ?? ["http/1.1"])] } : {}),
      minVersion: "TLSv1.2",
    },
    check: {
      ...(servername ? { servername } : {}),
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
      rejectUnauthorized,
    },
  };
}
