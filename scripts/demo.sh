#!/usr/bin/env bash
# The main demo: installs and builds everything it needs, then runs the ha-pair demo (two lbkit nodes, proxy +
# VRRP, in network namespaces as root; on the UDP loopback transport otherwise) and the
# balancer's live view.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
node examples/ha-pair/index.mjs
echo
node examples/balancer-live/index.mjs "$@"
