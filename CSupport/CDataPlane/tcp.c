/*
 * tcp.c — DNS over TCP per RFC 7766: two-byte length framing, pipelined
 * queries answered in order, an idle timeout, a cap on open connections,
 * and no reading while a client leaves its replies unread.
 *
 * Against clients that hold connections (slowloris): a message must be
 * whole within DP_TCP_MESSAGE_MS of its first byte (the idle timer alone
 * restarts on every byte), and a newcomer over the cap closes the
 * connection idle or incomplete the longest, as Knot DNS and Unbound do
 * under pressure, rather than being refused. Connections are kept in
 * order of their last complete message, so that one is the list's tail.
 */
#include "server.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Stop reading a connection whose unread replies pass this. */
#define DP_TCP_OUTPUT_HIGH (256 * 1024)
/* From a message's first byte to the whole message, at most (and no
 * longer than the idle timeout). */
#define DP_TCP_MESSAGE_MS 2000
/* After "too many open files", accepting waits this long. */
#define DP_TCP_ACCEPT_PAUSE_MS 100

struct dp_tcp_conn {
    dp_worker *worker;
    struct bufferevent *bev;   /* NULL once closed */
    dp_tcp_conn *prev;         /* more recently active */
    dp_tcp_conn *next;         /* less recently active */
    unsigned held;             /* forwarded queries whose replies are still to come */
    uint64_t partial_since_ms; /* when the incomplete message began; 0: none */
    struct sockaddr_storage peer;
};

static void unlink_conn(dp_tcp_conn *c) {
    dp_worker *w = c->worker;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->connections = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        w->least_active = c->prev;
    c->prev = c->next = NULL;
}

/* Puts `c` first: the most recently active. */
static void push_front(dp_tcp_conn *c) {
    dp_worker *w = c->worker;
    c->next = w->connections;
    c->prev = NULL;
    if (c->next)
        c->next->prev = c;
    else
        w->least_active = c;
    w->connections = c;
}

