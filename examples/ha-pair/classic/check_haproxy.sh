#!/bin/sh
# The guides' checkHaproxy.sh: succeeds while an haproxy process runs (keepalived then adds weight 2).
pidof haproxy >/dev/null
