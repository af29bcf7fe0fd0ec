#!/usr/bin/env bash
# The main demo: installs and builds only what is missing or stale, saying so, then runs the ha-pair demo (two lbkit
# nodes, proxy + VRRP, holding a VIP in front of three web servers: in network namespaces as root, on the UDP
# loopback transport otherwise) and the balancer's live view. Arguments go to the balancer view (e.g. --fast).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pnpm.sh

# install when node_modules is missing or older than the lockfile or any package.json
stamp=node_modules/.modules.yaml
if [ ! -f "$stamp" ] || [ -n "$(find pnpm-lock.yaml package.json packages/*/package.json examples/package.json \
  test/package.json test/lab/package.json -newer "$stamp" 2>/dev/null | head -1)" ]; then
  echo "demo: installing dependencies with pnpm (the first time takes 20–60 s: native addons compile)…"
  pnpm install --frozen-lockfile --reporter=append-only 2>&1 | { grep -vE '^(Progress|Packages):|gyp info|^\s*$' || true; } | sed 's/^/  /'
  [ "${PIPESTATUS[0]}" = 0 ] || { echo "demo: pnpm install failed (above)" >&2; exit 1; }
  touch "$stamp"
fi
node scripts/build-stale.mjs
echo
node examples/ha-pair/index.mjs
echo
node examples/balancer-live/index.mjs "$@"
