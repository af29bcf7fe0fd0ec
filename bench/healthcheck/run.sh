#!/usr/bin/env bash
# lbkit against HAProxy 2.6 health checks, interleaved: http and tcp at 1,000 and 10,000 loopback targets
# checked every second; writes the <!-- healthcheck --> section of bench/README.md. All traffic stays on 127.0.0.1.
# Raises the open-file limit for this script only, as far as the hard limit allows.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
node healthcheck/bench.mjs "$@"
