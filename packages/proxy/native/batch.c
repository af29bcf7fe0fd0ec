// Batched reads for the L7 proxy's lean connections (batch-reads.ts). Each connection's descriptor is polled here
// (uv_poll) instead of by its libuv TCP handle, whose own reading and writing stay off. What a readiness event
// reads lands in one arena that JavaScript shares, and is described by an entry (connection slot, kind, offset,
// length) in a shared Int32Array; JavaScript is called once per event-loop turn with the number of entries (from
// a check handle, after the poll phase), or earlier when the arena or the entry table is full. One call per turn
// instead of one per read is the point: Node's per-callback machinery costs about a microsecond per read.
//
// libuv allows one watcher per descriptor, so a connection whose reads are polled here writes here too: a write
// goes to the socket at once (send, MSG_DONTWAIT); what the kernel does not take is kept in the connection's
// queue and sent when the socket is writable; an entry says when the queue emptied (DRAINED) and, after end(),
// when the FIN went (SHUT). Errors of those later sends come as ERROR entries.
//
// Exports (beside relay.c's):
//   binit(report, arena, entries)  report(count) for every batch of this thread; arena an ArrayBuffer, entries
//                                  an Int32Array of 4 per entry
//   bstart(fd, slot)               an external for the connection (not reading yet), or a negative errno
//   bread(conn, on)                reading on or off; 0 or a negative errno
//   bwrite(conn, buf[, buf2])      sends or queues; the bytes now queued (0: all sent), or a negative errno
//   bshut(conn)                    FIN now (1), once the queue is sent (0: a SHUT entry follows), or -errno
//   bqueued(conn)                  the bytes queued
//   bstop(conn)                    stops polling, drops the connection's unread entries; idempotent
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "batch.h"

#define CHUNK (64 * 1024)
// reads per readiness event while each fills its chunk (libuv's own stream reads stop at 32)
#define READS_PER_EVENT 8

// K_ERROR: sending what was queued (or the poll) failed; K_READ_ERROR: reading did (after the bytes before it)
enum { K_DATA = 1, K_EOF = 2, K_ERROR = 3, K_DRAINED = 4, K_SHUT = 5, K_READ_ERROR = 6 };

static const napi_type_tag CONN_TAG = {0x6c626b6974626174ULL, 0x2545f4914f6cdd1dULL};

typedef struct conn conn_t;

typedef struct {
  napi_env env;
  uv_loop_t *loop;
  uv_check_t check;
  conn_t *live;     // connections whose poll is open (a list through conn_t.next/prev)
  int closing;      // poll and check handles closed whose close callback has not run yet
  int tearing_down; // the environment ends: the last close callback lets it go on
  napi_async_cleanup_hook_handle hook;
  napi_ref report;
  napi_ref arena_ref, entries_ref;
  napi_async_context ctx;
  char *arena;
  size_t arena_len, used;
  int32_t *ent;
  size_t max, count;
  int flushing;
} batch_t;

struct conn {
  uv_poll_t poll;
  batch_t *b;
  conn_t *next, *prev;
  int fd, slot;
  int reading, eof, shut_pending, shut;
  int events;  // the mask uv_poll_start was last given (0: stopped)
  int refs;    // the external, and the poll handle until its close callback
  int stopped;
  char *q;     // bytes the kernel did not take yet
  size_t qoff, qlen, qcap;
};

static void release(conn_t *c) {
  if (--c->refs > 0) return;
  free(c->q);
  free(c);
}

static void closed_one(batch_t *b);

static void on_closed(uv_handle_t *h) {
  conn_t *c = (conn_t *)h->data;
  batch_t *b = c->b;
  release(c);
  closed_one(b);
}

// stops polling `c` and closes its poll handle (its close callback releases it); idempotent
static void close_conn(conn_t *c) {
  if (c->stopped) return;
  c->stopped = 1;
  batch_t *b = c->b;
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    b->live = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  c->next = c->prev = NULL;
  uv_poll_stop(&c->poll);
  b->closing++;
  uv_close((uv_handle_t *)&c->poll, on_closed);
}

static void push(batch_t *b, int slot, int kind, int32_t off, int32_t n) {
  int32_t *e = b->ent + 4 * b->count++;
  e[0] = slot;
  e[1] = kind;
  e[2] = off;
  e[3] = n;
}

