/*
 * server.h — workers and their sockets, shared by server.c, udp.c, tcp.c.
 */
#ifndef KUBEDNS_SERVER_H
#define KUBEDNS_SERVER_H

#include "forward.h"

#include <event2/event.h>
#include <event2/listener.h>
#include <pthread.h>
#include <sys/socket.h>

#define DP_UDP_BATCH 32
/* Receive buffer per datagram: the longest query answered, small enough
 * that a batch's buffers stay few pages (it costs the kernel less). */
#define DP_UDP_RX_SIZE DP_MAX_QUERY_SIZE
#define DP_UDP_CONTROL_SIZE 64

/* One worker's counters (DP_COUNTERS in dataplane.h, then the arrays and
 * histograms of dp_stats). Only the worker writes them (plain loads and
 * stores, relaxed): no shared atomics on the packet path. */
typedef struct dp_counters {
#define DP_COUNTERS_FIELD(field, metric, server_label, help) _Atomic uint64_t field;
    DP_COUNTERS(DP_COUNTERS_FIELD)
#undef DP_COUNTERS_FIELD
    _Atomic uint64_t rcode[DP_REPLY_SOURCES][16];
    _Atomic uint64_t requests[2][2][DP_QTYPE_BUCKETS];
    _Atomic uint64_t request_size_bucket[2][DP_SIZE_BUCKETS + 1];
    _Atomic uint64_t request_size_sum[2];
    _Atomic uint64_t size_bucket[2][DP_SIZE_BUCKETS + 1];
    _Atomic uint64_t size_sum[2];
    _Atomic uint64_t duration_bucket[DP_DURATION_BUCKETS + 1];
    _Atomic uint64_t duration_sum_us;
} dp_counters;

/* stats.c: the bucket of a query type, a reply's size, a duration. */
unsigned dp_qtype_bucket(uint16_t qtype);
unsigned dp_size_bucket(size_t len);
unsigned dp_duration_bucket(uint64_t us);
uint64_t dp_monotonic_us(void);

/* One worker's counts for one upstream address. */
typedef struct dp_upstream_counters {
    _Atomic uint64_t queries;
    _Atomic uint64_t replies;
    _Atomic uint64_t timeouts;
    _Atomic uint64_t errors;
    _Atomic uint64_t tcp_retries;
    _Atomic uint64_t mismatched;
    _Atomic uint64_t health_failures;
    _Atomic uint64_t duration_bucket[16][DP_DURATION_BUCKETS + 1];
    _Atomic uint64_t duration_sum_us[16];
} dp_upstream_counters;

