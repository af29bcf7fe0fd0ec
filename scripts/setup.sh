#!/usr/bin/env bash
# Installs the workspace and builds every package. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pnpm.sh
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^(Progress|Packages):' || true
# pnpm keeps a checkout's compiled @lbkit/arp addon across installs: rebuild it when its C++ source is newer
addon=packages/arp/build/Release/lbkit_arp.node
if [ -f "$addon" ] && [ -n "$(find packages/arp/native packages/arp/binding.gyp -newer "$addon" -print -quit)" ]; then
  echo "setup: packages/arp/native changed since the addon was built; rebuilding it"
  rm -rf packages/arp/build
  pnpm --filter @lbkit/arp run install
fi
pnpm build
