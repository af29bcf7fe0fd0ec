// The vectors the corpus runner classifies UNSAFE for the real peers, as measured on Debian 12 (haproxy
// 2.6.12, nginx 1.22.1) — see bench/README.md (<!-- proxy-corpus -->) for what each one did. All are ambiguous
// messages passed on (none a desync on these two):
export const EXPECTED_UNSAFE = {
  // lbkit's target is none (a 204's Content-Length, the last one open, is dropped since the proxy's serialiser
  // strips it from 1xx/204 heads). The suite fails when a list is wrong either way.
  "lbkit-l7": [],
  "haproxy-http": [
    "te-empty-then-chunked", // an empty Transfer-Encoding line kept beside "chunked"
    "hdr-nul", // NUL in a request field value passed to the server (RFC 9110 §5.5: reject or replace with SP)
    "http10-te", // Transfer-Encoding on HTTP/1.0 passed on (RFC 9112 §6.1: faulty framing)
    "http10-te-cl",
    "resp-cl-overflow", // a Content-Length of 2^64+2 from the server passed to the client
    "resp-nul", // NUL in a response field value passed to the client
  ],
  nginx: [
    "resp-204-body", // a 204's Content-Length passed to the client (its body dropped)
  ],
} as const;