// JavaScript hears the entries so far; the arena and the table are empty again after
static void flush(batch_t *b) {
  if (b->count == 0 || b->flushing || b->report == NULL) return;
  napi_env env = b->env;
  napi_handle_scope scope;
  napi_value fn, recv, argv[1], result;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  b->flushing = 1;
  napi_get_reference_value(env, b->report, &fn);
  napi_get_global(env, &recv);
  napi_create_uint32(env, (uint32_t)b->count, &argv[0]);
  if (napi_make_callback(env, b->ctx, recv, fn, 1, argv, &result) == napi_pending_exception) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    napi_fatal_exception(env, e);
  }
  b->count = 0;
  b->used = 0;
  b->flushing = 0;
  napi_close_handle_scope(env, scope);
}

static void on_check(uv_check_t *h) { flush((batch_t *)h->data); }

static void on_poll(uv_poll_t *h, int status, int events);

static int arm(conn_t *c) {
  if (c->stopped) return 0;
  int want = 0, err;
  if (c->reading && !c->eof) want |= UV_READABLE;
  if (c->qlen > 0) want |= UV_WRITABLE;
  if (want == c->events) return 0;
  c->events = want;
  err = want == 0 ? uv_poll_stop(&c->poll) : uv_poll_start(&c->poll, want, on_poll);
  return err;
}

// (room and entry_room may call JavaScript, which may stop the connection: on_poll holds a reference meanwhile)
// room for one more entry with a chunk to read into (flushes when there is none); 0 when the connection
// stopped or stopped reading meanwhile
static int room(conn_t *c) {
  batch_t *b = c->b;
  if (b->count < b->max && b->arena_len - b->used >= CHUNK) return 1;
  flush(b);
  return !c->stopped && c->reading && !c->eof && b->count < b->max;
}

// an entry needs no room in the arena: a full table is flushed first
static int entry_room(conn_t *c) {
  batch_t *b = c->b;
  if (b->count < b->max) return 1;
  flush(b);
  return !c->stopped;
}

static void read_some(conn_t *c) {
  batch_t *b = c->b;
  for (int k = 0; k < READS_PER_EVENT; k++) {
    if (!c->reading || c->eof || c->stopped || !room(c)) return;
    ssize_t n = read(c->fd, b->arena + b->used, CHUNK);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      c->eof = 1;
      push(b, c->slot, K_READ_ERROR, 0, -errno);
      return;
    }
    if (n == 0) {
      c->eof = 1;
      push(b, c->slot, K_EOF, 0, 0);
      return;
    }
    push(b, c->slot, K_DATA, (int32_t)b->used, (int32_t)n);
    b->used += ((size_t)n + 7) & ~(size_t)7;
    if (n < CHUNK) return;
  }
}

// sends what is queued; 0 or a negative errno
static int send_queue(conn_t *c) {
  while (c->qlen > 0) {
    ssize_t w = send(c->fd, c->q + c->qoff, c->qlen, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return -errno;
    }
    c->qoff += (size_t)w;
    c->qlen -= (size_t)w;
  }
  c->qoff = 0;
  return 0;
}

static int do_shutdown(conn_t *c) {
  c->shut = 1;
  if (shutdown(c->fd, SHUT_WR) < 0 && errno != ENOTCONN) return -errno;
  return 0;
}

static void poll_event(conn_t *c, int status, int events);

static void on_poll(uv_poll_t *h, int status, int events) {
  conn_t *c = (conn_t *)h->data;
  if (c->stopped) return;
  c->refs++;
  poll_event(c, status, events);
  release(c);
}

static void poll_event(conn_t *c, int status, int events) {
  batch_t *b = c->b;
  size_t had_q = c->qlen;
  int had_eof = c->eof;
  size_t had_count = b->count;
  if (status < 0) {
    // POLLERR: libuv stopped the poll; move what still moves and let the socket calls report the error
    c->events = 0;
    events = (c->qlen > 0 ? UV_WRITABLE : 0) | (c->reading && !c->eof ? UV_READABLE : 0);
  }
  if ((events & UV_WRITABLE) && c->qlen > 0) {
    int err = send_queue(c);
    if (err == 0 && c->qlen == 0 && c->shut_pending) err = do_shutdown(c);
    if (err != 0) {
      if (!entry_room(c)) return;
      c->eof = 1;
      c->qlen = 0;
      push(b, c->slot, K_ERROR, 0, err);
      arm(c);
      return;
    }
    // (entry_room may call JavaScript, which may queue more: then this is not the end of the queue)
    if (c->qlen == 0 && entry_room(c) && c->qlen == 0) {
      push(b, c->slot, c->shut_pending ? K_SHUT : K_DRAINED, 0, 0);
      c->shut_pending = 0;
    }
    if (c->stopped) return;
  }
  if (events & UV_READABLE) read_some(c);
  if (c->stopped) return;
  if (status < 0 && c->qlen == had_q && c->eof == had_eof && b->count == had_count) {
    int se = 0;
    socklen_t len = sizeof se;
    int err = getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &se, &len) == 0 && se != 0 ? -se : status;
    if (!entry_room(c)) return;
    c->eof = 1;
    c->qlen = 0;
    push(b, c->slot, K_ERROR, 0, err);
  }
  int err = arm(c);
  if (err != 0 && entry_room(c)) {
    c->eof = 1;
    c->qlen = 0;
    push(b, c->slot, K_ERROR, 0, err);
  }
}

