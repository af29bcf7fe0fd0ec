// Test certificates made with openssl at run time: a CA and leaf certificates it signs (SAN = the names given).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Pem {
  cert: string;
  key: string;
}

const run = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });

/** A throwaway CA; `leaf(name, ...more)` issues an EC P-256 certificate for those DNS names. */
export function testCa(): Pem & { leaf(...names: string[]): Pem } {
  const dir = mkdtempSync(join(tmpdir(), "lbkit-proxy-tls-"));
  try {
    run([
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=lbkit test CA",
      "-keyout",
      join(dir, "ca.key"),
      "-out",
      join(dir, "ca.pem"),
    ]);
    const ca = {
      cert: readFileSync(join(dir, "ca.pem"), "utf8"),
      key: readFileSync(join(dir, "ca.key"), "utf8"),
    };
    let n = 0;
    return {
      ...ca,
      leaf(...names: string[]): Pem {
        const d = mkdtempSync(join(tmpdir(), "lbkit-proxy-tls-"));
        try {
          writeFileSync(join(d, "ca.pem"), ca.cert);
          writeFileSync(join(d, "ca.key"), ca.key);
          writeFileSync(join(d, "ext"), `subjectAltName=${names.map((x) => `DNS:${x}`).join(",")}\n`);
          run([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            `/CN=${names[0]}`,
            "-keyout",
            join(d, "k.pem"),
            "-out",
            join(d, "r.csr"),
          ]);
          run([
            "x509",
            "-req",
            "-in",
            join(d, "r.csr"),
            "-CA",
            join(d, "ca.pem"),
            "-CAkey",
            join(d, "ca.key"),
            "-set_serial",
            String(1000 + n++),
            "-days",
            "1",
            "-extfile",
            join(d, "ext"),
            "-out",
            join(d, "c.pem"),
          ]);
          return {
            cert: readFileSync(join(d, "c.pem"), "utf8"),
            key: readFileSync(join(d, "k.pem"), "utf8"),
          };
        } finally {
          rmSync(d, { recursive: true, force: true });
        }
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
