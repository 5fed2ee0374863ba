/*
 * forward.c — queries for names that are not ours, sent upstream from the
 * worker that received them, on its own loop.
 *
 * Each query in flight has its own UDP socket, connected to the upstream
 * (so the kernel drops datagrams from any other address), on a port the
 * kernel picks at random, with a random ID; a reply counts only with that
 * ID and the question asked (RFC 5452). A truncated reply is asked again
 * over TCP (or every query is, with the route's force_tcp). Each upstream
 * has its turn (attempt timeout), then the next of the route's, starting
 * where the route's order says; when every one has failed, or the query's time is up, the
 * client gets SERVFAIL (or a stale answer, RFC 8767). An upstream failing
 * its route's max_fails times in a row is set aside (tried only when
 * every other one is too) and probed every DP_UPSTREAM_PROBE_MS until it
 * answers. Stub domains never fall back to the default upstreams.
 *
 * Loops: when it takes a configuration, and every DP_LOOP_PROBE_MS after,
 * worker 0 asks each upstream for `<slot>.<nonce>.kube-dns-loop.check.`;
 * such a name coming back to us marks that upstream as a loop, and it is
 * not used again while the configuration lasts.
 */
#include "server.h"
#include "stages.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

/* Seconds a stale answer is given for (RFC 8767 §4 recommends 30). */
#define DP_STALE_TTL 30

struct dp_pending {
    dp_worker *w;
    dp_forwarding *fwd;
    const dp_route *route; /* NULL for a probe */
    unsigned position;     /* the route's upstream tried now */
    unsigned attempts;
    unsigned slot;
    uint64_t deadline_ms;
    uint64_t received_us; /* the client's query, for the duration counted */
    int fd;
    struct event *io;
    struct event *timer;
    struct bufferevent *tcp;
    dp_tls_conn *tls; /* the attempt's TLS connection, while it waits on it */
    uint16_t id;
    uint64_t sent_us; /* the current attempt's query, for the upstream's duration */
    bool busy;
    bool probe;
    bool health_probe; /* a probe of an upstream set aside (not of loops) */
    bool probe_tcp;    /* a probe of a route with force_tcp: TCP, as its queries */
    /* A probe of a TLS upstream goes over TLS, with its route's settings. */
    const dp_route *probe_tls_route;
    bool prefetch;  /* a cached answer asked again, for no client */
    uint8_t source; /* what makes the client's reply (DP_SOURCE_...) */
    dp_query query; /* asked upstream; its wire is `question` */
    uint8_t question[DP_HEADER_SIZE + DP_MAX_NAME + 4];
    /* An ExternalName's target asked for the client: the client's own
     * question, and the table's reply that ends with the CNAME. */
    bool chased;
    dp_query client;
    uint8_t client_question[DP_HEADER_SIZE + DP_MAX_NAME + 4];
    uint8_t table_reply[DP_EDNS_UDP_SIZE];
    size_t table_reply_len;
    /* A rewritten query (stages.h): the block and rules its reply is
     * mapped back by (NULL: none), and the client's question; an
     * autopath's (a CNAME added) and its walk down the search path. */
    const dp_block *rewrite_block;
    uint64_t rewrite_rules;
    bool autopath;
    dp_autopath_walk walk;
    dp_query asked;
    uint8_t asked_question[DP_HEADER_SIZE + DP_MAX_NAME + 4];
    /* The client's transport: its limits, and how the reply goes back. */
    int transport;
    size_t reply_cap;
    void (*reply)(dp_worker *w, dp_reply_context *kept, const uint8_t *reply, size_t len);
    dp_reply_context kept;
    struct sockaddr_storage peer; /* the client's, kept while the query log is on */
    dp_pending *next_free;
};

static void upstream_readable(evutil_socket_t fd, short what, void *arg);
static void attempt_timed_out(evutil_socket_t fd, short what, void *arg);
static void attempt(dp_pending *p);
static bool make_query(dp_query *to, uint8_t *buffer, const uint8_t header[4], const uint8_t *name,
                       size_t name_len, uint16_t qtype);
static void adopt(evutil_socket_t fd, short what, void *arg);

/* The question the client asked (not the target's, for a chase). */
static inline const dp_query *client_query(const dp_pending *p) {
    return p->chased ? &p->client : &p->query;
}

static inline dp_upstream_slot *slot_of(dp_pending *p) { return &p->w->server->slots[p->slot]; }
static inline dp_upstream_counters *counters_of(dp_pending *p) { return &p->w->upstream[p->slot]; }

