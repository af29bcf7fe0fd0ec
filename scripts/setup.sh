#!/usr/bin/env bash
# Installs the workspace and builds every package. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/pnpm.sh
pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^(Progress|Packages):' || true
pnpm build
