#!/bin/bash
# same-run comparison: lbkit L7 plain vs --stats vs --stats --log; proxy CPU-µs per request (robust under machine
# load), req/s and p99. See README.md here.
set -u
cd "$(dirname "$0")/../.."
mkdir -p /tmp/ops-bench/www && head -c 100 /dev/zero | tr "\\0" x > /tmp/ops-bench/www/small
nginx -p /tmp/ops-bench -c "$PWD/bench/proxy-ops/nginx.conf" -e stderr & NG=$!
node examples/proxy/index.mjs --listen 127.0.0.1:19502 --backend 127.0.0.1:19501 > /tmp/ops-bench/plain.out 2>&1 & P1=$!
node examples/proxy/index.mjs --listen 127.0.0.1:19503 --backend 127.0.0.1:19501 --stats --log --log-file /tmp/ops-bench/access.log > /tmp/ops-bench/ops.out 2>&1 & P2=$!
node examples/proxy/index.mjs --listen 127.0.0.1:19504 --backend 127.0.0.1:19501 --stats > /tmp/ops-bench/st.out 2>&1 & P3=$!
for f in plain ops st; do for _ in $(seq 100); do grep -q listening /tmp/ops-bench/$f.out 2>/dev/null && break; sleep 0.1; done; done
: > /tmp/ops-bench/access.log
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
for r in 1 2 3 4 5 6 7 8; do
  if [ $((r % 2)) = 1 ]; then order="plain:19502:$P1 stats:19504:$P3 ops:19503:$P2"; else order="ops:19503:$P2 stats:19504:$P3 plain:19502:$P1"; fi
  for t in $order; do
    IFS=: read n port pid <<< "$t"
    c0=$(cpu $pid)
    out=$(timeout 20 wrk -t1 -c50 -d3s --latency http://127.0.0.1:$port/small)
    c1=$(cpu $pid)
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "round $r $n rps=$rps p99=$p99 cpu_us_per_req=$(echo "($c1-$c0)*10000/$reqs" | bc -l | cut -c1-6)"
  done
done
kill $P1 $P2 $P3 $NG
wait
