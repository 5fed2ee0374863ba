/*
 * forward.h — what the forwarder and the cache share with the workers.
 *
 * A name outside the table's zones (and an address outside the cluster's
 * reverse zones) is answered from the cache, or sent to the upstreams of
 * the longest stub domain it lies under, else to the default upstreams.
 * Each worker forwards its own queries on its own loop; the cache is one
 * for all workers, read without locks (see cache.c).
 */
#ifndef KUBEDNS_FORWARD_H
#define KUBEDNS_FORWARD_H

#include "dp_internal.h"

#include <sys/socket.h>

/* OpenSSL's context (SSL_CTX), kept by the routes to TLS upstreams. */
struct ssl_ctx_st;

/* Upstream addresses a server has known over its life (each keeps its
 * counters and health across configurations). */
#define DP_MAX_UPSTREAM_SLOTS 64
#define DP_MAX_ROUTES 64

/* Consecutive failures that set an upstream aside, and how often one set
 * aside is probed. */
#define DP_UPSTREAM_FAILURES_DOWN 3
#define DP_UPSTREAM_PROBE_MS 1000
/* How often the loop probes are sent again (a forwarder may be pointed
 * at us later, or be starting when a configuration is taken). */
#define DP_LOOP_PROBE_MS 10000

/* Names under this one are loop probes: never forwarded (see forward.c). */
#define DP_LOOP_PROBE_DOMAIN                                                                       \
    "\x0d"                                                                                         \
    "kube-dns-loop"                                                                                \
    "\x05"                                                                                         \
    "check"

/* An upstream address, its health and whether it sends our queries back. */
typedef struct dp_upstream_slot {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char text[64]; /* ip:port, for stats and logs */
    _Atomic unsigned failures;
    _Atomic bool down;
    _Atomic bool looped;
    _Atomic uint64_t last_probe_ms;
} dp_upstream_slot;

typedef struct dp_route {
    uint8_t domain[DP_MAX_NAME]; /* lower-case wire; the root for the default route */
    uint8_t domain_len;
    uint8_t labels;
    dp_upstream_order order; /* which upstream a query tries first */
    bool force_tcp;          /* every query over TCP */
    bool cached;             /* answers kept in, and taken from, the cache */
    unsigned max_fails;      /* failures in a row that set an upstream aside; 0: never */
    uint32_t cache_max_ttl;  /* its block's cache caps, under the server's (0: not cached) */
    uint32_t cache_max_negative_ttl;
    unsigned upstream_count;
    struct sockaddr_storage addr[DP_MAX_ROUTE_UPSTREAMS];
    socklen_t addr_len[DP_MAX_ROUTE_UPSTREAMS];
    bool tls[DP_MAX_ROUTE_UPSTREAMS];      /* asked over TLS (tls://) */
    unsigned slot[DP_MAX_ROUTE_UPSTREAMS]; /* set when the server takes the configuration */
    /* Its TLS upstreams' settings (tls_upstream.c): NULL without them. */
    struct ssl_ctx_st *tls_ctx;
    char tls_name[256]; /* the name their certificates carry; empty: their address */
    uint32_t tls_expire_ms;
} dp_route;

struct dp_forwarding {
    atomic_uint refs; /* the server's, each worker's, each query's in flight */
    dp_route routes[DP_MAX_ROUTES];
    unsigned route_count;
    unsigned last_route;         /* the one upstreams are added to */
    uint32_t timeout_ms;         /* from the client's query to SERVFAIL */
    uint32_t attempt_timeout_ms; /* one upstream's turn */
    uint8_t nonce[17];           /* the loop probes' label: 16 hex digits */
    dp_stages *stages;           /* server blocks with rules (stages.h), or NULL */
};

/* An IPv4 or IPv6 literal and a port as a socket address; -1 when it is neither. */
int dp_parse_address(const char *address, uint16_t port, struct sockaddr_storage *ss,
                     socklen_t *len);