static napi_value int32(napi_env env, int v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static napi_value Init(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], name;
  batch_t *b = NULL;
  void *data;
  size_t len;
  napi_typedarray_type type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&b) != napi_ok || argc < 3 || b == NULL) return NULL;
  napi_value no;
  napi_get_boolean(env, false, &no);
  if (b->report != NULL) return no;  // once per environment: the caller shares the first one
  if (napi_get_arraybuffer_info(env, argv[1], &data, &len) != napi_ok || len < 2 * CHUNK) return no;
  b->arena = data;
  b->arena_len = len;
  if (napi_get_typedarray_info(env, argv[2], &type, &len, &data, NULL, NULL) != napi_ok || type != napi_int32_array ||
      len < 4 * 16)
    return no;
  b->ent = data;
  b->max = len / 4;
  napi_create_reference(env, argv[1], 1, &b->arena_ref);
  napi_create_reference(env, argv[2], 1, &b->entries_ref);
  napi_create_reference(env, argv[0], 1, &b->report);
  napi_create_string_utf8(env, "lbkit.batch", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, argv[0], name, &b->ctx);
  uv_check_start(&b->check, on_check);
  uv_unref((uv_handle_t *)&b->check);
  napi_value yes;
  napi_get_boolean(env, true, &yes);
  return yes;
}

static void finalize_conn(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  conn_t *c = (conn_t *)data;
  close_conn(c);
  release(c);
}

static napi_value Start(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  int32_t fd, slot;
  batch_t *b = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&b) != napi_ok || argc < 2 || b == NULL ||
      b->report == NULL)
    return int32(env, UV_EINVAL);
  if (napi_get_value_int32(env, argv[0], &fd) != napi_ok || napi_get_value_int32(env, argv[1], &slot) != napi_ok ||
      fd < 0)
    return int32(env, UV_EBADF);
  conn_t *c = calloc(1, sizeof *c);
  if (c == NULL) return int32(env, UV_ENOMEM);
  c->b = b;
  c->fd = fd;
  c->slot = slot;
  int err = uv_poll_init(b->loop, &c->poll, fd);
  if (err != 0) {
    free(c);
    return int32(env, err);
  }
  c->poll.data = c;
  c->refs = 2;
  c->next = b->live;
  if (b->live != NULL) b->live->prev = c;
  b->live = c;
  if (napi_create_external(env, c, finalize_conn, NULL, &out) != napi_ok) {
    close_conn(c);
    release(c);
    return int32(env, UV_ENOMEM);
  }
  napi_type_tag_object(env, out, &CONN_TAG);
  return out;
}

static conn_t *conn_arg(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  void *data = NULL;
  bool tagged = false;
  if (napi_get_cb_info(env, info, argc, argv, NULL, NULL) != napi_ok || *argc < 1) return NULL;
  if (napi_check_object_type_tag(env, argv[0], &CONN_TAG, &tagged) != napi_ok || !tagged) return NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok) return NULL;
  return (conn_t *)data;
}

static napi_value Read(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  bool on = false;
  conn_t *c = conn_arg(env, info, &argc, argv);
  if (c == NULL || argc < 2 || napi_get_value_bool(env, argv[1], &on) != napi_ok) return int32(env, UV_EINVAL);
  if (c->stopped) return int32(env, UV_EBADF);
  c->reading = on;
  return int32(env, arm(c));
}

// keeps `n` more bytes at the queue's end
static int enqueue(conn_t *c, const char *p, size_t n) {
  if (n == 0) return 0;
  if (c->qoff > 0 && c->qoff + c->qlen + n > c->qcap) {
    memmove(c->q, c->q + c->qoff, c->qlen);
    c->qoff = 0;
  }
  if (c->qlen + n > c->qcap) {
    size_t cap = c->qcap < CHUNK ? CHUNK : c->qcap;
    while (cap < c->qlen + n) cap *= 2;
    char *q = realloc(c->q, cap);
    if (q == NULL) return -ENOMEM;
    c->q = q;
    c->qcap = cap;
  }
  memcpy(c->q + c->qoff + c->qlen, p, n);
  c->qlen += n;
  return 0;
}

