// Replaces the text between <!-- name --> and <!-- /name --> in bench/README.md (appending the section if absent).
import { readFileSync, writeFileSync } from "node:fs";

export function writeSection(name, body) {
  const file = new URL("../README.md", import.meta.url);
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    text = "# lbkit benchmarks\n";
  }
  const open = `<!-- ${name} -->`;
  const close = `<!-- /${name} -->`;
  const block = `${open}\n${body.trim()}\n${close}`;
  const start = text.indexOf(open);
  const end = text.indexOf(close);
  text =
    start >= 0 && end > start
      ? text.slice(0, start) + block + text.slice(end + close.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, text);
}
