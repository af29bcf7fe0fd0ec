#!/usr/bin/env bash
# 10,000 loopback health-check targets (HTTP, then TCP connect) checked every second for 20 s each.
# Raises the open-file limit for this script only; all traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
node healthcheck/run.mjs --check http "$@"
node healthcheck/run.mjs --check tcp "$@"
