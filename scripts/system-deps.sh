#!/usr/bin/env bash
# Debian packages the network-namespace and interop suites use. Needs root; installs only what is missing.
# Services are kept from starting during install (policy-rc.d), so keepalived never runs in the root namespace and
# no database, mail or directory server is left running: the suites start their own on loopback.
set -euo pipefail
want=(iproute2 tcpdump tshark keepalived nftables iputils-ping haproxy python3 nginx wrk chromium mariadb-server mariadb-client
  postgresql redis-server exim4-daemon-light slapd openssl nghttp2-client gobgpd frr golang-github-osrg-gobgp-dev)
have_cmd() { command -v "$1" >/dev/null 2>&1; }
missing=()
have_cmd ip || missing+=(iproute2)
have_cmd tcpdump || missing+=(tcpdump)
have_cmd tshark || missing+=(tshark)
have_cmd keepalived || [ -x /usr/sbin/keepalived ] || missing+=(keepalived)
have_cmd nft || [ -x /usr/sbin/nft ] || missing+=(nftables)
have_cmd ping || missing+=(iputils-ping)
have_cmd haproxy || [ -x /usr/sbin/haproxy ] || missing+=(haproxy) # healthcheck interop (loopback only)
have_cmd openssl || missing+=(openssl) # proxy TLS suite: a throwaway CA and certificates
have_cmd h2load || missing+=(nghttp2-client) # proxy HTTP/2 overhead rows (h2load)
have_cmd python3 || missing+=(python3) # proxy suite: a loopback listener that never accepts (timeout connect)
have_cmd nginx || [ -x /usr/sbin/nginx ] || missing+=(nginx) # proxy corpus suite and bench (loopback only)
have_cmd wrk || missing+=(wrk) # bench/proxy
have_cmd chromium || missing+=(chromium) # proxy stats page in a real browser (playwright-core drives the system one)
# protocol checks (test/healthcheck-protocols.test.ts) and examples/mysql-read: real servers, run by the tests
[ -x /usr/sbin/mariadbd ] || missing+=(mariadb-server)
have_cmd mariadb || missing+=(mariadb-client)
[ -x /usr/lib/postgresql/15/bin/postgres ] || missing+=(postgresql)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/sbin/exim4 ] || missing+=(exim4-daemon-light)
[ -x /usr/sbin/slapd ] || missing+=(slapd)
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