int dp_forward_attach(dp_worker *w) {
    unsigned cap = w->server->config.forward_max_concurrent / w->server->worker_count;
    w->pending_cap = cap > 0 ? cap : 1;
    /* Probes have room of their own: they never take a client's. */
    w->pending_slots = w->pending_cap + DP_MAX_UPSTREAM_SLOTS;
    /* Entries are made when first needed (take_pending): the pool's pages,
     * about 3 KB an entry, stay untouched until forwarding needs them. */
    w->pending = calloc(w->pending_slots, sizeof(dp_pending));
    w->pending_made = 0;
    w->upstream_buf = malloc(DP_TCP_MAX_MESSAGE);
    w->adopt_event = event_new(w->base, -1, 0, adopt, w);
    if (w->pending == NULL || w->upstream_buf == NULL || w->adopt_event == NULL) return -1;
    /* A configuration given before the start is waiting. */
    event_active(w->adopt_event, EV_READ, 0);
    return 0;
}

/* The next entry of the pool never used, made ready; NULL when the pool is
 * all made or libevent fails. */
static dp_pending *make_pending(dp_worker *w) {
    if (w->pending_made == w->pending_slots) return NULL;
    dp_pending *p = &w->pending[w->pending_made];
    p->w = w;
    p->fd = -1;
    p->io = event_new(w->base, -1, 0, upstream_readable, p);
    p->timer = event_new(w->base, -1, 0, attempt_timed_out, p);
    if (p->io == NULL || p->timer == NULL) {
        if (p->io != NULL) event_free(p->io);
        if (p->timer != NULL) event_free(p->timer);
        p->io = p->timer = NULL;
        return NULL;
    }
    w->pending_made++;
    return p;
}

/* Closes the current attempt's socket or connection. */
static void end_attempt(dp_pending *p) {
    event_del(p->io);
    event_del(p->timer);
    if (p->fd >= 0) close(p->fd);
    p->fd = -1;
    if (p->tcp != NULL) bufferevent_free(p->tcp);
    p->tcp = NULL;
    /* Its reply may still come: the connection is no use to another query. */
    if (p->tls != NULL) dp_tls_conn_free(p->tls);
    p->tls = NULL;
}

static void release(dp_pending *p) {
    end_attempt(p);
    dp_forwarding_release(p->fwd);
    p->fwd = NULL;
    p->reply = NULL;
    p->busy = false;
    if (p->probe)
        p->w->probes_open--;
    else
        p->w->pending_open--;
    p->next_free = p->w->free_pending;
    p->w->free_pending = p;
}

/* Whether a client waits for this query's reply. */
static inline bool has_client(const dp_pending *p) { return !p->probe && !p->prefetch; }

/* The reply goes to the client; `reply` NULL: none (the server stops). */
static void give_back(dp_pending *p, const uint8_t *reply, size_t len) {
    dp_worker *w = p->w;
    if (has_client(p)) {
        if (reply != NULL && p->rewrite_block != NULL && w->rewrite_reply != NULL) {
            /* Mapped back to what the client asked, in a buffer of its own. */
            memcpy(w->rewrite_reply, reply, len);
            len = dp_rewrite_reply(p->rewrite_block, p->rewrite_rules, p->autopath, &p->asked,
                                   client_query(p), w->rewrite_reply, len, p->reply_cap,
                                   p->transport);
            reply = w->rewrite_reply;
        }
        if (reply != NULL && dp_count_reply(w, p->transport, p->source, reply, len)) {
            dp_count_durations(w, 1, p->received_us, dp_monotonic_us());
            dp_query_log(w, p->rewrite_block != NULL ? &p->asked : client_query(p), &p->peer,
                         p->transport, reply, len, p->received_us, p->source);
        }
        p->reply(w, &p->kept, reply, len);
    }
    release(p);
}

/* Where a reply to the client is written: the upstream's buffer, free
 * once its reply has been checked and kept (or given up on). */
static uint8_t *reply_buffer(dp_pending *p, size_t *cap) {
    *cap = p->reply_cap;
    return p->w->upstream_buf;
}

/* Every upstream failed or the time is up: a stale answer, else SERVFAIL. */
static void give_up(dp_pending *p) {
    dp_worker *w = p->w;
    if (!has_client(p)) {
        release(p);
        return;
    }
    size_t cap;
    uint8_t *out = reply_buffer(p, &cap);
    uint64_t stale_ms = (uint64_t)w->server->config.serve_stale_s * 1000;
    const dp_query *q = client_query(p);
    uint64_t now = dp_monotonic_ms();
    const dp_cache_entry *stale = stale_ms > 0 && p->route->cached
                                      ? dp_cache_lookup(w->server->cache, q, now, stale_ms)
                                      : NULL;
    size_t len;
    if (stale != NULL) {
        dp_count(&w->counters.stale_served);
        p->source = DP_SOURCE_CACHE;
        len = dp_cache_entry_reply(stale, q, now, DP_STALE_TTL, out, cap, p->transport);
    } else {
        dp_count(&w->counters.forward_failed);
        len = dp_reply_question_only(q, DP_RCODE_SERVFAIL, false, false, 0, out, cap);
    }
    give_back(p, out, len);
}

