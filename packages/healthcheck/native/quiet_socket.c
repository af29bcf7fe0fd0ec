// Quiet sockets for plain TCP connect checks: quietSocket(family) returns a non-blocking, close-on-exec TCP
// socket (family 4 or 6) with TCP_QUICKACK off and SO_LINGER {on, 0}, or -errno. With quick ACK off, Linux
// holds back the ACK that ends the three-way handshake (up to 200 ms); with a zero linger, closing the socket
// once it is established sends a RST (and closing it while the SYN is out sends nothing). A check that closes
// as soon as the SYN-ACK proved the port listens thus never completes the handshake on the server: nothing is
// accepted there, and both kernels do less work per check. This is what HAProxy's plain connect check does.
// Plain C over Node-API, no other dependency; where TCP_QUICKACK does not exist (not Linux) it returns -ENOSYS
// and checks go on as before.
#include <node_api.h>

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

static napi_value QuietSocket(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t family = 4;
  int result;
  napi_value out;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc > 0) napi_get_value_int32(env, argv[0], &family);
#if defined(TCP_QUICKACK) && defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
  {
    int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      result = -errno;
    } else {
      int off = 0;
      struct linger abort_on_close = {1, 0};
      if (setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) < 0 ||
          setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close) < 0) {
        result = -errno;
        close(fd);
      } else {
        result = fd;
      }
    }
  }
#else
  (void)family;
  result = -ENOSYS;
#endif
  napi_create_int32(env, result, &out);
  return out;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "quietSocket", NAPI_AUTO_LENGTH, QuietSocket, NULL, &fn) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "quietSocket", fn);
  return exports;
}