int dp_tcp_open(dp_worker *w, unsigned at, const struct sockaddr *addr, socklen_t len, char *err,
                size_t errlen) {
    int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(fd, addr, len) != 0 || listen(fd, 1024) != 0) {
        int saved = errno; /* the caller tells EADDRINUSE apart */
        dp_fail(err, errlen, "cannot bind TCP socket: %s", strerror(saved));
        if (fd >= 0) close(fd);
        errno = saved;
        return -1;
    }
    w->tcp_fd[at] = fd;
    if (w->tcp_reply != NULL) return 0;
    w->tcp_reply = malloc(2 + DP_TCP_MAX_MESSAGE);
    if (w->tcp_reply == NULL) {
        dp_fail(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Closes the connection; the struct stays while forwarded queries hold it. */
static void conn_free(dp_tcp_conn *c) {
    dp_worker *w = c->worker;
    unlink_conn(c);
    bufferevent_free(c->bev);
    c->bev = NULL;
    w->tcp_open--;
    if (c->held == 0) free(c);
    if (w->draining && w->tcp_open == 0) event_base_loopbreak(w->base);
}

/* A connection with nothing left to send or to wait for. */
static bool settled(dp_tcp_conn *c) {
    return c->held == 0 && evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

/* Stopping, with every reply written: our side of the stream ends (FIN
 * after the data), and what the client still sends is read and dropped
 * until it closes: closing with unread queries would reset the connection
 * and lose replies still in the kernel's buffers. */
static void finish(dp_tcp_conn *c) {
    shutdown(bufferevent_getfd(c->bev), SHUT_WR);
    bufferevent_enable(c->bev, EV_READ);
}

static void close_listeners(dp_worker *w) {
    for (unsigned at = 0; at < w->listen_count; at++) {
        if (w->listeners[at] != NULL) evconnlistener_free(w->listeners[at]);
        w->listeners[at] = NULL;
    }
}

unsigned dp_tcp_drain(dp_worker *w) {
    close_listeners(w);
    w->draining = true;
    for (dp_tcp_conn *c = w->connections; c != NULL; c = c->next) {
        bufferevent_disable(c->bev, EV_READ);
        if (settled(c)) finish(c);
    }
    return w->tcp_open;
}

/* A forwarded query's connection is kept (not freed) until its reply is
 * given back, even when the client has gone. */
static void hold(const void *query_source, dp_reply_context *kept) {
    dp_tcp_conn *c = (dp_tcp_conn *)query_source;
    c->held++;
    memcpy(kept->bytes, &c, sizeof(c));
}

/* Sends the reply, unless `reply` is NULL or the client has gone; drops the hold. */
static void reply_held(dp_worker *w, dp_reply_context *kept, const uint8_t *reply, size_t len) {
    (void)w;
    dp_tcp_conn *c;
    memcpy(&c, kept->bytes, sizeof(c));
    c->held--;
    if (c->bev == NULL) {
        if (c->held == 0) free(c);
        return;
    }
    if (reply == NULL) return;
    uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    struct evbuffer *out = bufferevent_get_output(c->bev);
    evbuffer_add(out, prefix, 2);
    evbuffer_add(out, reply, len);
}

/* Answers every complete message in the input, in order (RFC 7766 §6.2.1.1). */
static void conn_readable(struct bufferevent *bev, void *arg) {
    dp_tcp_conn *c = arg;
    dp_worker *w = c->worker;
    struct evbuffer *in = bufferevent_get_input(bev);
    struct evbuffer *out = bufferevent_get_output(bev);
    if (w->draining) {
        evbuffer_drain(in, evbuffer_get_length(in));
        return;
    }
    for (;;) {
        if (evbuffer_get_length(out) > DP_TCP_OUTPUT_HIGH) {
            /* Waiting on the client to read, not on its message. */
            c->partial_since_ms = 0;
            bufferevent_disable(bev, EV_READ);
            return;
        }
        size_t available = evbuffer_get_length(in);
        uint8_t prefix[2];
        size_t len = available >= 2 && evbuffer_copyout(in, prefix, 2) == 2 ? dp_read16(prefix) : 0;
        if (available < 2 + len) {
            if (available == 0)
                c->partial_since_ms = 0;
            else if (c->partial_since_ms == 0)
                c->partial_since_ms = dp_monotonic_ms();
            return;
        }
        /* A whole message: the connection is active, and what follows it
         * is a new message whose time starts now. */
        c->partial_since_ms = 0;
        if (w->connections != c) {
            unlink_conn(c);
            push_front(c);
        }
        const uint8_t *message = evbuffer_pullup(in, (ssize_t)(2 + len));
        if (message == NULL) return;

        dp_count(&w->counters.tcp_queries);
        uint64_t received_us = dp_monotonic_us();
        const dp_table *t = dp_worker_acquire(w);
        dp_parsed *p = &w->parsed[0];
        dp_query_prepare(t, message + 2, len, p);
        dp_worker_run_stages(w, t, 1, &c->peer);
        dp_count_request(w, DP_TCP, &c->peer, len, p);
        dp_query_locate(t, p);
        size_t reply = dp_worker_reply(w, t, p, w->tcp_reply + 2, DP_TCP_MAX_MESSAGE, DP_TCP);
        dp_worker_release(w);
        if (p->outside || p->chase) {
            dp_client client = {.transport = DP_TCP,
                                .peer = &c->peer,
                                .reply_cap = DP_TCP_MAX_MESSAGE,
                                .query_source = c,
                                .keep = hold,
                                .reply = reply_held};
            reply =
                dp_forward(w, p, &client, w->tcp_reply + 2, DP_TCP_MAX_MESSAGE, reply, received_us);
            dp_cache_quiescent(w->server->cache, w->index);
            if (reply == 0) {
                evbuffer_drain(in, 2 + len);
                continue; /* the reply comes later */
            }
        }
        reply = dp_worker_unrewrite(p, w->tcp_reply + 2, reply, DP_TCP_MAX_MESSAGE, DP_TCP);
        /* Logged before the query's bytes are drained: the entry copies its name. */
        if (reply > 0 && p->result == DP_PARSE_OK)
            dp_query_log(w, dp_parsed_asked(p), &c->peer, DP_TCP, w->tcp_reply + 2, reply,
                         received_us, p->source);
        evbuffer_drain(in, 2 + len);
        if (!dp_count_reply(w, DP_TCP, p->source, w->tcp_reply + 2, reply)) continue;
        dp_count_durations(w, 1, received_us, dp_monotonic_us());
        w->tcp_reply[0] = (uint8_t)(reply >> 8);
        w->tcp_reply[1] = (uint8_t)reply;
        evbuffer_add(out, w->tcp_reply, 2 + reply);
    }
}

/* Replies drained: read again, and answer what arrived meanwhile (or,
 * stopping, close once nothing is left). */
static void conn_writable(struct bufferevent *bev, void *arg) {
    dp_tcp_conn *c = arg;
    if (c->worker->draining) {
        if (settled(c)) finish(c);
        return;
    }
    if (!(bufferevent_get_enabled(bev) & EV_READ)) {
        bufferevent_enable(bev, EV_READ);
        conn_readable(bev, arg);
    }
}

/* End of stream, error or idle timeout: close (RFC 7766 §6.2.3). */
static void conn_event(struct bufferevent *bev, short what, void *arg) {
    (void)bev;
    (void)what;
    conn_free(arg);
}

/* Over the cap: closes the connection idle or incomplete the longest
 * that is settled (nothing owed to it, no reply of its waiting to go
 * out); false when every one is busy. */
static bool make_room(dp_worker *w) {
    for (dp_tcp_conn *c = w->least_active; c != NULL; c = c->prev) {
        if (!settled(c)) continue;
        dp_count(&w->counters.tcp_evicted);
        conn_free(c);
        return true;
    }
    return false;
}

void dp_tcp_sweep(dp_worker *w, uint64_t now_ms) {
    if (w->draining) return;
    unsigned idle = w->server->config.tcp_idle_timeout_ms;
    uint64_t limit = idle < DP_TCP_MESSAGE_MS ? idle : DP_TCP_MESSAGE_MS;
    for (dp_tcp_conn *c = w->connections; c != NULL;) {
        dp_tcp_conn *next = c->next;
        if (c->partial_since_ms != 0 && now_ms - c->partial_since_ms > limit) {
            dp_count(&w->counters.tcp_message_timeouts);
            conn_free(c);
        }
        c = next;
    }
}

static void accept_resume(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    dp_worker *w = arg;
    if (w->draining) return;
    for (unsigned at = 0; at < w->listen_count; at++)
        if (w->listeners[at] != NULL) evconnlistener_enable(w->listeners[at]);
}

/* accept() failed. Out of descriptors (EMFILE, ENFILE) or of memory, the
 * pending connection stays queued and the listener readable: retrying at
 * once would spin a core (and libevent would log each failure). Pause
 * accepting a moment instead; connections closing meanwhile free room. */
static void accept_failed(struct evconnlistener *listener, void *arg) {
    (void)listener;
    dp_worker *w = arg;
    int error = EVUTIL_SOCKET_ERROR();
    if (error != EMFILE && error != ENFILE && error != ENOBUFS && error != ENOMEM) return;
    dp_count(&w->counters.tcp_accept_pauses);
    for (unsigned at = 0; at < w->listen_count; at++)
        if (w->listeners[at] != NULL) evconnlistener_disable(w->listeners[at]);
    struct timeval pause = {0, DP_TCP_ACCEPT_PAUSE_MS * 1000};
    event_add(w->accept_resume_event, &pause);
}

static void tcp_accepted(struct evconnlistener *listener, evutil_socket_t fd, struct sockaddr *addr,
                         int addrlen, void *arg) {
    (void)listener;
    dp_worker *w = arg;
    if (w->tcp_open >= w->tcp_cap && !make_room(w)) {
        dp_count(&w->counters.tcp_refused);
        close(fd);
        return;
    }
    dp_tcp_conn *c = calloc(1, sizeof(*c));
    struct bufferevent *bev = c ? bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
    if (bev == NULL) {
        free(c);
        close(fd);
        return;
    }
    dp_count(&w->counters.tcp_connections);
    c->worker = w;
    if ((size_t)addrlen <= sizeof(c->peer)) memcpy(&c->peer, addr, (size_t)addrlen);
    c->bev = bev;
    push_front(c);
    w->tcp_open++;
    unsigned ms = w->server->config.tcp_idle_timeout_ms;
    struct timeval idle = {ms / 1000, (ms % 1000) * 1000};
    bufferevent_set_timeouts(bev, &idle, &idle);
    bufferevent_setcb(bev, conn_readable, conn_writable, conn_event, c);
    bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int dp_tcp_attach(dp_worker *w) {
    w->accept_resume_event = evtimer_new(w->base, accept_resume, w);
    if (w->accept_resume_event == NULL) return -1;
    for (unsigned at = 0; at < w->listen_count; at++) {
        w->listeners[at] =
            evconnlistener_new(w->base, tcp_accepted, w, LEV_OPT_CLOSE_ON_FREE, -1, w->tcp_fd[at]);
        if (w->listeners[at] == NULL) return -1;
        evconnlistener_set_error_cb(w->listeners[at], accept_failed);
        w->tcp_fd[at] = -1; /* owned by the listener now */
    }
    return 0;
}

void dp_tcp_close(dp_worker *w) {
    while (w->connections != NULL) conn_free(w->connections);
    close_listeners(w);
    if (w->accept_resume_event != NULL) event_free(w->accept_resume_event);
    w->accept_resume_event = NULL;
    for (unsigned at = 0; at < w->listen_count; at++) {
        if (w->tcp_fd[at] >= 0) close(w->tcp_fd[at]);
        w->tcp_fd[at] = -1;
    }
    free(w->tcp_reply);
    w->tcp_reply = NULL;
}