static void upstream_failed(dp_pending *p, bool timeout) {
    dp_upstream_slot *s = slot_of(p);
    dp_count(timeout ? &counters_of(p)->timeouts : &counters_of(p)->errors);
    if (p->health_probe) dp_count(&counters_of(p)->health_failures);
    unsigned max_fails = p->route != NULL ? p->route->max_fails : DP_UPSTREAM_FAILURES_DOWN;
    if (atomic_fetch_add(&s->failures, 1) + 1 >= max_fails && max_fails > 0)
        atomic_store(&s->down, true);
    end_attempt(p);
    if (p->probe) {
        release(p);
        return;
    }
    attempt(p);
}

static void upstream_answered(dp_pending *p) {
    dp_upstream_slot *s = slot_of(p);
    dp_count(&counters_of(p)->replies);
    if (atomic_load_explicit(&s->failures, memory_order_relaxed) != 0)
        atomic_store(&s->failures, 0);
    if (atomic_load_explicit(&s->down, memory_order_relaxed)) atomic_store(&s->down, false);
}

/* The longest an answer (or a denial) from `p`'s upstream may be cached:
 * the server's cap, lowered by the route's. */
static uint32_t cache_cap(const dp_pending *p, bool negative) {
    const dp_server_config *config = &p->w->server->config;
    uint32_t cap = negative ? config->cache_max_negative_ttl : config->cache_max_ttl;
    if (p->route == NULL) return cap;
    uint32_t route = negative ? p->route->cache_max_negative_ttl : p->route->cache_max_ttl;
    return route < cap ? route : cap;
}

/* The most an answer's RRs may say they live, cached for `ttl`: CoreDNS
 * gives every RR what is left of the entry, dnsmasq each its own up to
 * its maximum. */
static inline uint32_t ttl_cap(const dp_server_config *config, uint32_t ttl) {
    return config->cache_ttls_within_lifetime ? ttl : config->cache_max_ttl;
}

/* An autopath's next name, asked when the upstream said NXDOMAIN for
 * one: true when there was one and it is on its way. */
static bool walk_on(dp_pending *p, const dp_upstream_reply *reply) {
    if (!p->walk.left || reply->rcode != DP_RCODE_NXDOMAIN || p->chased) return false;
    uint8_t name[DP_MAX_NAME];
    size_t len = dp_autopath_walk_next(&p->walk, name);
    if (len == 0) return false;
    bool edns_do = p->query.edns_do;
    if (!make_query(&p->query, p->question, p->asked.wire, name, len, p->query.qtype)) return false;
    p->query.edns_do = edns_do;
    const dp_route *route = dp_forwarding_route(p->fwd, &p->query);
    if (route == NULL) return false;
    p->route = route;
    p->attempts = 0;
    end_attempt(p);
    attempt(p);
    return true;
}

/* A reply's cache entry: into the shared cache when it may be kept, else freed. */
static void settle(dp_worker *w, dp_cache_entry *e, bool keep) {
    if (keep)
        dp_cache_insert(w->server->cache, e);
    else
        dp_cache_entry_free(e);
}

/* A checked reply: cached when it may be, and given to the client. */
static void complete(dp_pending *p, const uint8_t *wire, size_t len,
                     const dp_upstream_reply *reply) {
    dp_worker *w = p->w;
    upstream_answered(p);
    if (p->probe) {
        release(p);
        return;
    }
    uint64_t now = dp_monotonic_ms();
    const dp_query *q = client_query(p);
    uint32_t ttl = reply->ttl;
    const dp_server_config *config = &w->server->config;
    bool cached = reply->cacheable && p->route->cached;
    unsigned flags =
        (cached ? DP_CACHE_CAP_TTLS : 0) | (config->cache_keep_ttl ? DP_CACHE_KEEP_TTL : 0);
    dp_cache_entry *e;
    if (p->chased) {
        size_t composed_len;
        uint8_t *composed =
            dp_chase_compose(p->table_reply, p->table_reply_len, wire, len, &composed_len, &ttl);
        e = composed ? dp_cache_entry_make(composed, composed_len, q, ttl, now, flags,
                                           ttl_cap(config, ttl))
                     : NULL;
        free(composed);
    } else {
        e = dp_cache_entry_make(wire, len, q, ttl, now, flags, ttl_cap(config, ttl));
    }
    bool keep = e != NULL && cached && ttl > 0;
    if (p->prefetch) {
        settle(w, e, keep);
        release(p);
        return;
    }
    if (walk_on(p, reply)) {
        settle(w, e, keep);
        return;
    }
    if (p->autopath && reply->rcode != DP_RCODE_NXDOMAIN) dp_count(&w->counters.autopath_success);
    size_t cap;
    uint8_t *out = reply_buffer(p, &cap);
    size_t reply_len;
    if (e == NULL) {
        reply_len = dp_reply_question_only(q, DP_RCODE_SERVFAIL, false, false, 0, out, cap);
    } else {
        reply_len = dp_cache_entry_reply(e, q, now, 0, out, cap, p->transport);
        settle(w, e, keep);
    }
    give_back(p, out, reply_len);
}