static inline void dp_count_n(_Atomic uint64_t *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline void dp_count(_Atomic uint64_t *c) { dp_count_n(c, 1); }

typedef struct dp_tcp_conn dp_tcp_conn;
typedef struct dp_rrl dp_rrl;
typedef struct dp_pending dp_pending;
typedef struct dp_worker dp_worker;
typedef struct dp_client_cache dp_client_cache;
typedef struct dp_query_log_ring dp_query_log_ring;

/* What a transport keeps of a query the forwarder answers later: where
 * its reply goes. Written and read by that transport's callbacks only. */
#define DP_REPLY_CONTEXT_SIZE 208
typedef struct dp_reply_context {
    _Alignas(16) uint8_t bytes[DP_REPLY_CONTEXT_SIZE];
} dp_reply_context;

/*
 * The client of a forwarded query, as the transport that read it (udp.c,
 * tcp.c) hands it to dp_forward: the forwarder sizes the reply by
 * `transport` (dp_reply_limit) and never sends it itself. When it keeps
 * the query to answer later, it calls `keep` once, with storage of its
 * own that lives until it calls `reply` once with the same storage
 * (`reply` NULL: no reply, the server stops).
 */
typedef struct dp_client {
    int transport;
    const struct sockaddr_storage *peer; /* for the query log */
    size_t reply_cap;                    /* the largest reply the transport sends */
    const void *query_source;            /* the transport's view of the query, for keep */
    void (*keep)(const void *query_source, dp_reply_context *kept);
    void (*reply)(dp_worker *w, dp_reply_context *kept, const uint8_t *reply, size_t len);
} dp_client;

/* Addresses one server serves at once (`bind` with several). */
#define DP_MAX_LISTEN 8

/* A worker's UDP socket on one of the server's addresses. */
typedef struct dp_udp_socket {
    dp_worker *w;
    int fd;
    struct event *event;
    /* Bound to a wildcard address: each reply leaves from the address its
     * query came to (IP_PKTINFO / IPV6_PKTINFO), not the route's choice. */
    bool pktinfo;
} dp_udp_socket;

struct dp_worker {
    struct dp_server *server;
    unsigned index;
    pthread_t thread;
    bool running;
    struct event_base *base;
    struct event *stop_event; /* made active by the control thread to stop the loop */
    /* The loop's heartbeat: a timer that writes the time it ran, read by
     * health checks on other threads (see dp_server_stalled_worker). */
    struct event *heartbeat_event;
    _Atomic uint64_t heartbeat_ms;
    /* Test hook: made active to block the loop for `block_ms`. */
    struct event *block_event;
    _Atomic uint64_t block_ms;
    /* A socket of each kind per address served. */
    unsigned listen_count;
    dp_udp_socket udp[DP_MAX_LISTEN];
    int tcp_fd[DP_MAX_LISTEN];
    struct evconnlistener *listeners[DP_MAX_LISTEN];
    unsigned tcp_open;
    unsigned tcp_cap;
    unsigned rrl_slip_count; /* replies over the rate limit, for slip */
    /* Open TCP connections, the most recently active first (tcp.c). */
    dp_tcp_conn *connections;
    dp_tcp_conn *least_active;
    struct event *accept_resume_event; /* accepting again after EMFILE */
    bool draining;                     /* stopping: no new queries; replies still go out */
    struct event *drain_limit_event;
    uint8_t *tcp_reply; /* 2-byte length + one reply */
    /* the table this worker reads now, or NULL (see dataplane.h, "Tables") */
    _Atomic(dp_table *) hazard;
    _Atomic(dp_table *) hosts_hazard; /* the hosts table read now, or NULL */
    dp_query_log_ring *query_log;     /* made on first use, freed with the server */
    dp_counters counters;
    /* UDP batch buffers */
    struct mmsghdr rx[DP_UDP_BATCH];
    struct mmsghdr tx[DP_UDP_BATCH];
    struct iovec rx_iov[DP_UDP_BATCH];
    struct iovec tx_iov[DP_UDP_BATCH];
    struct sockaddr_storage peers[DP_UDP_BATCH];
    uint8_t *rx_buf; /* DP_UDP_BATCH * DP_UDP_RX_SIZE */
    uint8_t *tx_buf; /* DP_UDP_BATCH * DP_EDNS_UDP_SIZE */
    _Alignas(struct cmsghdr) uint8_t rx_control[DP_UDP_BATCH][DP_UDP_CONTROL_SIZE];
    _Alignas(struct cmsghdr) uint8_t tx_control[DP_UDP_BATCH][DP_UDP_CONTROL_SIZE];
    dp_parsed parsed[DP_UDP_BATCH];
    /* Made on the first batch the rules of a server block run on: the
     * queries of a batch as asked, and a reply mapped back (stages.h). */
    dp_staged *staged;
    uint8_t *rewrite_reply;
    dp_client_cache *clients; /* autopath's recent clients (stages.h) */
    /* Forwarding: the configuration this worker uses (see forward.c),
     * the next one handed over by the control thread, and the queries in
     * flight, from a pool of forward_cap. */
    dp_forwarding *fwd;
    pthread_mutex_t mailbox_lock;
    dp_forwarding *mailbox;
    bool mailbox_full;
    struct event *adopt_event;
    dp_pending *pending;
    dp_pending *free_pending;
    unsigned pending_cap; /* clients' queries in flight, at most */
    unsigned pending_open;
    unsigned pending_slots; /* the pool: pending_cap, and room for probes */
    unsigned pending_made;  /* entries made ready so far, from the first */
    unsigned probes_open;
    unsigned next_upstream; /* DP_ORDER_ROUND_ROBIN's turn */
    uint8_t *upstream_buf;  /* one upstream reply */
    /* Idle connections to TLS upstreams, per slot (tls_upstream.c). */
    dp_tls_conn *tls_idle[DP_MAX_UPSTREAM_SLOTS];
    unsigned tls_idle_count[DP_MAX_UPSTREAM_SLOTS];
    uint64_t next_loop_probe_ms;
    dp_upstream_counters upstream[DP_MAX_UPSTREAM_SLOTS];
};

struct dp_server {
    dp_server_config config;
    _Atomic(dp_table *) table;
    _Atomic(dp_table *) hosts;  /* see dp_server_publish_hosts; NULL: none */
    _Atomic unsigned query_log; /* DP_LOG_...: see dp_server_set_query_log */
    dp_worker *workers;
    unsigned worker_count;
    bool started;
    dp_cache *cache;
    dp_rrl *rrl;               /* NULL: no response rate limiting */
    dp_forwarding *forwarding; /* the control thread's current configuration */
    dp_upstream_slot slots[DP_MAX_UPSTREAM_SLOTS];
    unsigned slot_count;
};

/* The table to read for one batch; pair with dp_worker_release(). */
static inline const dp_table *dp_worker_acquire(dp_worker *w) {
    dp_table *t;
    do {
        t = atomic_load(&w->server->table);
        atomic_store(&w->hazard, t);
    } while (t != atomic_load(&w->server->table));
    return t;
}

static inline void dp_worker_release(dp_worker *w) {
    atomic_store_explicit(&w->hazard, NULL, memory_order_release);
}

/* The reply to a parsed query from table `t`, or from the hosts table
 * when `t` leaves the name to forwarding (p->outside tells whether it is
 * still left to forwarding). */
size_t dp_worker_reply(dp_worker *w, const dp_table *t, dp_parsed *p, uint8_t *out, size_t cap,
                       int transport);

/* Runs the rules of the worker's configuration (rewrite, autopath, template) over
 * the first `n` parsed queries, from `peers`, when it has any (stages.c). */
void dp_worker_stages(dp_worker *w, const dp_table *t, unsigned n,
                      const struct sockaddr_storage *peers);
static inline void dp_worker_run_stages(dp_worker *w, const dp_table *t, unsigned n,
                                        const struct sockaddr_storage *peers) {
    if (w->fwd != NULL && w->fwd->stages != NULL) dp_worker_stages(w, t, n, peers);
}
/* A reply to a rewritten query mapped back to what the client asked;
 * `len` when the query was not rewritten. */
size_t dp_worker_unrewrite(const dp_parsed *p, uint8_t *reply, size_t len, size_t cap,
                           int transport);

/* Logs an answered query when the query log takes it (see query_log.c):
 * every one, or one answered SERVFAIL for the errors plugin. */
void dp_query_log_write(dp_worker *w, const dp_query *q, const struct sockaddr_storage *peer,
                        int transport, const uint8_t *reply, size_t len, uint64_t received_us,
                        uint8_t source);
static inline void dp_query_log(dp_worker *w, const dp_query *q,
                                const struct sockaddr_storage *peer, int transport,
                                const uint8_t *reply, size_t len, uint64_t received_us,
                                uint8_t source) {
    unsigned mode = atomic_load_explicit(&w->server->query_log, memory_order_relaxed);
    if (mode == 0) return;
    if (!(mode & DP_LOG_QUERIES) && (len < 4 || (reply[3] & 0x0F) != DP_RCODE_SERVFAIL)) return;
    dp_query_log_write(w, q, peer, transport, reply, len, received_us, source);
}

/* Counts a query of `len` bytes from `peer` by transport, address family
 * and type (a malformed one as "other"), size, and DO bit. */
static inline void dp_count_request(dp_worker *w, int transport,
                                    const struct sockaddr_storage *peer, size_t len,
                                    const dp_parsed *p) {
    bool ok = p->result == DP_PARSE_OK;
    unsigned bucket = ok ? dp_qtype_bucket(p->query.qtype) : DP_QTYPE_BUCKETS - 1;
    dp_count(&w->counters.requests[transport][peer->ss_family == AF_INET6][bucket]);
    dp_count(&w->counters.request_size_bucket[transport][dp_size_bucket(len)]);
    dp_count_n(&w->counters.request_size_sum[transport], len);
    if (ok && p->query.edns_do) dp_count(&w->counters.do_requests);
}

/* Counts one reply (or its absence) by what made it (DP_SOURCE_...) and
 * RCODE, TC and size; its duration goes to dp_count_durations. Returns
 * whether there is a reply. */
static inline bool dp_count_reply(dp_worker *w, int transport, unsigned source,
                                  const uint8_t *reply, size_t len) {
    if (len == 0) {
        dp_count(&w->counters.dropped);
        return false;
    }
    dp_count(&w->counters.rcode[source][reply[3] & 0x0F]);
    if (reply[2] & 0x02) dp_count(&w->counters.truncated);
    dp_count(&w->counters.size_bucket[transport][dp_size_bucket(len)]);
    dp_count_n(&w->counters.size_sum[transport], len);
    return true;
}

/* `replies` replies that took from `since_us` to `now_us`. */
static inline void dp_count_durations(dp_worker *w, uint64_t replies, uint64_t since_us,
                                      uint64_t now_us) {
    if (replies == 0) return;
    uint64_t us = now_us > since_us ? now_us - since_us : 0;
    dp_count_n(&w->counters.duration_bucket[dp_duration_bucket(us)], replies);
    dp_count_n(&w->counters.duration_sum_us, us * replies);
}

/* Milliseconds on the monotonic clock. */
uint64_t dp_monotonic_ms(void);

/*
 * Forwards a query dp_query_reply() found outside our zones (its REFUSED
 * reply of `len` bytes in `out`), or whose reply there ends with a CNAME
 * to a name outside them (an ExternalName service): answers from the
 * cache (returns the reply's length), or asks upstream (returns 0: the
 * reply goes to `client` later), or keeps the reply in `out` (no
 * forwarding, no upstream for the name, a loop probe: returns `len`).
 */
size_t dp_forward(dp_worker *w, dp_parsed *p, const dp_client *client, uint8_t *out, size_t cap,
                  size_t len, uint64_t received_us);
int dp_forward_attach(dp_worker *w);
/* Hands a configuration to a worker (from the control thread); NULL forwards nothing. */
void dp_forward_hand_over(dp_worker *w, dp_forwarding *f);
void dp_forward_heartbeat(dp_worker *w);
/* Ends every query in flight without replying, and frees the pool. */
void dp_forward_close(dp_worker *w);

int dp_udp_open(dp_worker *w, unsigned at, const struct sockaddr *addr, socklen_t len, char *err,
                size_t errlen);
int dp_udp_attach(dp_worker *w);
void dp_udp_close(dp_worker *w);

int dp_tcp_open(dp_worker *w, unsigned at, const struct sockaddr *addr, socklen_t len, char *err,
                size_t errlen);
int dp_tcp_attach(dp_worker *w);
/* Stopping: closes the listener, reads no more queries, and closes each
 * connection once its replies are written; returns how many are open. */
unsigned dp_tcp_drain(dp_worker *w);
/* Closes connections whose message has been incomplete too long (from the heartbeat). */
void dp_tcp_sweep(dp_worker *w, uint64_t now_ms);
void dp_tcp_close(dp_worker *w);

/* Response rate limiting (rrl.c): NULL when the config turns it off. */
dp_rrl *dp_rrl_new(const dp_server_config *config);
void dp_rrl_free(dp_rrl *r);
/* The reply to send to `peer`: `len` when its prefix is under the limit;
 * else 0 (dropped) or, every slip'th time, the question with TC. */
size_t dp_rrl_apply(dp_worker *w, const struct sockaddr_storage *peer, const dp_parsed *p,
                    uint8_t *reply, size_t len, size_t cap, uint64_t now_s);

#endif
