// The packages as a user gets them. Packs every package (packages/*/src/index.ts; new packages are covered
// automatically) with `pnpm pack`, installs the tarballs with npm into a fresh project outside the workspace
// (no @types/node of its own: only what our packages bring), and there
//   1. runs an ES module and a CommonJS script that load every package and compare their exports,
//   2. type-checks an .mts and a .cts file importing every package, with `tsc --strict --module nodenext`
//      and skipLibCheck off (our .d.ts are checked as a strict consumer sees them),
//   3. type-checks every JS/TS block of every README as a file saved in that project (see
//      scripts/lib/readme-blocks.mjs for the `fragment` and `cjs` markers).
// Fails with the reason; `--keep` leaves the temp project for a look.
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { consumerProject, ROOT, sh, workspaceTypescript } from "./lib/packed.mjs";
import { readmeBlocks } from "./lib/readme-blocks.mjs";

const t0 = Date.now();
const keep = process.argv.includes("--keep");
let failures = 0;
const ok = (what) => console.log(`ok   ${what}`);
const fail = (what, detail) => {
  failures++;
  console.log(`FAIL ${what}\n${detail.trim().replace(/^/gm, "     ")}`);
};

const project = consumerProject({ extra: [`typescript@${workspaceTypescript()}`] });
const { dir, packages } = project;
const ident = (p) => p.short.replace(/[^A-Za-z0-9_]/g, "_");
// every entry point a user can import: the package and each subpath of its "exports" (e.g. @lbkit/core/testing)
const entries = packages.flatMap((p) =>
  Object.keys(p.pkg.exports ?? { ".": null })
    .filter((k) => k === "." || (k.startsWith("./") && !k.endsWith(".json") && !k.includes("*")))
    .map((k) => ({ name: k === "." ? p.name : `${p.name}${k.slice(1)}`, short: `${p.short}${k.slice(1)}` })),
);
const names = packages.map((p) => p.name);
ok(
  `packed and installed with npm in ${dir}: ${names.join(", ")} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
);

// ── 1. ESM and CJS at run time ──
const expectSame = `
const same = (a, b) => a.length === b.length && a.every((k, i) => k === b[i]);
function check(name, esm, cjs) {
  const e = Object.keys(esm).filter((k) => k !== "default" && k !== "module.exports").sort();
  const c = Object.keys(cjs).filter((k) => k !== "default" && k !== "__esModule").sort();
  if (e.length === 0) throw new Error(name + ": no exports");
  if (!same(e, c)) throw new Error(name + ": ESM and CJS exports differ: ESM-only " + e.filter((k) => !c.includes(k)) + "; CJS-only " + c.filter((k) => !e.includes(k)));
  const undef = e.filter((k) => esm[k] === undefined);
  if (undef.length) throw new Error(name + ": exports undefined at run time: " + undef);
  console.log(name + " " + e.length + " exports");
}`;
writeFileSync(
  join(dir, "use.mjs"),
  `import { createRequire } from "node:module";
${entries.map((p) => `import * as ${ident(p)} from "${p.name}";`).join("\n")}
const require = createRequire(import.meta.url);
${expectSame}
${entries.map((p) => `check("${p.name}", ${ident(p)}, require("${p.name}"));`).join("\n")}
`,
);
writeFileSync(
  join(dir, "use.cjs"),
  `${entries.map((p) => `const ${ident(p)} = require("${p.name}");`).join("\n")}
${expectSame}
(async () => {
${entries.map((p) => `  check("${p.name}", await import("${p.name}"), ${ident(p)});`).join("\n")}
})().catch((err) => { console.error(err); process.exit(1); });
`,
);
for (const f of ["use.mjs", "use.cjs"]) {
  try {
    const out = sh(process.execPath, [f], { cwd: dir });
    ok(`node ${f}: ${out.trim().split("\n").join(", ")}`);
  } catch (err) {
    fail(`node ${f}`, err.message);
  }
}

// the optional addons npm built at install are loaded from both module formats (a failed build would only warn)
const addons = `
const { quietConnects } = require("@lbkit/healthcheck");
const { nativeRelay } = require("@lbkit/proxy");
import("@lbkit/proxy").then((esm) => {
  for (const [name, info] of [["healthcheck quiet connects", quietConnects()], ["proxy native relay (CJS)", nativeRelay()], ["proxy native relay (ESM)", esm.nativeRelay()]])
    if (!info.on) { console.error(name + " off: " + info.reason); process.exit(1); }
  console.log("healthcheck quiet connects and the proxy's native relay are on");
});
`;
writeFileSync(join(dir, "addons.cjs"), addons);
try {
  ok(`node addons.cjs: ${sh(process.execPath, ["addons.cjs"], { cwd: dir }).trim()}`);
} catch (err) {
  fail("node addons.cjs", err.message);
}

// ── 2 + 3. tsc --strict --module nodenext over generated files and README blocks ──
writeFileSync(
  join(dir, "use.mts"),
  `${entries.map((p) => `import * as ${ident(p)} from "${p.name}";`).join("\n")}
export const exported: Record<string, number> = {
${entries.map((p) => `  "${p.name}": Object.keys(${ident(p)}).length,`).join("\n")}
};
`,
);
writeFileSync(
  join(dir, "use.cts"),
  `${entries.map((p) => `import ${ident(p)} = require("${p.name}");`).join("\n")}
export const exported: Record<string, number> = {
${entries.map((p) => `  "${p.name}": Object.keys(${ident(p)}).length,`).join("\n")}
};
`,
);

const blocks = readmeBlocks(ROOT);
mkdirSync(join(dir, "readme"));
const whole = [];
const fragments = [];
for (const b of blocks) {
  b.path = `readme/${b.file.replace(/[^A-Za-z0-9]+/g, "-")}-L${b.line}${b.ext}`;
  writeFileSync(join(dir, b.path), b.code);
  (b.fragment ? fragments : whole).push(b);
}

/** tsc's `file(line,col): error` with a README block's file mapped back to the README line. */
const toReadme = (out) =>
  out.replace(/^(readme\/[^(]+)\((\d+),(\d+)\)/gm, (m, path, line, col) => {
    const b = blocks.find((x) => x.path === path);
    return b ? `${b.file}:${b.line + Number(line)}:${col}` : m;
  });
const tscArgs = [
  "--strict",
  "--module",
  "nodenext",
  "--target",
  "es2022",
  "--noEmit",
  "--skipLibCheck",
  "false",
  "--pretty",
  "false",
];
const tsc = join(dir, "node_modules", "typescript", "bin", "tsc");
// TypeScript files as a strict TS user compiles them; JavaScript as an editor checks it (checkJs, strict null
// checks and all, but untyped parameters are fine in JavaScript: noImplicitAny off)
const isJs = (b) => b.ext.endsWith("js");
const programs = [
  [
    `use.mts, use.cts (every entry point) and ${whole.filter((b) => !isJs(b)).length} TypeScript README blocks`,
    ["use.mts", "use.cts", ...whole.filter((b) => !isJs(b)).map((b) => b.path)],
    [],
  ],
  [
    `${whole.filter(isJs).length} JavaScript README blocks (checkJs, noImplicitAny off)`,
    whole.filter(isJs).map((b) => b.path),
    // our .d.ts were already checked by the first program
    ["--allowJs", "--checkJs", "--noImplicitAny", "false", "--skipLibCheck", "true"],
  ],
].filter(([, files]) => files.length > 0);
// the two programs run side by side
const results = await Promise.all(
  programs.map(
    ([, files, extra]) =>
      new Promise((resolve) =>
        execFile(
          process.execPath,
          [tsc, ...tscArgs, ...extra, ...files],
          { cwd: dir, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 },
          (err, stdout, stderr) => resolve(err ? `${stdout}${stderr}` || err.message : null),
        ),
      ),
  ),
);
programs.forEach(([what], i) => {
  if (results[i] === null) ok(`tsc ${tscArgs.slice(0, 3).join(" ")}: ${what}`);
  else
    fail(
      `tsc ${tscArgs.slice(0, 3).join(" ")}: ${what}, in a fresh project (node_modules/@types/node ${readTypesNode(dir)})`,
      `${toReadme(results[i])}\nREADME blocks are files a user saves in a project with the packages installed; mark an excerpt \`\`\`ts fragment (scripts/lib/readme-blocks.mjs).`,
    );
});

// fragments: syntax only
const ts = createRequire(join(dir, "package.json"))("typescript");
for (const b of fragments) {
  const r = ts.transpileModule(b.code, { reportDiagnostics: true, fileName: b.path });
  if (r.diagnostics?.length)
    fail(
      `${b.file}:${b.line} fragment`,
      r.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n"),
    );
}
if (fragments.length) ok(`syntax of ${fragments.length} README fragments`);

function readTypesNode(d) {
  try {
    return JSON.parse(readFileSync(join(d, "node_modules/@types/node/package.json"), "utf8")).version;
  } catch {
    return "absent";
  }
}

if (keep) console.log(`kept ${dir}`);
else project.cleanup();
console.log(`${failures ? "FAIL" : "ok  "} consumer check in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failures ? 1 : 0);
