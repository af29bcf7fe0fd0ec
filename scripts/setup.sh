#!/usr/bin/env bash
# Installs the workspace and builds every package. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pnpm.sh
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^(Progress|Packages):' || true
# pnpm keeps a checkout's compiled addons across installs: rebuild one when its C/C++ source is newer
for pkg in arp healthcheck proxy; do
  for addon in packages/$pkg/build/Release/*.node; do
    if [ -f "$addon" ] && [ -n "$(find packages/$pkg/native packages/$pkg/binding.gyp -newer "$addon" -print -quit)" ]; then
      echo "setup: packages/$pkg/native changed since the addon was built; rebuilding it"
      rm -rf packages/$pkg/build
      pnpm --filter @lbkit/$pkg run install
    fi
  done
done
pnpm build
