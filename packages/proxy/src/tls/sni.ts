/**
 * SNI → certificate selection (pure): the names a certificate serves (its subjectAltName DNS entries, else its
 * CN, unless given), and the lookup of a client's server name — an exact name first, then a wildcard
 * `*.example.com` covering exactly one more label, else the default (the first certificate).
 */

/** DNS names from a certificate's `subjectAltName` text (`DNS:a.example, DNS:*.b.example, IP Address:…`). */
export function namesFromAltNames(altNames: string | undefined, subject: string | undefined): string[] {
  const out: string[] = [];
  for (const part of (altNames ?? "").split(",")) {
    const p = part.trim();
    if (p.startsWith("DNS:")) out.push(p.slice(4).toLowerCase());
  }
  if (out.length === 0 && subject) {
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
    if (cn) out.push(cn.trim().toLowerCase());
  }
  return out;
}

/** The entry for `servername` in a name → value map, or undefined (the caller uses its default). */
export function sniLookup<T>(map: ReadonlyMap<string, T>, servername: string | undefined): T | undefined {
  if (!servername) return undefined;
  const name = servername.toLowerCase().replace(/\.$/, "");
  const exact = map.get(name);
  if (exact !== undefined) return exact;
  const dot = name.indexOf(".");
  if (dot <= 0) return undefined;
  return map.get(`*${name.slice(dot)}`);
}
