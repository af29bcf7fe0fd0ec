#!/usr/bin/env bash
# The proxy bench (see run.ts). Raises the open-file limit for the idle-connection rows (root may raise the
# hard limit; otherwise as far as it allows) and runs the TypeScript harness with tsx.
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -Hn 65536 2>/dev/null || true
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
exec node --import tsx proxy/run.ts "$@"
