#!/usr/bin/env bash
# Debian packages the network-namespace and interop suites use. Needs root; installs only what is missing.
# Services are kept from starting during install (policy-rc.d), so keepalived never runs in the root namespace.
set -euo pipefail
want=(iproute2 tcpdump tshark keepalived nftables iputils-ping haproxy gobgpd frr golang-github-osrg-gobgp-dev)
have_cmd() { command -v "$1" >/dev/null 2>&1; }
missing=()
have_cmd ip || missing+=(iproute2)
have_cmd tcpdump || missing+=(tcpdump)
have_cmd tshark || missing+=(tshark)
have_cmd keepalived || [ -x /usr/sbin/keepalived ] || missing+=(keepalived)
have_cmd nft || [ -x /usr/sbin/nft ] || missing+=(nftables)
have_cmd ping || missing+=(iputils-ping)
have_cmd haproxy || [ -x /usr/sbin/haproxy ] || missing+=(haproxy) # healthcheck interop (loopback only)
have_cmd gobgpd || missing+=(gobgpd) # @lbkit/bgp drives it (test/bgp-*, in namespaces only)
[ -x /usr/lib/frr/bgpd ] || missing+=(frr) # the router in test/bgp-*: zebra + bgpd + bfdd, in a namespace
[ -d /usr/share/gocode/src/github.com/osrg/gobgp/api ] || missing+=(golang-github-osrg-gobgp-dev) # the .proto source of packages/bgp/proto
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! have_cmd apt-get; then
  echo "lbkit: missing system packages (${missing[*]}); install them as root: apt-get install ${want[*]}" >&2
  exit 1
fi
echo "lbkit: installing ${missing[*]}" >&2
created_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f /usr/sbin/policy-rc.d' EXIT
apt-get update -qq >/dev/null
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