void dp_forwarding_retain(dp_forwarding *f);
void dp_forwarding_release(dp_forwarding *f);

/* ---- DNS over TLS (tls_upstream.c) ------------------------------------ */

/* Idle TLS connections kept per worker and upstream, at most. */
#define DP_TLS_IDLE_MAX 4

typedef struct dp_tls_conn dp_tls_conn;
typedef struct dp_pending dp_pending;
struct dp_worker;
struct evbuffer;

/* Sends `query` to the route's TLS upstream of `slot` for `owner`, over an
 * idle connection of the same settings or a new one; NULL when none can
 * be made. The reply comes to dp_forward_stream_reply, a failure to
 * dp_forward_tls_failed (forward.c). */
dp_tls_conn *dp_tls_send(struct dp_worker *w, const dp_route *route, unsigned slot,
                         dp_pending *owner, const uint8_t *query, size_t len);
/* Closes a connection (a query's, given up on, or an idle one). */
void dp_tls_conn_free(dp_tls_conn *c);
/* Closes the worker's idle connections past their expiry (`all`: every one). */
void dp_tls_expire(struct dp_worker *w, uint64_t now_ms, bool all);
void dp_route_free_tls(dp_route *r);

void dp_forward_detach_tls(dp_pending *p);
/* Takes a whole length-prefixed message (RFC 1035 §4.2.2) from `in` into
 * `out` (DP_TCP_MAX_MESSAGE bytes), its length into `len`; false while
 * it has not all come. */
bool dp_take_stream_message(struct evbuffer *in, uint8_t *out, size_t *len);
/* A whole reply read from a connection (TCP or TLS), for its query. */
void dp_forward_stream_reply(dp_pending *p, const uint8_t *wire, size_t len);
void dp_forward_tls_failed(dp_pending *p);

/* The route of a name: the longest domain it lies under, or NULL. */
const dp_route *dp_forwarding_route(const dp_forwarding *f, const dp_query *q);

/* ---- Replies from upstreams ----------------------------------------- */

/* What a reply from an upstream says, once checked against the query. */
typedef struct dp_upstream_reply {
    uint8_t rcode;
    bool truncated;
    bool cacheable;
    uint32_t ttl; /* how long it may be cached */
} dp_upstream_reply;

/*
 * Checks an upstream's reply to the question `q` with ID `id`: returns
 * false when it is not that reply (RFC 5452 §9.1: ID, question; the
 * address is the connected socket's). `max_ttl` and `max_negative_ttl`
 * cap what it may be cached for.
 */
bool dp_upstream_reply_check(const uint8_t *wire, size_t len, uint16_t id, const dp_query *q,
                             uint32_t max_ttl, uint32_t max_negative_ttl, dp_upstream_reply *out);

/*
 * Where a checked reply's RRs are: the place of each TTL but OPT's
 * (`ttl_offsets` has room for one per 11 bytes of the message, the
 * smallest RR), the additional section's start, and how many additional
 * RRs precede the OPT record. Returns the length of the message without
 * OPT (and what follows it), or 0 when it is malformed.
 */
typedef struct dp_reply_layout {
    uint16_t *ttl_offsets;
    size_t ttl_count;
    size_t len_without_additional;
    size_t ttls_without_additional;
    unsigned arcount;
} dp_reply_layout;

size_t dp_upstream_reply_layout(const uint8_t *wire, size_t len, size_t question_end,
                                dp_reply_layout *out);

/* Writes the query we send upstream for `q`: ID `id`, RD, the client's
 * question (its case kept), an OPT of our size with the client's DO bit. */
size_t dp_upstream_query(const dp_query *q, uint16_t id, uint8_t *out, size_t cap);

/* ---- ExternalName targets outside the cluster (chase.c) -------------- */

/* The target of the CNAME that ends the answer section of our `reply`
 * (lower-case wire, into `target`); its length, or 0. */
size_t dp_chase_target(const uint8_t *reply, size_t len, size_t question_end, uint8_t *target);