static napi_value Write(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  struct iovec iov[2];
  int n = 0;
  conn_t *c = conn_arg(env, info, &argc, argv);
  if (c == NULL || argc < 2) return int32(env, UV_EINVAL);
  if (c->stopped || c->shut || c->shut_pending) return int32(env, UV_EPIPE);
  for (size_t i = 1; i < argc && i < 3; i++) {
    void *data;
    size_t len;
    if (napi_get_buffer_info(env, argv[i], &data, &len) != napi_ok) return int32(env, UV_EINVAL);
    if (len == 0) continue;
    iov[n].iov_base = data;
    iov[n].iov_len = len;
    n++;
  }
  size_t sent = 0;
  if (c->qlen == 0 && n > 0) {
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_iov = iov;
    msg.msg_iovlen = (size_t)n;
    ssize_t w;
    do w = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) return int32(env, -errno);
      w = 0;
    }
    sent = (size_t)w;
  }
  for (int i = 0; i < n; i++) {
    size_t len = iov[i].iov_len;
    if (sent >= len) {
      sent -= len;
      continue;
    }
    int err = enqueue(c, (const char *)iov[i].iov_base + sent, len - sent);
    if (err != 0) return int32(env, err);
    sent = 0;
  }
  int err = arm(c);
  if (err != 0) return int32(env, err);
  return int32(env, c->qlen > INT32_MAX ? INT32_MAX : (int)c->qlen);
}

static napi_value Shut(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  conn_t *c = conn_arg(env, info, &argc, argv);
  if (c == NULL) return int32(env, UV_EINVAL);
  if (c->stopped) return int32(env, UV_EBADF);
  if (c->shut || c->shut_pending) return int32(env, c->shut ? 1 : 0);
  if (c->qlen > 0) {
    c->shut_pending = 1;
    return int32(env, 0);
  }
  int err = do_shutdown(c);
  return int32(env, err != 0 ? err : 1);
}

static napi_value Queued(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  conn_t *c = conn_arg(env, info, &argc, argv);
  return int32(env, c == NULL ? 0 : c->qlen > INT32_MAX ? INT32_MAX : (int)c->qlen);
}

static napi_value Stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  conn_t *c = conn_arg(env, info, &argc, argv);
  if (c == NULL || c->stopped) return NULL;
  close_conn(c);
  // entries of this connection that JavaScript has not seen yet go nowhere: its slot may be reused at once
  batch_t *b = c->b;
  for (size_t i = 0; i < b->count; i++)
    if (b->ent[4 * i] == c->slot) b->ent[4 * i] = -1;
  return NULL;
}

// The environment ends (a worker thread exits, or the process): JavaScript is not called again, every poll and
// the check handle close, and Node waits for their close callbacks (this addon's code) before it unloads the
// addon: the last one removes the hook and frees the batch.
static void closed_one(batch_t *b) {
  if (--b->closing > 0 || !b->tearing_down) return;
  napi_remove_async_cleanup_hook(b->hook);
  free(b);
}

static void on_check_closed(uv_handle_t *h) { closed_one((batch_t *)h->data); }

static void teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  batch_t *b = (batch_t *)arg;
  b->hook = handle;
  if (b->report != NULL) napi_delete_reference(b->env, b->report);
  if (b->arena_ref != NULL) napi_delete_reference(b->env, b->arena_ref);
  if (b->entries_ref != NULL) napi_delete_reference(b->env, b->entries_ref);
  if (b->ctx != NULL) napi_async_destroy(b->env, b->ctx);
  b->report = NULL;
  b->count = 0;
  while (b->live != NULL) close_conn(b->live);
  uv_check_stop(&b->check);
  b->closing++;
  uv_close((uv_handle_t *)&b->check, on_check_closed);
  b->tearing_down = 1;
}

static void free_on_close(uv_handle_t *h) { free(h->data); }

static void add(napi_env env, napi_value exports, const char *name, napi_callback cb, batch_t *b) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, b, &fn);
  napi_set_named_property(env, exports, name, fn);
}

void batch_register(napi_env env, napi_value exports, uv_loop_t *loop) {
  batch_t *b = calloc(1, sizeof *b);
  if (b == NULL) return;
  b->env = env;
  b->loop = loop;
  uv_check_init(loop, &b->check);
  b->check.data = b;
  if (napi_add_async_cleanup_hook(env, teardown, b, NULL) != napi_ok) {
    uv_close((uv_handle_t *)&b->check, free_on_close);  // no batched reads here: JavaScript finds no binit
    return;
  }
  add(env, exports, "binit", Init, b);
  add(env, exports, "bstart", Start, b);
  add(env, exports, "bread", Read, b);
  add(env, exports, "bwrite", Write, b);
  add(env, exports, "bshut", Shut, b);
  add(env, exports, "bqueued", Queued, b);
  add(env, exports, "bstop", Stop, b);
}
