#!/usr/bin/env bash
# 10,000 loopback health-check targets (HTTP, then TCP connect) checked every second, plus a 1,000-target
# HTTP baseline; writes the <!-- healthcheck --> section of bench/README.md. All traffic stays on 127.0.0.1.
# Raises the open-file limit for this script only, as far as the hard limit allows.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
node healthcheck/bench.mjs "$@"
