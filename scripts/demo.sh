#!/usr/bin/env bash
# The main demo: installs and builds everything it needs, then runs the failover demo (real VRRP, VIPs and
# GARP in network namespaces as root; the UDP loopback transport otherwise) and the balancer's live view.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
node examples/failover/index.mjs
echo
node examples/balancer-live/index.mjs "$@"
