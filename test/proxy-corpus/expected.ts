// The vectors the corpus runner classifies UNSAFE for the real peers, as measured on Debian 12 (haproxy
// 2.6.12, nginx 1.22.1) — see bench/README.md (<!-- proxy-corpus -->) for what each one did. All are ambiguous
// messages passed on (none a desync on these two):
export const EXPECTED_UNSAFE = {
  // lbkit's target is none. Open as of the proxy branch merged here (6ef4bac): a server's 204 with
  // Content-Length reaches the client with its Content-Length (RFC 9110 §8.6: a 204 carries none; a client that
  // honours it would read the next response as this one's body). The suite fails when this list is wrong either
  // way, so fixing it in @lbkit/proxy means emptying the list.
  "lbkit-l7": ["resp-204-body"],
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