/* What a reply that passed the checks leads to. */
static void handle_reply(dp_pending *p, const uint8_t *wire, size_t len,
                         const dp_upstream_reply *reply);

static void tcp_readable(struct bufferevent *bev, void *arg) {
    dp_pending *p = arg;
    size_t len;
    if (dp_take_stream_message(bufferevent_get_input(bev), p->w->upstream_buf, &len))
        dp_forward_stream_reply(p, p->w->upstream_buf, len);
}

bool dp_take_stream_message(struct evbuffer *in, uint8_t *out, size_t *len) {
    uint8_t prefix[2];
    if (evbuffer_copyout(in, prefix, 2) != 2) return false;
    *len = (size_t)dp_read16(prefix);
    if (evbuffer_get_length(in) < 2 + *len) return false;
    evbuffer_drain(in, 2);
    evbuffer_remove(in, out, *len);
    return true;
}

static void tcp_event(struct bufferevent *bev, short what, void *arg) {
    (void)bev;
    if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) upstream_failed(arg, false);
}

void dp_forward_detach_tls(dp_pending *p) { p->tls = NULL; }

void dp_forward_tls_failed(dp_pending *p) { upstream_failed(p, false); }

/* A reply over a connection (TCP, TLS): checked, then handled; one cut
 * short is a failure of the upstream, as the connection had it whole. */
void dp_forward_stream_reply(dp_pending *p, const uint8_t *wire, size_t len) {
    dp_upstream_reply reply;
    if (!dp_upstream_reply_check(wire, len, p->id, &p->query, cache_cap(p, false),
                                 cache_cap(p, true), &reply) ||
        reply.truncated) {
        dp_count(&counters_of(p)->mismatched);
        upstream_failed(p, false);
        return;
    }
    handle_reply(p, wire, len, &reply);
}

/* The route whose TLS settings the current attempt uses, or NULL when
 * its upstream is not asked over TLS. */
static const dp_route *tls_route(const dp_pending *p) {
    if (p->probe) return p->probe_tls_route;
    return p->route->tls[p->position] ? p->route : NULL;
}

