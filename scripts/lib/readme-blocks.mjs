// The JavaScript/TypeScript code blocks of the repository's READMEs, as check-consumer.mjs type-checks them.
//
// A block is a fenced block whose info string starts with js, mjs, cjs, ts, mts or cts. By default it is a
// complete file a user could save and run in a project with the packages installed: it is type-checked as
// such (tsc --strict, module nodenext; JavaScript with checkJs), imports resolved against the packed tarballs.
// Words after the language mark a block:
//   ```ts fragment   not a whole file (an excerpt, a signature): only its syntax is checked
//   ```js cjs        a CommonJS file (require); the default for js/ts blocks is an ES module
// GitHub renders the language from the first word and ignores the rest, so markers do not show.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const LANGS = new Set(["js", "mjs", "cjs", "ts", "mts", "cts", "javascript", "typescript"]);

/** Markdown files tracked by git whose name is README.md (any directory). */
export function readmeFiles(root) {
  return execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "*README.md"], {
    cwd: root,
    encoding: "utf8",
  })
    .split("\n")
    .filter((f) => f && !f.includes("node_modules/") && !f.startsWith(".changeset/"))
    .sort();
}

/**
 * Blocks of one markdown text: { line, lang, fragment, ext, code }. `ext` is the file extension the block is
 * checked as (.mjs/.cjs/.mts/.cts).
 */
export function extractBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([A-Za-z]+)?(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, langRaw = "", rest] = open;
    const start = i;
    const body = [];
    for (i++; i < lines.length && !lines[i].trimStart().startsWith(fence); i++)
      body.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i]);
    const lang = langRaw.toLowerCase();
    if (!LANGS.has(lang)) continue;
    const words = rest.trim().split(/\s+/).filter(Boolean);
    const ts = /^(ts|mts|cts|typescript)$/.test(lang);
    const cjs = lang === "cjs" || lang === "cts" || words.includes("cjs");
    blocks.push({
      line: start + 1,
      lang,
      fragment: words.includes("fragment"),
      ext: `.${cjs ? "c" : "m"}${ts ? "ts" : "js"}`,
      code: `${body.join("\n")}\n`,
    });
  }
  return blocks;
}

/** Every block of every README under root: { file, line, lang, fragment, ext, code }. */
export function readmeBlocks(root) {
  return readmeFiles(root).flatMap((file) =>
    extractBlocks(readFileSync(join(root, file), "utf8")).map((b) => ({ file, ...b })),
  );
}