/* The table's reply followed by the upstream's records for the target;
 * `ttl` lowered to the least TTL in it. A malloc'd message, or NULL. */
uint8_t *dp_chase_compose(const uint8_t *table_reply, size_t table_len, const uint8_t *upstream,
                          size_t upstream_len, size_t *out_len, uint32_t *ttl);

/* ---- The cache -------------------------------------------------------- */

/*
 * An upstream's reply as kept: the message without its OPT record, with
 * the place and value of every RR's TTL, so a reply made from it counts
 * the TTLs down (RFC 1035 §6.1.2: a cached RR's TTL is what is left).
 */
typedef struct dp_cache_entry dp_cache_entry;

typedef struct dp_cache dp_cache;

dp_cache *dp_cache_new(unsigned capacity, unsigned readers);
void dp_cache_free(dp_cache *c);

/* How an entry's replies give TTLs: with DP_CACHE_CAP_TTLS, each RR's at
 * most the entry's `ttl_cap` (a denial's at most its lifetime, RFC 2308
 * §5), so that what a cache keeps no longer is not what clients keep
 * longer; with DP_CACHE_KEEP_TTL, not counted down (CoreDNS's keepttl). */
enum { DP_CACHE_CAP_TTLS = 1, DP_CACHE_KEEP_TTL = 2 };

/* Makes an entry from a checked upstream reply; NULL without memory.
 * `ttl` is its lifetime from now; `flags` of DP_CACHE_... */
dp_cache_entry *dp_cache_entry_make(const uint8_t *wire, size_t len, const dp_query *q,
                                    uint32_t ttl, uint64_t now_ms, unsigned flags,
                                    uint32_t ttl_cap);
void dp_cache_entry_free(dp_cache_entry *e);

/* Reader `reader` (a worker) looks up the question of `q`: a live entry,
 * or with `stale_ms` > 0 one expired no longer ago than that. The entry is
 * valid until the reader's next dp_cache_quiescent(). */
const dp_cache_entry *dp_cache_lookup(dp_cache *c, const dp_query *q, uint64_t now_ms,
                                      uint64_t stale_ms);

/* Takes the entry in (replacing the question's previous one), evicting
 * the least recently used when full. Any thread. */
void dp_cache_insert(dp_cache *c, dp_cache_entry *e);

/* Drops every entry (the upstreams changed). Any thread. */
void dp_cache_clear(dp_cache *c);

/* Reader `reader` holds no entry now (see cache.c). */
void dp_cache_quiescent(dp_cache *c, unsigned reader);
/* Reader `reader` stops reading for good (its thread ends). */
void dp_cache_offline(dp_cache *c, unsigned reader);
/* Entries and evictions so far: positive answers [0], denials [1]. */
void dp_cache_counts(dp_cache *c, uint64_t entries[2], uint64_t evictions[2]);

/* Whether the entry has expired at `now_ms`. */
bool dp_cache_entry_expired(const dp_cache_entry *e, uint64_t now_ms);
/* Whether it is NXDOMAIN or NODATA (RFC 2308). */
bool dp_cache_entry_denial(const dp_cache_entry *e);
/* A hit at `now_ms`: counts it (hits with no gap longer than `gap_ms`
 * between them) and says whether to ask again now, once: asked for at
 * least `amount` times and less than `percent` of its lifetime (or a
 * second) left. */
bool dp_cache_entry_popular(const dp_cache_entry *e, uint64_t now_ms, unsigned amount,
                            uint64_t gap_ms, unsigned percent);

/*
 * Writes the reply to `q` from an entry: the client's ID, RD and
 * question, TTLs counted down (a stale entry's RRs get `stale_ttl`,
 * RFC 8767 §4), OPT when the client sent one, made to fit the transport.
 */
size_t dp_cache_entry_reply(const dp_cache_entry *e, const dp_query *q, uint64_t now_ms,
                            uint32_t stale_ttl, uint8_t *out, size_t cap, int transport);

#endif