/* Connects to the current slot's upstream over TCP and sends the query. */
static bool send_over_tcp(dp_pending *p) {
    uint8_t query[2 + DP_HEADER_SIZE + DP_MAX_NAME + 4 + DP_OPT_RR_SIZE];
    size_t len = dp_upstream_query(&p->query, p->id, query + 2, sizeof(query) - 2);
    query[0] = (uint8_t)(len >> 8);
    query[1] = (uint8_t)len;
    dp_upstream_slot *s = slot_of(p);
    p->tcp = bufferevent_socket_new(p->w->base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (p->tcp == NULL ||
        bufferevent_socket_connect(p->tcp, (struct sockaddr *)&s->addr, (int)s->addr_len) != 0)
        return false;
    bufferevent_setcb(p->tcp, tcp_readable, NULL, tcp_event, p);
    bufferevent_write(p->tcp, query, 2 + len);
    bufferevent_enable(p->tcp, EV_READ);
    return true;
}

/* RFC 7766 §5: a truncated reply is asked again over TCP, of the same upstream. */
static void retry_over_tcp(dp_pending *p) {
    dp_count(&counters_of(p)->tcp_retries);
    event_del(p->io);
    close(p->fd);
    p->fd = -1;
    if (!send_over_tcp(p)) upstream_failed(p, false);
}

static void handle_reply(dp_pending *p, const uint8_t *wire, size_t len,
                         const dp_upstream_reply *reply) {
    if (!p->probe) {
        uint64_t now_us = dp_monotonic_us();
        uint64_t us = now_us > p->sent_us ? now_us - p->sent_us : 0;
        dp_upstream_counters *c = counters_of(p);
        dp_count(&c->duration_bucket[reply->rcode & 0x0F][dp_duration_bucket(us)]);
        dp_count_n(&c->duration_sum_us[reply->rcode & 0x0F], us);
    }
    if (reply->truncated) {
        retry_over_tcp(p);
        return;
    }
    /* REFUSED or NOTIMP: this upstream will not answer it; another may. */
    if ((reply->rcode == DP_RCODE_REFUSED || reply->rcode == DP_RCODE_NOTIMP) && has_client(p)) {
        dp_count(&counters_of(p)->errors);
        end_attempt(p);
        attempt(p);
        return;
    }
    complete(p, wire, len, reply);
}

static void upstream_readable(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    dp_pending *p = arg;
    dp_worker *w = p->w;
    for (int reads = 0; reads < 8; reads++) {
        ssize_t n = recv(fd, w->upstream_buf, DP_TCP_MAX_MESSAGE, 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            /* ICMP port unreachable and the like, on the connected socket. */
            upstream_failed(p, false);
            return;
        }
        dp_upstream_reply reply;
        if (!dp_upstream_reply_check(w->upstream_buf, (size_t)n, p->id, &p->query,
                                     cache_cap(p, false), cache_cap(p, true), &reply)) {
            dp_count(&counters_of(p)->mismatched);
            continue;
        }
        handle_reply(p, w->upstream_buf, (size_t)n, &reply);
        return;
    }
}

static void attempt_timed_out(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    upstream_failed(arg, true);
}

/* The next upstream of the route to try: after the current one, the first
 * that is not set aside, else the next that is not a loop. */
static bool choose_upstream(dp_pending *p) {
    const dp_route *r = p->route;
    const dp_upstream_slot *slots = p->w->server->slots;
    unsigned start = p->position;
    if (p->attempts == 0) {
        /* The slot before the one to try first. */
        unsigned first = 0;
        if (r->order == DP_ORDER_ROUND_ROBIN) first = p->w->next_upstream++ % r->upstream_count;
        if (r->order == DP_ORDER_RANDOM) first = arc4random_uniform(r->upstream_count);
        start = first + r->upstream_count - 1;
    }
    int fallback = -1;
    for (unsigned k = 1; k <= r->upstream_count; k++) {
        unsigned i = (start + k) % r->upstream_count;
        const dp_upstream_slot *s = &slots[r->slot[i]];
        if (atomic_load_explicit(&s->looped, memory_order_relaxed)) continue;
        if (!atomic_load_explicit(&s->down, memory_order_relaxed)) {
            p->position = i;
            p->slot = r->slot[i];
            return true;
        }
        if (fallback < 0) fallback = (int)i;
    }
    if (fallback < 0) return false;
    /* CoreDNS's "healthcheck broken": none is healthy, so one set aside is tried. */
    if (p->attempts == 0) dp_count(&p->w->counters.forward_all_down);
    p->position = (unsigned)fallback;
    p->slot = r->slot[fallback];
    return true;
}

/* Sends the query to the upstream of the current slot. */
static bool send_query(dp_pending *p, uint64_t now) {
    dp_worker *w = p->w;
    dp_upstream_slot *s = slot_of(p);
    p->id = (uint16_t)arc4random_uniform(65536);
    const dp_route *tls = tls_route(p);
    if (tls != NULL) {
        uint8_t query[DP_HEADER_SIZE + DP_MAX_NAME + 4 + DP_OPT_RR_SIZE];
        size_t len = dp_upstream_query(&p->query, p->id, query, sizeof(query));
        p->tls = dp_tls_send(w, tls, p->slot, p, query, len);
        if (p->tls == NULL) return false;
    } else if (p->probe_tcp || (p->route != NULL && p->route->force_tcp)) {
        if (!send_over_tcp(p)) return false;
    } else {
        uint8_t query[DP_HEADER_SIZE + DP_MAX_NAME + 4 + DP_OPT_RR_SIZE];
        size_t len = dp_upstream_query(&p->query, p->id, query, sizeof(query));
        int fd = socket(s->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) return false;
        p->fd = fd;
        if (connect(fd, (struct sockaddr *)&s->addr, s->addr_len) != 0 ||
            send(fd, query, len, 0) < 0)
            return false;
        event_assign(p->io, w->base, fd, EV_READ | EV_PERSIST, upstream_readable, p);
        event_add(p->io, NULL);
    }
    dp_count(&counters_of(p)->queries);
    p->sent_us = dp_monotonic_us();
    uint64_t left = p->deadline_ms > now ? p->deadline_ms - now : 0;
    uint64_t turn = p->probe || p->fwd == NULL ? left : p->fwd->attempt_timeout_ms;
    if (turn > left) turn = left;
    struct timeval tv = {(time_t)(turn / 1000), (suseconds_t)(turn % 1000) * 1000};
    event_add(p->timer, &tv);
    return true;
}

static void attempt(dp_pending *p) {
    uint64_t now = dp_monotonic_ms();
    for (;;) {
        if (p->probe) {
            if (p->attempts++ > 0 || now >= p->deadline_ms) {
                release(p);
                return;
            }
        } else {
            /* Each upstream once, and the first again when time is left. */
            if (now >= p->deadline_ms || p->attempts > p->route->upstream_count ||
                !choose_upstream(p)) {
                give_up(p);
                return;
            }
            p->attempts++;
        }
        if (send_query(p, now)) return;
        dp_count(&counters_of(p)->errors);
        end_attempt(p);
    }
}

/* A free query of the pool, for a client (within the cap) or a probe. */
static dp_pending *take_pending(dp_worker *w, bool probe) {
    if (probe ? w->probes_open >= DP_MAX_UPSTREAM_SLOTS : w->pending_open >= w->pending_cap)
        return NULL;
    dp_pending *p = w->free_pending;
    if (p != NULL)
        w->free_pending = p->next_free;
    else
        p = make_pending(w);
    if (p == NULL) return NULL;
    if (probe)
        w->probes_open++;
    else
        w->pending_open++;
    p->busy = true;
    p->attempts = 0;
    p->probe = probe;
    p->health_probe = false;
    p->probe_tcp = false;
    p->probe_tls_route = NULL;
    p->tls = NULL;
    p->prefetch = false;
    p->source = DP_SOURCE_FORWARD;
    p->chased = false;
    p->rewrite_block = NULL;
    p->autopath = false;
    p->walk.left = false;
    p->route = NULL;
    p->reply = NULL;
    p->fwd = NULL;
    return p;
}

/* `q`, header and question, copied into `buffer` (it outlives the
 * client's packet). */
static void copy_query(dp_query *to, uint8_t *buffer, const dp_query *q) {
    memcpy(buffer, q->wire, q->question_end);
    *to = *q;
    to->wire = buffer;
    to->len = q->question_end;
}

/* A query of our own for `name` (wire) and `qtype`, class IN, with the ID
 * and flags of `header`, written into `buffer`. */
static bool make_query(dp_query *to, uint8_t *buffer, const uint8_t header[4], const uint8_t *name,
                       size_t name_len, uint16_t qtype) {
    static const uint8_t one_question[8] = {0, 1};
    memcpy(buffer, header, 4);
    memcpy(buffer + 4, one_question, sizeof(one_question));
    memcpy(buffer + DP_HEADER_SIZE, name, name_len);
    dp_write16(buffer + DP_HEADER_SIZE + name_len, qtype);
    dp_write16(buffer + DP_HEADER_SIZE + name_len + 2, DP_CLASS_IN);
    return dp_query_parse(buffer, DP_HEADER_SIZE + name_len + 4, to) == DP_PARSE_OK;
}

/* `<slot>.<nonce>.kube-dns-loop.check.`: marks the slot as a loop when the
 * nonce is ours. Returns whether the name is under the probe domain. */
static bool is_loop_probe(dp_worker *w, const dp_query *q) {
    static const uint8_t domain[] = DP_LOOP_PROBE_DOMAIN;
    size_t domain_len = sizeof(domain); /* with the root label */
    if (q->name_len < domain_len ||
        memcmp(q->name + q->name_len - domain_len, domain, domain_len) != 0)
        return false;
    if (q->labels == 4 && q->name[q->label_offsets[1]] == 16 &&
        memcmp(q->name + q->label_offsets[1] + 1, w->fwd->nonce, 16) == 0) {
        unsigned slot = (unsigned)strtoul((const char *)q->name + 1, NULL, 10);
        if (q->name[0] <= 2 && slot < w->server->slot_count) {
            atomic_store(&w->server->slots[slot].looped, true);
        }
    }
    dp_count(&w->counters.loops_refused);
    return true;
}

/* The target's question, asked for the client of `q`: a chase. Returns
 * false when the reply cannot be chased (too long, no target). */
static bool keep_chase(dp_pending *p, const dp_query *q, const uint8_t *reply, size_t len) {
    uint8_t target[DP_MAX_NAME];
    size_t target_len = dp_chase_target(reply, len, q->question_end, target);
    if (target_len == 0 || len > sizeof(p->table_reply)) return false;
    copy_query(&p->client, p->client_question, q);
    memcpy(p->table_reply, reply, len);
    p->table_reply_len = len;
    if (!make_query(&p->query, p->question, q->wire, target, target_len, q->qtype)) return false;
    p->query.edns_do = q->edns_do;
    p->chased = true;
    return true;
}

/* Starts asking again for a cached answer about to expire, when the
 * server prefetches and it has been asked for often enough, once per
 * entry (CoreDNS's cache prefetch). */
static void consider_prefetch(dp_worker *w, const dp_cache_entry *hit, const dp_query *q,
                              const dp_route *route, uint64_t now) {
    const dp_server_config *config = &w->server->config;
    if (!dp_cache_entry_popular(hit, now, config->prefetch_amount,
                                (uint64_t)config->prefetch_gap_s * 1000, config->prefetch_percent))
        return;
    dp_pending *p = take_pending(w, false);
    if (p == NULL) return;
    dp_count(&w->counters.prefetches);
    copy_query(&p->query, p->question, q);
    dp_forwarding_retain(w->fwd);
    p->prefetch = true;
    p->fwd = w->fwd;
    p->route = route;
    p->deadline_ms = now + w->fwd->timeout_ms;
    attempt(p);
}

size_t dp_forward(dp_worker *w, dp_parsed *parsed, const dp_client *client, uint8_t *out,
                  size_t cap, size_t len, uint64_t received_us) {
    const dp_query *q = &parsed->query;
    if (w->fwd == NULL || (parsed->outside && is_loop_probe(w, q))) return len;
    /* A name of no route gets REFUSED; a chase's route is its target's. */
    const dp_route *route = parsed->chase ? NULL : dp_forwarding_route(w->fwd, q);
    if (route == NULL && !parsed->chase) return len;
    uint64_t now = dp_monotonic_ms();
    bool cached = parsed->chase || route->cached;
    const dp_cache_entry *hit = cached ? dp_cache_lookup(w->server->cache, q, now, 0) : NULL;
    if (hit != NULL) {
        dp_count(dp_cache_entry_denial(hit) ? &w->counters.cache_denial_hits
                                            : &w->counters.cache_hits);
        parsed->source = DP_SOURCE_CACHE;
        size_t reply = dp_cache_entry_reply(hit, q, now, 0, out, cap, client->transport);
        if (w->server->config.prefetch_amount > 0 && !parsed->chase)
            consider_prefetch(w, hit, q, route, now);
        return reply;
    }
    dp_pending *p = take_pending(w, false);
    if (p == NULL) {
        /* Over the cap: say so at once rather than queue without bound. */
        dp_count(&w->counters.forward_over_cap);
        parsed->source = DP_SOURCE_FORWARD;
        return dp_reply_question_only(q, w->server->config.over_cap_rcode, false, false, 0, out,
                                      cap);
    }
    if (parsed->chase) {
        if (!keep_chase(p, q, out, len)) {
            release(p);
            return len;
        }
    } else {
        copy_query(&p->query, p->question, q);
    }
    bool mapped = parsed->rules != 0 || parsed->autopath;
    p->rewrite_block = mapped ? parsed->block : NULL;
    p->rewrite_rules = parsed->rules;
    p->autopath = parsed->autopath;
    if (mapped) copy_query(&p->asked, p->asked_question, dp_parsed_asked(parsed));
    if (parsed->autopath && parsed->staged->walk.left) p->walk = parsed->staged->walk;
    if (parsed->chase) route = dp_forwarding_route(w->fwd, &p->query);
    if (route == NULL) {
        release(p);
        return len;
    }
    if (cached) dp_count(&w->counters.cache_misses);
    dp_count(&w->counters.forwarded);
    dp_forwarding_retain(w->fwd);
    p->fwd = w->fwd;
    p->route = route;
    p->deadline_ms = now + w->fwd->timeout_ms;
    p->received_us = received_us;
    p->transport = client->transport;
    p->reply_cap = client->reply_cap;
    p->reply = client->reply;
    if (atomic_load_explicit(&w->server->query_log, memory_order_relaxed))
        memcpy(&p->peer, client->peer, sizeof(p->peer));
    client->keep(client->query_source, &p->kept);
    attempt(p);
    return 0;
}

/* A probe to one upstream of `route`: `name` (wire) of type `qtype`, no
 * client; over TCP where the route forces TCP (NodeLocal DNSCache's
 * upstream, which must see no UDP from it). */
static void send_probe(dp_worker *w, const dp_route *route, unsigned slot, const uint8_t *name,
                       size_t name_len, uint16_t qtype) {
    dp_pending *p = take_pending(w, true);
    if (p == NULL) return;
    p->health_probe = qtype == DP_TYPE_NS;
    p->probe_tcp = route->force_tcp;
    for (unsigned i = 0; i < route->upstream_count; i++)
        if (route->slot[i] == slot && route->tls[i]) p->probe_tls_route = route;
    p->slot = slot;
    p->deadline_ms = dp_monotonic_ms() + DP_UPSTREAM_PROBE_MS;
    static const uint8_t header[4] = {0};
    make_query(&p->query, p->question, header, name, name_len, qtype);
    attempt(p);
}

/* Worker 0 asks each upstream of a new configuration for a name only we
 * would answer for, as a forwarder that sends it back to us would. */
static void send_loop_probes(dp_worker *w) {
    const dp_forwarding *f = w->fwd;
    for (unsigned r = 0; r < f->route_count; r++) {
        for (unsigned i = 0; i < f->routes[r].upstream_count; i++) {
            unsigned slot = f->routes[r].slot[i];
            uint8_t name[64];
            int n = snprintf((char *)name + 1, 4, "%u", slot);
            name[0] = (uint8_t)n;
            name[1 + n] = 16;
            memcpy(name + 2 + n, f->nonce, 16);
            static const uint8_t domain[] = DP_LOOP_PROBE_DOMAIN;
            memcpy(name + 18 + n, domain, sizeof(domain));
            send_probe(w, &f->routes[r], slot, name, (size_t)(18 + n) + sizeof(domain), DP_TYPE_A);
        }
    }
}

/* Runs in the worker: takes the configuration the control thread left. */
static void adopt(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    dp_worker *w = arg;
    pthread_mutex_lock(&w->mailbox_lock);
    bool full = w->mailbox_full;
    dp_forwarding *f = w->mailbox;
    w->mailbox = NULL;
    w->mailbox_full = false;
    pthread_mutex_unlock(&w->mailbox_lock);
    if (!full) return;
    dp_forwarding_release(w->fwd);
    w->fwd = f;
    w->next_loop_probe_ms = 0; /* at once */
    dp_forward_heartbeat(w);
}

void dp_forward_hand_over(dp_worker *w, dp_forwarding *f) {
    if (f != NULL) dp_forwarding_retain(f);
    pthread_mutex_lock(&w->mailbox_lock);
    dp_forwarding *unread = w->mailbox;
    w->mailbox = f;
    w->mailbox_full = true;
    pthread_mutex_unlock(&w->mailbox_lock);
    dp_forwarding_release(unread);
    if (w->adopt_event != NULL) event_active(w->adopt_event, EV_READ, 0);
}

void dp_forward_heartbeat(dp_worker *w) {
    uint64_t now = dp_monotonic_ms();
    dp_tls_expire(w, now, false);
    if (w->fwd == NULL) return;
    if (w->index == 0 && now >= w->next_loop_probe_ms) {
        w->next_loop_probe_ms = now + DP_LOOP_PROBE_MS;
        send_loop_probes(w);
    }
    const dp_forwarding *f = w->fwd;
    /* A probe of `. NS`, as CoreDNS's health check asks, from one worker per upstream. */
    static const uint8_t root[] = {0};
    for (unsigned r = 0; r < f->route_count; r++) {
        for (unsigned i = 0; i < f->routes[r].upstream_count; i++) {
            unsigned slot = f->routes[r].slot[i];
            dp_upstream_slot *s = &w->server->slots[slot];
            if (slot % w->server->worker_count != w->index) continue;
            if (!atomic_load_explicit(&s->down, memory_order_relaxed)) continue;
            if (atomic_load_explicit(&s->looped, memory_order_relaxed)) continue;
            uint64_t last = atomic_load_explicit(&s->last_probe_ms, memory_order_relaxed);
            if (now < last + DP_UPSTREAM_PROBE_MS) continue;
            atomic_store_explicit(&s->last_probe_ms, now, memory_order_relaxed);
            send_probe(w, &f->routes[r], slot, root, sizeof(root), DP_TYPE_NS);
        }
    }
}

void dp_forward_close(dp_worker *w) {
    dp_tls_expire(w, 0, true);
    for (unsigned i = 0; w->pending != NULL && i < w->pending_made; i++) {
        dp_pending *p = &w->pending[i];
        if (p->busy) give_back(p, NULL, 0);
        if (p->io != NULL) event_free(p->io);
        if (p->timer != NULL) event_free(p->timer);
    }
    free(w->pending);
    w->pending = NULL;
    w->free_pending = NULL;
    free(w->upstream_buf);
    w->upstream_buf = NULL;
    if (w->adopt_event != NULL) event_free(w->adopt_event);
    w->adopt_event = NULL;
    dp_forwarding_release(w->fwd);
    w->fwd = NULL;
    pthread_mutex_lock(&w->mailbox_lock);
    dp_forwarding_release(w->mailbox);
    w->mailbox = NULL;
    w->mailbox_full = false;
    pthread_mutex_unlock(&w->mailbox_lock);
}
