// The L4 relay: once JavaScript hands a TCP session over (l4.ts: when it turned out to be a conversation, or at
// connect with LBKIT_PROXY_RELAY=eager), the bytes between its two sockets are copied here, on the Node.js event
// loop (uv_poll on the two descriptors), instead of reaching JavaScript one read callback at a time. Each direction
// reads into one scratch buffer and sends at once; what the receiver's socket does not take is kept (one buffer
// per direction, made on first need) and that direction stops reading until it left, so a slow peer never causes
// more than one buffer of waiting bytes. A FIN is read only when nothing of its direction waits, and is sent on
// (shutdown) at once. JavaScript hears only what changes a session: a side's FIN while the other direction goes
// on, both directions done (the second FIN included), or an error on a side.
//
// The descriptors stay libuv's TCP handles': the relay polls them only while their handles neither read nor
// write, and stop() takes its polls' watchers off the loop at once (their handles close a turn later) so that
// JavaScript may close the TCP handles right after.
//
// Plain C over Node-API and libuv, no other dependency. Exports:
//   init(report)                 report(owner, kind, side, errno) for every relay of this thread (one async
//                                context for all: async hooks see the module's, not a session's)
//   start(owner, fdA, fdB)       an external for the relay, or a negative errno (UV_EEXIST: a handle polls it)
//   stop(relay)                  stops polling; idempotent; safe inside report()
//   info(relay, out)             out[0..1]: bytes read from each side; out[2..3]: ms since each side's last activity
#include <node_api.h>
#include <uv.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "batch.h"

#define SCRATCH (64 * 1024)
// reads per readiness event while each fills the scratch buffer (libuv's own stream reads stop at 32)
#define READS_PER_EVENT 8

enum { REPORT_END = 1, REPORT_DONE = 2, REPORT_ERROR = 3 };

// marks the externals start() returns, so that stop() and info() take nothing else
static const napi_type_tag RELAY_TAG = {0x6c626b6974726c79ULL, 0x9e3779b97f4a7c15ULL};

typedef struct relay relay_t;

typedef struct {
  napi_env env;
  char *scratch;
  uv_loop_t *loop;
  napi_ref report;
  napi_async_context ctx;
  relay_t *live;  // relays still polling (a list through relay_t.next/prev)
  int closing;    // poll handles closed whose close callback has not run yet
  napi_async_cleanup_hook_handle hook;  // set while the environment ends
} module_t;

typedef struct {
  uv_poll_t poll;
  relay_t *r;
  int fd;
  int side;
  int events;  // the mask uv_poll_start was last given (0: stopped)
} end_t;

// one direction: bytes read from end[i] and sent to end[1 - i]
typedef struct {
  char *buf;  // what the receiver did not take yet (SCRATCH bytes, made on first need)
  size_t off, len;
  int eof;   // end[i]'s FIN was read
  int shut;  // and sent on to end[1 - i]
  double bytes;
} flow_t;

struct relay {
  napi_env env;
  module_t *m;
  relay_t *next, *prev;
  napi_ref owner;  // strong while polling
  end_t end[2];
  flow_t flow[2];
  uint64_t last[2];  // loop time (ms) of each side's last read or write
  int refs;          // the external, and each poll handle until its close callback
  int stopped;
};

static void release(relay_t *r) {
  if (--r->refs > 0) return;
  free(r->flow[0].buf);
  free(r->flow[1].buf);
  free(r);
}

// When the environment ends (a worker thread exits), Node waits for the hook's removal before it unloads this
// addon: the last poll's close callback (this addon's code) removes it.
static void on_poll_closed(uv_handle_t *h) {
  relay_t *r = ((end_t *)h->data)->r;
  module_t *m = r->m;
  release(r);
  if (--m->closing == 0 && m->hook != NULL) {
    napi_remove_async_cleanup_hook(m->hook);
    m->hook = NULL;
  }
}

static void stop_polling(relay_t *r) {
  if (r->stopped) return;
  r->stopped = 1;
  module_t *m = r->m;
  if (r->prev != NULL)
    r->prev->next = r->next;
  else if (m->live == r)
    m->live = r->next;
  if (r->next != NULL) r->next->prev = r->prev;
  r->next = r->prev = NULL;
  for (int i = 0; i < 2; i++) {
    uv_poll_stop(&r->end[i].poll);
    m->closing++;
    uv_close((uv_handle_t *)&r->end[i].poll, on_poll_closed);
  }
}

