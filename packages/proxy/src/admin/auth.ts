/**
 * Admin credentials (pure): bearer tokens and basic-auth users, each compared in constant time (both sides
 * hashed to equal-length digests, every credential compared, no early exit), answering who made the request.
 */
import { Buffer } from "node:buffer";
import { createHash, timingSafeEqual } from "node:crypto";

export interface AdminAuth {
  /** Bearer tokens by the name logged for them: `{ ci: "s3cr3t…" }` → `Authorization: Bearer s3cr3t…`. */
  tokens?: Record<string, string>;
  /** Basic-auth users: `{ alice: "password" }`. */
  users?: Record<string, string>;
}

interface Credential {
  who: string;
  kind: "bearer" | "basic";
  digest: Buffer;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

export function compileAuth(auth: AdminAuth): Credential[] {
  const out: Credential[] = [];
  for (const [who, token] of Object.entries(auth.tokens ?? {}))
    out.push({ who, kind: "bearer", digest: digest(token) });
  for (const [who, password] of Object.entries(auth.users ?? {}))
    out.push({ who, kind: "basic", digest: digest(`${who}:${password}`) });
  return out;
}

/** The name of the credential the `Authorization` header carries, or undefined (→ 401). */
export function authenticate(creds: readonly Credential[], header: string | undefined): string | undefined {
  if (!header) return undefined;
  const sp = header.indexOf(" ");
  if (sp < 0) return undefined;
  const scheme = header.slice(0, sp).toLowerCase();
  const value = header.slice(sp + 1).trim();
  let kind: "bearer" | "basic";
  let presented: Buffer;
  if (scheme === "bearer") {
    kind = "bearer";
    presented = digest(value);
  } else if (scheme === "basic") {
    kind = "basic";
    presented = digest(Buffer.from(value, "base64").toString("utf8"));
  } else return undefined;
  let who: string | undefined;
  for (const c of creds)
    if (timingSafeEqual(c.digest, presented) && c.kind === kind && who === undefined) who = c.who;
  return who;
}
