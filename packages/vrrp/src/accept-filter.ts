/**
 * RFC 5798 Accept_Mode False for a non-owner master: drop traffic addressed to the VIPs (keepalived does this with
 * `vrrp_strict`). An nftables table per VRID, through the `nft` command (a thin adapter: no nftables library is
 * a dependency). IPv6 neighbour discovery stays allowed so the VIP can still be announced and resolved.
 */
import { execFile } from "node:child_process";
import type { VirtualAddress } from "./config.js";
import { VrrpError } from "./errors.js";

function nft(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = execFile("nft", ["-f", "-"], { timeout: 5000 }, (e, _o, stderr) =>
      e
        ? reject(new VrrpError("ERR_VIP", `vrrp: nft failed: ${stderr.trim() || e.message}`, { cause: e }))
        : resolve(),
    );
    p.stdin?.end(script);
  });
}

export function acceptFilterTable(vrid: number): string {
  return `lbkit_vrrp_${vrid}`;
}

/** Installs (replacing) the drop rules for `vips`. */
export async function installAcceptFilter(vrid: number, vips: readonly VirtualAddress[]): Promise<void> {
  const table = acceptFilterTable(vrid);
  const v4 = vips.filter((v) => v.family === 4).map((v) => v.address);
  const v6 = vips.filter((v) => v.family === 6).map((v) => v.address);
  const rules = [
    ...(v6.length ? ["    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept"] : []),
    ...(v4.length ? [`    ip daddr { ${v4.join(", ")} } drop`] : []),
    ...(v6.length ? [`    ip6 daddr { ${v6.join(", ")} } drop`] : []),
  ];
  await removeAcceptFilter(vrid);
  await nft(
    [
      `table inet ${table} {`,
      "  chain input {",
      "    type filter hook input priority 0; policy accept;",
      ...rules,
      "  }",
      "}",
      "",
    ].join("\n"),
  );
}

export async function removeAcceptFilter(vrid: number): Promise<void> {
  await nft(`delete table inet ${acceptFilterTable(vrid)}\n`).catch(() => undefined);
}