static void drop_owner(relay_t *r) {
  if (r->owner == NULL) return;
  napi_delete_reference(r->env, r->owner);
  r->owner = NULL;
}

static void report(relay_t *r, int kind, int side, int err) {
  napi_env env = r->env;
  module_t *m = r->m;
  napi_handle_scope scope;
  napi_value fn, recv, argv[4], result;
  if (r->owner == NULL || m->report == NULL) return;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_get_reference_value(env, m->report, &fn);
  napi_get_reference_value(env, r->owner, &argv[0]);
  napi_get_global(env, &recv);  // napi_make_callback wants an object
  napi_create_int32(env, kind, &argv[1]);
  napi_create_int32(env, side, &argv[2]);
  napi_create_int32(env, err, &argv[3]);
  r->refs++;  // report() may stop the relay and drop the external
  if (napi_make_callback(env, m->ctx, recv, fn, 4, argv, &result) == napi_pending_exception) {
    napi_value e;
    napi_get_and_clear_last_exception(env, &e);
    napi_fatal_exception(env, e);
  }
  napi_close_handle_scope(env, scope);
  release(r);
}

// the relay's last report: its polls are stopped first, and it holds its owner no longer
static void finish(relay_t *r, int kind, int side, int err) {
  r->refs++;
  stop_polling(r);
  report(r, kind, side, err);
  drop_owner(r);
  release(r);
}

static void on_poll(uv_poll_t *h, int status, int events);

// (re)starts each end's poll with what it waits for: readable while its flow may read (not at EOF, nothing kept
// back), writable while bytes wait for it
// (each change costs libuv an epoll removal and an addition: uv_poll_start stops the poll first); 0 or an error
static int arm(relay_t *r) {
  for (int i = 0; i < 2; i++) {
    end_t *e = &r->end[i];
    int want = 0, err = 0;
    if (!r->flow[i].eof && r->flow[i].len == 0) want |= UV_READABLE;
    if (r->flow[1 - i].len > 0) want |= UV_WRITABLE;
    if (want == e->events) continue;
    e->events = want;
    if (want == 0)
      err = uv_poll_stop(&e->poll);
    else
      err = uv_poll_start(&e->poll, want, on_poll);
    if (err != 0) return err;
  }
  return 0;
}

// the FIN read on end[i] goes on to end[1 - i] once nothing of its flow waits; 0 or a negative errno
static int forward_fin(relay_t *r, int i) {
  flow_t *f = &r->flow[i];
  if (!f->eof || f->shut || f->len > 0) return 0;
  f->shut = 1;
  if (shutdown(r->end[1 - i].fd, SHUT_WR) < 0 && errno != ENOTCONN) return -errno;
  return 0;
}

// sends what waits for end[d]; 0, or a negative errno (an error on end[d])
static int flush(relay_t *r, int d) {
  flow_t *f = &r->flow[1 - d];
  while (f->len > 0) {
    ssize_t w = send(r->end[d].fd, f->buf + f->off, f->len, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      return -errno;
    }
    r->last[d] = uv_now(r->m->loop);
    f->off += (size_t)w;
    f->len -= (size_t)w;
  }
  f->off = 0;
  return forward_fin(r, 1 - d);
}

// reads from end[i] and sends on; 0, or a negative errno with *who set to the side it came from
static int pump(relay_t *r, int i, int *who) {
  flow_t *f = &r->flow[i];
  char *s = r->m->scratch;
  int src = r->end[i].fd, dst = r->end[1 - i].fd;
  for (int k = 0; k < READS_PER_EVENT && !f->eof && f->len == 0; k++) {
    ssize_t n = read(src, s, SCRATCH);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      *who = i;
      return -errno;
    }
    uint64_t now = uv_now(r->m->loop);
    r->last[i] = now;
    if (n == 0) {
      f->eof = 1;
      *who = 1 - i;
      return forward_fin(r, i);
    }
    f->bytes += (double)n;
    ssize_t w = send(dst, s, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        *who = 1 - i;
        return -errno;
      }
      w = 0;
    }
    if (w > 0) r->last[1 - i] = now;
    if (w < n) {
      if (f->buf == NULL && (f->buf = malloc(SCRATCH)) == NULL) {
        *who = i;
        return -ENOMEM;
      }
      f->off = 0;
      f->len = (size_t)(n - w);
      memcpy(f->buf, s + w, f->len);
      return 0;
    }
    if (n < SCRATCH) return 0;
  }
  return 0;
}

