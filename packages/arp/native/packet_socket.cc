// AF_PACKET sender for @lbkit/arp: open(ifindex) -> fd, send(fd, frame) -> bytes, close(fd); and
// attachFilter(cookie, program): a classic BPF socket filter on another of this process's sockets, found by its
// SO_COOKIE (for sockets another addon owns, e.g. raw-socket's, whose descriptor JavaScript never sees).
// The socket is SOCK_RAW with protocol 0: it sends complete Ethernet frames and receives nothing (no
// packet_type hook is registered for protocol 0), so it never copies the interface's traffic.
// Errors are thrown as JS Errors carrying errno, code (e.g. "EPERM") and syscall; src/socket.ts turns
// them into ArpErrors that name the interface and the fix.
#include <napi.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/filter.h>
#include <cstdint>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

namespace {

const char* ErrnoName(int err) {
  switch (err) {
    case EPERM: return "EPERM";
    case EACCES: return "EACCES";
    case ENODEV: return "ENODEV";
    case ENXIO: return "ENXIO";
    case ENETDOWN: return "ENETDOWN";
    case EINVAL: return "EINVAL";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOBUFS: return "ENOBUFS";
    case EAGAIN: return "EAGAIN";
    case EBADF: return "EBADF";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOENT: return "ENOENT";
    case ENOMEM: return "ENOMEM";
    default: return "EIO";
  }
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  std::string msg = std::string(syscall) + ": " + std::strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("code", Napi::String::New(env, ErrnoName(err)));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Value ThrowType(Napi::Env env, const char* msg) {
  Napi::TypeError::New(env, msg).ThrowAsJavaScriptException();
  return env.Undefined();
}

// open(ifindex: number): number — a bound AF_PACKET socket
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "open(ifindex): ifindex must be a number");
  int ifindex = info[0].As<Napi::Number>().Int32Value();
  if (ifindex <= 0) return ThrowType(env, "open(ifindex): ifindex must be > 0");
  int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  struct sockaddr_ll sll;
  std::memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = 0;
  sll.sll_ifindex = ifindex;
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll) < 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "bind", err);
  }
  return Napi::Number::New(env, fd);
}

// send(fd: number, ifindex: number, frame: Uint8Array): number — bytes sent
Napi::Value Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsTypedArray()) {
    return ThrowType(env, "send(fd, ifindex, frame): expected (number, number, Uint8Array)");
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  int ifindex = info[1].As<Napi::Number>().Int32Value();
  Napi::TypedArray ta = info[2].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return ThrowType(env, "send: frame must be a Uint8Array");
  Napi::Uint8Array frame = ta.As<Napi::Uint8Array>();
  size_t len = frame.ByteLength();
  if (len < ETH_HLEN) return ThrowType(env, "send: frame shorter than an Ethernet header (14 bytes)");
  const uint8_t* data = frame.Data();
  struct sockaddr_ll sll;
  std::memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = ifindex;
  std::memcpy(&sll.sll_protocol, data + 12, 2);  // EtherType, already in network order
  sll.sll_halen = ETH_ALEN;
  std::memcpy(sll.sll_addr, data, ETH_ALEN);
  ssize_t n = sendto(fd, data, len, MSG_DONTWAIT, reinterpret_cast<struct sockaddr*>(&sll), sizeof sll);
  if (n < 0) return ThrowErrno(env, "sendto", errno);
  return Napi::Number::New(env, static_cast<double>(n));
}

// close(fd: number): void
Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsNumber()) return ThrowType(env, "close(fd): fd must be a number");
  int fd = info[0].As<Napi::Number>().Int32Value();
  if (close(fd) < 0) return ThrowErrno(env, "close", errno);
  return env.Undefined();
}

#ifndef SO_COOKIE
#define SO_COOKIE 57
#endif

// attachFilter(cookie: bigint | fd: number, program: Uint8Array): number — the descriptor of this process's socket
// whose SO_COOKIE is `cookie` (or the descriptor `fd` itself, for a socket whose descriptor JavaScript knows), after
// SO_ATTACH_FILTER with `program` (struct sock_filter[], 8 bytes each, host order)
Napi::Value AttachFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !(info[0].IsBigInt() || info[0].IsNumber()) || !info[1].IsTypedArray())
    return ThrowType(env, "attachFilter(cookie | fd, program): expected (bigint | number, Uint8Array)");
  bool byFd = info[0].IsNumber();
  bool lossless = false;
  uint64_t cookie = byFd ? 0 : info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  Napi::TypedArray ta = info[1].As<Napi::TypedArray>();
  if (ta.TypedArrayType() != napi_uint8_array) return ThrowType(env, "attachFilter: program must be a Uint8Array");
  Napi::Uint8Array program = ta.As<Napi::Uint8Array>();
  size_t len = program.ByteLength();
  if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
    return ThrowType(env, "attachFilter: program must be 1..4096 instructions of 8 bytes");
  struct sock_filter insns[BPF_MAXINSNS];
  std::memcpy(insns, program.Data(), len);
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(len / sizeof(struct sock_filter));
  prog.filter = insns;
  if (byFd) {
    int fd = info[0].As<Napi::Number>().Int32Value();
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
      return ThrowErrno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
    return Napi::Number::New(env, fd);
  }
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return ThrowErrno(env, "opendir", errno);
  int found = -1;
  while (struct dirent* e = readdir(dir)) {
    char* end = nullptr;
    long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != 0 || fd == dirfd(dir)) continue;
    uint64_t c = 0;
    socklen_t clen = sizeof c;
    if (getsockopt(static_cast<int>(fd), SOL_SOCKET, SO_COOKIE, &c, &clen) == 0 && c == cookie) {
      found = static_cast<int>(fd);
      break;
    }
  }
  closedir(dir);
  if (found < 0) return ThrowErrno(env, "attachFilter: no socket with that SO_COOKIE", ENOENT);
  if (setsockopt(found, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return ThrowErrno(env, "setsockopt(SO_ATTACH_FILTER)", errno);
  return Napi::Number::New(env, found);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("attachFilter", Napi::Function::New(env, AttachFilter, "attachFilter"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("send", Napi::Function::New(env, Send, "send"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  return exports;
}

}  // namespace

NODE_API_MODULE(lbkit_arp, Init)
