{
  "targets": [
    {
      "target_name": "lbkit_healthcheck",
      "sources": ["native/quiet_socket.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-Wall", "-Wextra"]
    }
  ]
}