static void on_poll(uv_poll_t *h, int status, int events) {
  end_t *e = (end_t *)h->data;
  relay_t *r = e->r;
  int i = e->side, err = 0, who = i, had_eof = r->flow[i].eof;
  double had_bytes = r->flow[i].bytes;
  size_t had_waiting = r->flow[1 - i].len;
  if (r->stopped) return;
  if (status < 0) {
    // POLLERR (a reset, mostly): libuv stopped this poll without reading or writing. What arrived before the
    // reset is still readable, and read() reports the reset after it: move what can still move, as a stream
    // does, and let the error come from the socket calls
    e->events = 0;
    events = (r->flow[1 - i].len > 0 ? UV_WRITABLE : 0) | (!had_eof && r->flow[i].len == 0 ? UV_READABLE : 0);
  }
  if (events & UV_WRITABLE) err = flush(r, i);
  if (err == 0 && (events & UV_READABLE)) err = pump(r, i, &who);
  if (err == 0 && status < 0 && r->flow[i].bytes == had_bytes && r->flow[i].eof == had_eof &&
      r->flow[1 - i].len == had_waiting) {
    // nothing moved and no call failed: the socket's pending error says what happened (else libuv's status)
    int se = 0;
    socklen_t len = sizeof se;
    err = getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &se, &len) == 0 && se != 0 ? -se : status;
    who = i;
  }
  if (err != 0) {
    finish(r, REPORT_ERROR, who, err);
    return;
  }
  if (r->flow[0].shut && r->flow[1].shut) {
    finish(r, REPORT_DONE, i, 0);
    return;
  }
  err = arm(r);
  if (err != 0) {
    finish(r, REPORT_ERROR, i, err);
    return;
  }
  if (!had_eof && r->flow[i].eof) report(r, REPORT_END, i, 0);
}

static module_t *module_of(napi_env env) {
  module_t *m = NULL;
  napi_get_instance_data(env, (void **)&m);
  return m;
}

static napi_value Init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], name;
  module_t *m = module_of(env);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  if (m->report != NULL) napi_delete_reference(env, m->report);
  napi_create_reference(env, argv[0], 1, &m->report);
  if (m->ctx == NULL) {
    napi_create_string_utf8(env, "lbkit.relay", NAPI_AUTO_LENGTH, &name);
    napi_async_init(env, argv[0], name, &m->ctx);
  }
  return NULL;
}

static void finalize_relay(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  relay_t *r = (relay_t *)data;
  stop_polling(r);
  drop_owner(r);
  release(r);
}

static napi_value int32(napi_env env, int v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static napi_value Start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  int32_t fd[2];
  module_t *m = module_of(env);
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) return int32(env, UV_EINVAL);
  if (napi_get_value_int32(env, argv[1], &fd[0]) != napi_ok || napi_get_value_int32(env, argv[2], &fd[1]) != napi_ok ||
      fd[0] < 0 || fd[1] < 0 || fd[0] == fd[1])
    return int32(env, UV_EBADF);
  relay_t *r = calloc(1, sizeof *r);
  if (r == NULL) return int32(env, UV_ENOMEM);
  r->env = env;
  r->m = m;
  r->last[0] = r->last[1] = uv_now(m->loop);
  for (int i = 0; i < 2; i++) {
    end_t *e = &r->end[i];
    e->r = r;
    e->fd = fd[i];
    e->side = i;
    int err = uv_poll_init(m->loop, &e->poll, fd[i]);
    if (err != 0) {
      if (i == 1) {
        m->closing++;
        uv_close((uv_handle_t *)&r->end[0].poll, on_poll_closed);
        r->refs = 1;  // freed by the close callback
        r->stopped = 1;
      } else {
        free(r);
      }
      return int32(env, err);
    }
    e->poll.data = e;
  }
  r->refs = 3;
  r->next = m->live;
  if (m->live != NULL) m->live->prev = r;
  m->live = r;
  napi_create_reference(env, argv[0], 1, &r->owner);
  if (napi_create_external(env, r, finalize_relay, NULL, &out) != napi_ok) {
    stop_polling(r);
    drop_owner(r);
    release(r);
    return int32(env, UV_ENOMEM);
  }
  int err = arm(r);
  if (err != 0) {  // a handle still polls a descriptor (UV_EEXIST): nothing was taken over
    stop_polling(r);
    drop_owner(r);
    return int32(env, err);
  }
  napi_type_tag_object(env, out, &RELAY_TAG);
  return out;
}

