{
  "targets": [
    {
      "target_name": "lbkit_proxy_relay",
      "sources": ["native/relay.c", "native/batch.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra", "-O2"]
    }
  ]
}
