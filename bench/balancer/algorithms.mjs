// The algorithms the balancer benchmarks measure, in HAProxy's words.
export const ALGORITHMS = [
  "roundrobin",
  "static-rr",
  "leastconn",
  "first",
  "random",
  "random(2)",
  "source",
  "uri depth 2",
  "hdr(host)",
  "hash",
  "consistent",
  "maglev",
  "jump",
  "consistent hash-balance-factor 125",
  "peak-ewma",
];