static relay_t *relay_arg(napi_env env, napi_callback_info info, napi_value *rest) {
  size_t argc = 2;
  napi_value argv[2];
  void *data = NULL;
  bool tagged = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  if (napi_check_object_type_tag(env, argv[0], &RELAY_TAG, &tagged) != napi_ok || !tagged) return NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok) return NULL;
  if (rest != NULL) *rest = argc > 1 ? argv[1] : NULL;
  return (relay_t *)data;
}

static napi_value Stop(napi_env env, napi_callback_info info) {
  relay_t *r = relay_arg(env, info, NULL);
  if (r != NULL) {
    stop_polling(r);
    drop_owner(r);
  }
  return NULL;
}

static napi_value Info(napi_env env, napi_callback_info info) {
  napi_value out = NULL;
  relay_t *r = relay_arg(env, info, &out);
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (r == NULL || out == NULL) return NULL;
  if (napi_get_typedarray_info(env, out, &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || length < 4)
    return NULL;
  double *o = (double *)data;
  uint64_t now = uv_now(r->m->loop);
  o[0] = r->flow[0].bytes;
  o[1] = r->flow[1].bytes;
  o[2] = (double)(now - r->last[0]);
  o[3] = (double)(now - r->last[1]);
  return NULL;
}

// the environment ends: JavaScript hears nothing more, every relay stops polling, and the hook stays until the
// last close callback ran (the instance data's finalizer frees the module after)
static void teardown(napi_async_cleanup_hook_handle handle, void *arg) {
  module_t *m = (module_t *)arg;
  if (m->report != NULL) {
    napi_delete_reference(m->env, m->report);
    m->report = NULL;
  }
  while (m->live != NULL) stop_polling(m->live);
  if (m->closing == 0)
    napi_remove_async_cleanup_hook(handle);
  else
    m->hook = handle;
}

static void finalize_module(napi_env env, void *data, void *hint) {
  (void)hint;
  module_t *m = (module_t *)data;
  if (m->report != NULL) napi_delete_reference(env, m->report);
  if (m->ctx != NULL) napi_async_destroy(env, m->ctx);
  free(m->scratch);
  free(m);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  module_t *m = calloc(1, sizeof *m);
  if (m == NULL) return NULL;
  m->scratch = malloc(SCRATCH);
  if (m->scratch == NULL || napi_get_uv_event_loop(env, &m->loop) != napi_ok) {
    free(m->scratch);
    free(m);
    return NULL;
  }
  m->env = env;
  napi_set_instance_data(env, m, finalize_module, NULL);
  napi_add_async_cleanup_hook(env, teardown, m, NULL);
  napi_create_function(env, "init", NAPI_AUTO_LENGTH, Init, NULL, &fn);
  napi_set_named_property(env, exports, "init", fn);
  napi_create_function(env, "start", NAPI_AUTO_LENGTH, Start, NULL, &fn);
  napi_set_named_property(env, exports, "start", fn);
  napi_create_function(env, "stop", NAPI_AUTO_LENGTH, Stop, NULL, &fn);
  napi_set_named_property(env, exports, "stop", fn);
  napi_create_function(env, "info", NAPI_AUTO_LENGTH, Info, NULL, &fn);
  napi_set_named_property(env, exports, "info", fn);
  batch_register(env, exports, m->loop);
  return exports;
}
