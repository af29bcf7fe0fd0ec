#!/usr/bin/env bash
# The main demo: installs and builds everything it needs, then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
node examples/balancer-live/index.mjs "$@"
