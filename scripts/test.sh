#!/usr/bin/env bash
# Runs every check and test: install + build, system packages (as root), typecheck, lint, package checks
# (publint + arethetypeswrong + publish dry run), the consumer check (packed tarballs installed with npm in a fresh
# project; README code blocks type-checked there), then all vitest suites. Last line: "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/pnpm.sh

passed=0
failed=0
step() { # step <name> <command...>: a check that counts as one test; prints its duration
  local name=$1 start=$SECONDS; shift
  echo "── $name"
  if "$@"; then passed=$((passed + 1)); else echo "✗ $name failed"; failed=$((failed + 1)); fi
  echo "   ($name: $((SECONDS - start)) s)"
}

step "install and build" bash scripts/setup.sh
if [ "$(id -u)" = 0 ]; then
  step "system packages" bash scripts/system-deps.sh
fi
step "typecheck" pnpm -s typecheck
step "lint (biome)" pnpm -s lint
step "package checks (publint, attw, metadata, publish dry run)" node scripts/check-packages.mjs
step "API reference (TypeDoc: warnings are errors, links validated)" node scripts/docs.mjs --check
step "consumer check (packed tarballs via npm: ESM, CJS, tsc --strict nodenext, README blocks)" node scripts/check-consumer.mjs

echo "── vitest"
results=.vitest-results.json
rm -f "$results"
pnpm -s exec vitest run --reporter=default --reporter=json --outputFile.json="$results"
vitest_rc=$?
if [ -s "$results" ]; then
  read -r tp tf < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrors ?? 0) + (r.success === false && r.numFailedTests === 0 ? 1 : 0))' "$PWD/$results")
  passed=$((passed + tp)); failed=$((failed + tf))
else
  failed=$((failed + 1))
fi
[ $vitest_rc -ne 0 ] && [ "${tf:-0}" = 0 ] && failed=$((failed + 1))

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
