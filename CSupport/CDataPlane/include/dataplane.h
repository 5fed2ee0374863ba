/*
 * dataplane.h — the C data plane of kube-dns, the one header Swift sees.
 *
 * Contract.
 *
 * Threads. dp_server_start() starts `threads` worker threads. Each runs its
 * own libevent loop over its own SO_REUSEPORT UDP socket (drained in batches
 * with recvmmsg/sendmmsg) and its own SO_REUSEPORT TCP listener. Workers
 * never call out of C. Every other function is for one control thread at a
 * time per server (the Swift control plane); dp_query_answer() is pure and
 * may be called from any thread.
 *
 * Tables. A dp_table is an immutable answer table: precomputed wire answers
 * per (name, qtype), written (with name compression) when the table is
 * built, plus the zones the table is authoritative for. Workers read the
 * current table without locks: each worker announces the table it reads
 * in a hazard slot for the length of one batch. dp_server_publish() swaps
 * the table in, waits until no worker still announces the old one (at
 * most one batch per worker), and frees it.
 *
 * Ownership. Functions taking (pointer, length) copy what they keep.
 * dp_table_builder_finish() consumes the builder. dp_server_publish() takes
 * ownership of the table. dp_server_free() frees the server and its table.
 *
 * Names are in DNS wire format (length-prefixed labels, ending with the root
 * label), lower-case. Resource records are uncompressed wire RRs (owner, type,
 * class, TTL, RDLENGTH, RDATA), concatenated section by section.
 *
 * Return values. Functions returning int give 0 on success and -1 on
 * failure, with a one-line reason written to `err` (NUL-terminated,
 * truncated to `errlen`) when `err` is not NULL.
 */
#ifndef KUBEDNS_DATAPLANE_H
#define KUBEDNS_DATAPLANE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The largest UDP payload we send and advertise in OPT (DNS Flag Day 2020). */
#define DP_EDNS_UDP_SIZE 1232

typedef struct dp_table dp_table;
typedef struct dp_table_builder dp_table_builder;
typedef struct dp_server dp_server;

/* ---- Building a table ------------------------------------------------- */

dp_table_builder *dp_table_builder_new(void);

/*
 * Adds a zone. `soa_rr` is the zone's SOA as one uncompressed wire RR; it
 * goes into the authority section of NXDOMAIN answers (RFC 2308 §3).
 * A query under an `authoritative` zone whose name is not in the table gets
 * NXDOMAIN; under a non-authoritative zone (in-addr.arpa, ip6.arpa: only the
 * cluster's addresses are ours) it is not ours and gets REFUSED. A zone
 * given DP_ZONE_INTERNAL answers no query, its names included: the data
 * plane reads them (autopath's clients' index), and a query under it is
 * not ours. One internal zone at most.
 */
#define DP_ZONE_INTERNAL 2
int dp_table_builder_add_zone(dp_table_builder *b, const uint8_t *apex, size_t apex_len,
                              int authoritative, const uint8_t *soa_rr, size_t soa_len, char *err,
                              size_t errlen);

/*
 * Synthesises A/AAAA for `<a-b-c-d>.<ns>.<suffix>` from the first label
 * (kube-dns "pods insecure"), when `<ns>.<suffix>` is in the table. The
 * suffix must lie in a zone added before.
 */
int dp_table_builder_add_pod_synthesis(dp_table_builder *b, const uint8_t *suffix,
                                       size_t suffix_len, uint32_t ttl, char *err, size_t errlen);

/*
 * Adds the answer for (`qname`, `qtype`). `qtype` 0 is the name's answer for
 * every type without an answer of its own (a CNAME); every name needs one,
 * given here or by dp_table_builder_add_name (the caller decides which
 * names exist). ANY (255) is not given here: see
 * dp_table_builder_answer_any_as. The RRs are `ancount` answer, `nscount`
 * authority and `arcount` additional RRs, in that order. The name must lie
 * in a zone added before.
 */
int dp_table_builder_add_answer(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                uint16_t qtype, uint8_t rcode, const uint8_t *rrs, size_t rrs_len,
                                uint16_t ancount, uint16_t nscount, uint16_t arcount, char *err,
                                size_t errlen);

/*
 * Makes `qname` exist with NODATA (NOERROR, its zone's SOA in authority) as
 * its default answer: what most names have, without a reply of their own.
 */
int dp_table_builder_add_name(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                              char *err, size_t errlen);

/*
 * ANY queries for `qname` get its answer for `qtype` (RFC 8482 §4.1: one
 * RRset of the name), given to the name before the table is finished;
 * without this call, its default answer.
 */
int dp_table_builder_answer_any_as(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                   uint16_t qtype, char *err, size_t errlen);

/*
 * Adds `qname`, a PTR name, holding one PTR record per target
 * (uncompressed wire names one after another in `targets`, each once)
 * with `ttl`, and nothing else: its answer to PTR and ANY is those
 * records in that order, and every other type gets NODATA: what
 * add_answer, add_name and answer_any_as make of those records. The
 * table keeps the targets, not a reply, and writes the reply per query;
 * targets beyond what a TCP reply holds are not kept. The name can have
 * no other answer.
 */
int dp_table_builder_add_ptr_records(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                     const uint8_t *targets, size_t targets_len, uint32_t ttl,
                                     char *err, size_t errlen);

/*
 * Adds `qname` holding `count` A or AAAA records (`type`), whose
 * addresses (4 or 16 bytes each) are one after another at `addresses`,
 * with `ttl`, and nothing else: its answer to that type and ANY is those
 * records, and every other type gets NODATA, as for PTR records above.
 * A reply starts at an address chosen by the query's ID and goes round,
 * as an answer of several addresses given to add_answer does; addresses
 * beyond what a TCP reply holds are not kept.
 */
int dp_table_builder_add_address_records(dp_table_builder *b, const uint8_t *qname,
                                         size_t qname_len, uint16_t type, const uint8_t *addresses,
                                         size_t count, uint32_t ttl, char *err, size_t errlen);

/*
 * Marks the table as not yet loaded: every query under its zones gets
 * SERVFAIL (never NXDOMAIN) until a loaded table is published.
 */
void dp_table_builder_mark_unsynced(dp_table_builder *b);

/*
 * A builder for the table that follows `base` with some names changed:
 * each name given an answer here replaces the base's name (give all its
 * answers again), each name removed here is dropped, and every other name
 * keeps the base's answers. Zones, pod synthesis and the unsynced mark
 * are not inherited: give them again. The work is proportional to the
 * names given and the shards they fall in, not to the table, except when
 * the names have grown or shrunk so far that the base's shards would be
 * too full or too empty: the table is then laid out in new shards, as a
 * new table is (a constant amortized per name). The new table borrows its
 * other shards from the base: publish it in the base's place
 * (dp_server_publish() hands them over; any other publication of it
 * aborts), or free it while the base lives. Not concurrently with a
 * dp_server_publish() that frees `base`.
 */
dp_table_builder *dp_table_builder_new_delta(const dp_table *base);

/* In a delta: `qname` is no longer in the table. */
int dp_table_builder_remove_name(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                 char *err, size_t errlen);

/* Consumes the builder; returns the table, or NULL with a reason. */
dp_table *dp_table_builder_finish(dp_table_builder *b, char *err, size_t errlen);

/*
 * Consumes `count` builders (1 to DP_MAX_BUILDERS) of one new table,
 * filled at once on as many threads, each given the zones, with no name
 * in two of them; lays out the table's shards on as many threads. Returns
 * the table, or NULL with a reason (a name in two builders is one).
 */
#define DP_MAX_BUILDERS 16
dp_table *dp_table_builders_finish(dp_table_builder **builders, size_t count, char *err,
                                   size_t errlen);

/* Frees a builder that was not finished. */
void dp_table_builder_free(dp_table_builder *b);

/* Frees a table that was never published. */
void dp_table_free(dp_table *t);

/* Number of names (including empty non-terminals) and answers in a table. */
size_t dp_table_name_count(const dp_table *t);
size_t dp_table_answer_count(const dp_table *t);

/* Bytes the table's names, answers and hash slots take (shared shards included). */
size_t dp_table_bytes(const dp_table *t);

/* ---- Answering -------------------------------------------------------- */

/* Transport of a query: it decides the size limit and truncation. */
enum { DP_UDP = 0, DP_TCP = 1 };

/* What made a reply (the `plugin` of CoreDNS's responses metric): none
 * (a malformed query, a name of no route), the answer table, the hosts
 * table, the cache, an upstream (or the forwarder giving up), a template. */
enum {
    DP_SOURCE_NONE = 0,
    DP_SOURCE_TABLE,
    DP_SOURCE_HOSTS,
    DP_SOURCE_CACHE,
    DP_SOURCE_FORWARD,
    DP_SOURCE_TEMPLATE,
    DP_REPLY_SOURCES
};

/*
 * Answers one query from `table` into `out` (at least 65535 bytes for TCP,
 * DP_EDNS_UDP_SIZE for UDP, or the answer is truncated to fit). Returns the
 * length of the reply, or 0 when the query gets no reply (it is a response,
 * or shorter than a DNS header). Never allocates for well-formed queries of
 * the usual shape (one question, at most an OPT record besides).
 */
size_t dp_query_answer(const dp_table *table, const uint8_t *query, size_t query_len, uint8_t *out,
                       size_t out_cap, int transport);

/* ---- Serving ---------------------------------------------------------- */

typedef struct dp_server_config {
    const char *address;             /* IPv4 or IPv6 literal to bind; several: comma-separated */
    uint16_t port;                   /* UDP and TCP */
    unsigned threads;                /* worker threads, at least 1 */
    unsigned tcp_max_connections;    /* across all workers */
    unsigned tcp_idle_timeout_ms;    /* RFC 7766 §6.2.3 */
    unsigned forward_max_concurrent; /* forwarded queries in flight, across all workers */
    unsigned cache_size;             /* forwarded answers kept, at most */
    uint32_t cache_max_ttl;          /* seconds an answer is kept, at most */
    uint32_t cache_max_negative_ttl; /* seconds NXDOMAIN/NODATA is kept, at most */
    uint32_t serve_stale_s;          /* how long past expiry an answer may be served
                                        when every upstream fails (RFC 8767); 0: never */
    uint8_t over_cap_rcode;          /* the reply beyond forward_max_concurrent; 0: SERVFAIL */
    bool cache_keep_ttl;             /* cached answers keep the upstream's TTLs */
    bool cache_ttls_within_lifetime; /* cached RRs' TTLs at most the answer's (CoreDNS's
                                        cache), else at most cache_max_ttl (dnsmasq's) */
    /* Prefetch (CoreDNS's cache prefetch): an entry asked for at least
     * prefetch_amount times, with no gap of prefetch_gap_s, is asked again
     * once its time left falls under prefetch_percent of its TTL (or
     * under a second); prefetch_amount 0: never. */
    unsigned prefetch_amount;
    uint32_t prefetch_gap_s;
    unsigned prefetch_percent;
    /* Response rate limiting of UDP replies per source prefix (rrl.c);
     * rrl_responses_per_second 0: off. Every rrl_slip'th reply over the
     * limit goes out truncated (0: none). */
    unsigned rrl_responses_per_second;
    unsigned rrl_slip;
    unsigned rrl_ipv4_prefix;
    unsigned rrl_ipv6_prefix;
} dp_server_config;

/*
 * Creates the server and binds every socket (so the port is taken when this
 * returns 0), serving `initial` (ownership taken, also on failure).
 */
dp_server *dp_server_new(const dp_server_config *config, dp_table *initial, char *err,
                         size_t errlen);

/* The port the sockets are bound to (the kernel's choice when configured as 0). */
uint16_t dp_server_port(const dp_server *s);

/* Starts the worker threads. */
int dp_server_start(dp_server *s, char *err, size_t errlen);

/*
 * Liveness: each worker's loop writes the time on a timer every 100 ms.
 * Returns the first worker whose loop has not turned for `deadline_ms`
 * (its silence in `age_ms`), or -1 when every loop turns. Any thread.
 */
int dp_server_stalled_worker(const dp_server *s, uint64_t deadline_ms, uint64_t *age_ms);

/* Test hook: blocks one worker's loop for `ms`, as a wedged loop would be. */
void dp_server_block_worker_for_test(dp_server *s, unsigned worker, uint64_t ms);

/* The table workers answer from now, to build a delta from; valid until
 * the next dp_server_publish() (which the caller does not run meanwhile). */
const dp_table *dp_server_table(const dp_server *s);

/*
 * Sets how malloc keeps the process's memory; call before threads start.
 * - Four arenas: glibc gives threads that contend an arena of their own (up
 *   to eight per core), and the control plane's threads then leave what
 *   they free spread over heaps that malloc_trim cannot give back: after a
 *   100,000-service sync RSS was 180 or 219 MiB from run to run (before the
 *   threshold below was fixed). With two, which threads share one depends
 *   on the order they first allocate, and once the API client had a thread
 *   of its own the whole table's two builder threads could share one:
 *   the table of a 100,000-service sync took 1.17-1.75 s (median 1.49)
 *   where four arenas gave 1.20-1.40 s (median 1.31), RSS 121 MiB either
 *   way. The workers allocate nothing per packet, so they do not contend.
 * - Blocks of 128 KiB and more mapped on their own, always: glibc raises
 *   that threshold to the size of the first such block freed, up to 32 MiB,
 *   and from then on list pages, decoding buffers and builder blocks that
 *   live for a moment fill the heap among the record store's long-lived
 *   objects, which pins the space they leave. After the same sync, malloc
 *   held 145-178 MB for 104 MB in use and RSS was 120-135 MiB from run to
 *   run; with the threshold fixed it held 105 MB and RSS was 120 MiB.
 */
void dp_tune_malloc(void);

/* Replaces the table workers answer from; see "Tables" above. A delta
 * must be built on the table it replaces (dp_table_builder_new_delta). */
void dp_server_publish(dp_server *s, dp_table *table);

/*
 * Replaces the hosts table (ownership taken; NULL: none): names from hosts
 * files, asked only for a name the table leaves to forwarding (outside its
 * zones, or a miss in a zone that falls through). A name it has is
 * answered from it; a miss in one of its authoritative zones is NXDOMAIN;
 * any other name goes on to forwarding. A whole table, never a delta.
 */
void dp_server_publish_hosts(dp_server *s, dp_table *table);

/* ---- Query log (CoreDNS's log plugin) -------------------------------- */

/*
 * One answered query, as the log plugin writes it. Each worker keeps the
 * queries it answers in a ring of its own, with no system call; the
 * control thread reads the rings and writes the lines. A full ring drops
 * the line and counts it (query_log_dropped).
 */
typedef struct dp_query_log_entry {
    uint8_t address[16]; /* the client's: 4 bytes for IPv4 */
    uint8_t family;      /* 4 or 6 */
    uint8_t transport;   /* DP_UDP, DP_TCP */
    uint16_t port;
    uint16_t id, qtype, qclass;
    uint16_t request_size, reply_size;
    uint16_t edns_size; /* 0: no EDNS */
    bool edns_do;
    uint8_t rcode;
    uint8_t reply_flags[2]; /* bytes 2 and 3 of the reply's header */
    uint16_t answer_count;  /* the reply's ANCOUNT */
    uint8_t source;         /* what made the reply: DP_SOURCE_... */
    uint64_t duration_us;
    uint64_t answered_us; /* when, by dp_monotonic_us(): the workers' rings merge in this order */
    uint8_t name_len;
    uint8_t name[255]; /* the question's name in wire form, as asked */
} dp_query_log_entry;

/* What goes into the query log (none by default; any thread): every
 * answered query, or (CoreDNS's errors plugin) only those answered
 * SERVFAIL, each with what made the reply. */
enum { DP_LOG_QUERIES = 1, DP_LOG_ERRORS = 2 };
void dp_server_set_query_log(dp_server *s, unsigned mode);
/* Takes up to `max` logged queries, oldest first, worker by worker
 * (one control thread at a time); returns how many. */
size_t dp_server_read_query_log(dp_server *s, dp_query_log_entry *out, size_t max);

/* Stops the workers and joins them; the sockets are closed. Idempotent. */
void dp_server_stop(dp_server *s);

/* Stops the server if needed and frees it with its table. */
void dp_server_free(dp_server *s);

/* ---- Forwarding ------------------------------------------------------ */

/*
 * Where names that are not ours go (names outside the table's zones, and
 * addresses outside its reverse zones). A configuration is a list of
 * domains, each with its upstreams: a name goes to the longest domain it
 * lies under (the root domain is the default), and only to its upstreams.
 * Without one, such names get REFUSED.
 */
typedef struct dp_forwarding dp_forwarding;

/* `timeout_ms`: from the query to SERVFAIL; `attempt_timeout_ms`: one upstream's turn. */
dp_forwarding *dp_forwarding_new(uint32_t timeout_ms, uint32_t attempt_timeout_ms);
/* Upstreams of one route at most: CoreDNS's forward takes 15. */
#define DP_MAX_ROUTE_UPSTREAMS 15
/* Adds a domain (wire format, lower-case); upstreams added next are its own. */
int dp_forwarding_add_route(dp_forwarding *f, const uint8_t *domain, size_t len, char *err,
                            size_t errlen);
int dp_forwarding_add_upstream(dp_forwarding *f, const char *address, uint16_t port, char *err,
                               size_t errlen);
/* An upstream asked over TLS (RFC 7858; see dp_forwarding_set_route_tls). */
int dp_forwarding_add_upstream_tls(dp_forwarding *f, const char *address, uint16_t port, char *err,
                                   size_t errlen);
/*
 * The TLS settings of the last domain's TLS upstreams: the name their
 * certificates must carry (NULL: their address), the CA file that signs
 * them (NULL: the system's), a client certificate and key (NULL: none),
 * and how long a connection idle is kept for the next query.
 */
int dp_forwarding_set_route_tls(dp_forwarding *f, const char *server_name, const char *ca_file,
                                const char *cert_file, const char *key_file, uint32_t expire_ms,
                                char *err, size_t errlen);

/* Which of a domain's upstreams a query tries first; the others follow in turn. */
typedef enum dp_upstream_order {
    DP_ORDER_SEQUENTIAL,  /* the first listed (kube-dns, CoreDNS `policy sequential`) */
    DP_ORDER_ROUND_ROBIN, /* each in turn, per worker */
    DP_ORDER_RANDOM,      /* any (CoreDNS's default) */
} dp_upstream_order;

/*
 * How the last domain added forwards: the order of its upstreams, TCP for
 * every query (`force_tcp`), whether its answers are cached, and the
 * failures in a row that set one of its upstreams aside (0: never). The
 * defaults: sequential, UDP first, cached, 3.
 */
int dp_forwarding_set_route_options(dp_forwarding *f, dp_upstream_order order, bool force_tcp,
                                    bool cached, unsigned max_fails, char *err, size_t errlen);

/*
 * The longest the last domain added keeps answers in the cache, and
 * denials (NXDOMAIN, NODATA), below the server's caps: CoreDNS keeps a
 * cache per server block, and NodeLocal DNSCache's caches the cluster's
 * denials 5 s while its other blocks keep them 30 s. 0: not cached
 * (`disable denial`); UINT32_MAX, the default: the server's cap.
 */
int dp_forwarding_set_route_cache_ttls(dp_forwarding *f, uint32_t max_ttl,
                                       uint32_t max_negative_ttl, char *err, size_t errlen);
void dp_forwarding_free(dp_forwarding *f);

/* ---- Rewriting (CoreDNS's rewrite plugin) ---------------------------- */

/*
 * A configuration's server blocks, for the rules that run before any
 * answer: a query goes to the block of the longest zone it lies under (as
 * CoreDNS sends it to one server block), and that block's rules apply to
 * it. Without blocks nothing is rewritten, at no cost per query. Zones
 * added next are the last block's, as are the rules.
 */
int dp_forwarding_add_block(dp_forwarding *f, char *err, size_t errlen);
int dp_forwarding_add_block_zone(dp_forwarding *f, const uint8_t *zone, size_t len, char *err,
                                 size_t errlen);

typedef enum {
    DP_REWRITE_NAME,
    DP_REWRITE_TYPE,
    DP_REWRITE_CLASS,
    DP_REWRITE_TTL
} dp_rewrite_field;

/* How a rule matches the question's name, in text form (lower case,
 * ending with a dot, as CoreDNS matches it). REGEX: a POSIX extended
 * regular expression, unanchored. */
typedef enum {
    DP_MATCH_EXACT,
    DP_MATCH_PREFIX,
    DP_MATCH_SUFFIX,
    DP_MATCH_SUBSTRING,
    DP_MATCH_REGEX,
} dp_match_kind;

typedef struct dp_rewrite_spec {
    dp_rewrite_field field;
    bool stop;           /* no rule after this one applies when it matches */
    dp_match_kind match; /* NAME, TTL */
    const char *from;    /* NAME, TTL: the name, prefix, suffix, substring or pattern */
    const char *to;      /* NAME: the replacement; with REGEX, {N} is the Nth group */
    bool answer_auto;    /* NAME: the reply's names mapped back to the client's */
    uint16_t from_code;  /* TYPE, CLASS: the question's, rewritten to to_code */
    uint16_t to_code;
    uint32_t ttl_min; /* TTL: the reply's TTLs raised to min, lowered to max */
    uint32_t ttl_max;
} dp_rewrite_spec;

/* Adds a rule to the last block, after those added before. */
int dp_forwarding_add_rewrite(dp_forwarding *f, const dp_rewrite_spec *spec, char *err,
                              size_t errlen);
/* `answer name FROM TO` of the last NAME rule: a reply's owner names
 * that match the pattern FROM become TO ({N}: its Nth group). */
int dp_forwarding_add_rewrite_answer(dp_forwarding *f, const char *from, const char *to, char *err,
                                     size_t errlen);

/* ---- Autopath (CoreDNS's autopath plugin) ---------------------------- */

/*
 * Walks the search path for the last block's queries: with `index_apex`
 * (`@kubernetes`), the client pod's `<ns>.svc.<zone> svc.<zone> <zone>`
 * (the cluster's `cluster_zone`) from the table's internal zone of that
 * apex (DP_ZONE_INTERNAL: each pod address, dashed, TXT its namespace),
 * then the search domains added; with NULL, only the search
 * domains added. Then the name itself.
 */
int dp_forwarding_set_autopath(dp_forwarding *f, const uint8_t *index_apex, size_t len,
                               const uint8_t *cluster_zone, size_t zone_len, char *err,
                               size_t errlen);
/* A zone whose queries the last block's autopath walks. */
int dp_forwarding_add_autopath_zone(dp_forwarding *f, const uint8_t *zone, size_t len, char *err,
                                    size_t errlen);
/* A search domain of the last block's autopath, in order; after the
 * pod's own three, at most DP_MAX_AUTOPATH_SEARCH. */
#define DP_MAX_AUTOPATH_SEARCH 8
int dp_forwarding_add_autopath_search(dp_forwarding *f, const uint8_t *domain, size_t len,
                                      char *err, size_t errlen);

/* ---- Templates (CoreDNS's template plugin) --------------------------- */

/*
 * Adds a template to the last block, after its rewrite rules and the
 * templates added before: the class and type it answers (255: any), its
 * RCODE, and whether names of its zones that no pattern matches go on
 * (`fallthrough`; to the zones added with `fallthrough` set, or all when
 * none is) rather than get SERVFAIL.
 */
int dp_forwarding_add_template(dp_forwarding *f, uint16_t qclass, uint16_t qtype, uint8_t rcode,
                               bool falls, char *err, size_t errlen);
/* A zone the last template answers in, or (`fallthrough`) one it falls through in. */
int dp_forwarding_add_template_zone(dp_forwarding *f, const uint8_t *zone, size_t len,
                                    bool fallthrough, char *err, size_t errlen);
/* A pattern of the last template (POSIX extended, unanchored); `named`
 * gives, for each of the template's group names, its group here (-1: none). */
int dp_forwarding_add_template_match(dp_forwarding *f, const char *pattern, const int8_t *named,
                                     size_t names, char *err, size_t errlen);

/* The sections of a reply, in the message's order. */
typedef enum {
    DP_TEMPLATE_ANSWER,
    DP_TEMPLATE_AUTHORITY,
    DP_TEMPLATE_ADDITIONAL,
} dp_template_section;

/* A record of the last template, in zone-file form with its fields as
 * markers: byte 1, then N (the name), T (type), C (class), Z (zone), R
 * (the client's address), '0'+N (group N), or g then '0'+N (the template's
 * Nth group name). */
int dp_forwarding_add_template_record(dp_forwarding *f, dp_template_section section,
                                      const char *marked, char *err, size_t errlen);

/*
 * Replaces the forwarding configuration (ownership taken, also on
 * failure; NULL: forward nothing). The cache is emptied, and each
 * upstream is probed for a loop (see dp_upstream_stats.looped). Queries in
 * flight finish with the configuration they started with.
 */
int dp_server_set_forwarding(dp_server *s, dp_forwarding *f, char *err, size_t errlen);

/* Query types counted apart (dp_stats_qtype; the last bucket is every
 * other type), reply-size buckets (bytes, at most dp_stats_size_bound;
 * one more for larger) and duration buckets (microseconds, at most
 * dp_stats_duration_bound_us; one more for longer). A duration runs from
 * the receipt of the batch a query came in (or of a TCP message) to its
 * reply: for a forwarded query, the upstream's time included. */
#define DP_QTYPE_BUCKETS 12
#define DP_SIZE_BUCKETS 14
#define DP_DURATION_BUCKETS 16

/* An upstream address the server has forwarded to, and how it went. */
typedef struct dp_upstream_stats {
    char address[64]; /* ip:port */
    uint64_t queries;
    uint64_t replies;
    uint64_t timeouts;
    uint64_t errors;          /* refused, unreachable, malformed */
    uint64_t tcp_retries;     /* truncated over UDP, asked again over TCP */
    uint64_t mismatched;      /* replies dropped: wrong ID or question */
    uint64_t health_failures; /* probes of it while set aside that failed */
    /* Its replies by RCODE, by how long they took from the query sent
     * (buckets as for requests, dp_stats_duration_bound_us). */
    uint64_t duration_bucket[16][DP_DURATION_BUCKETS + 1];
    uint64_t duration_sum_us[16];
    int down;   /* set aside after failures, probed until it answers */
    int looped; /* sends our own queries back to us: never used */
} dp_upstream_stats;

unsigned dp_server_upstream_count(const dp_server *s);
void dp_server_upstream_stats(const dp_server *s, unsigned index, dp_upstream_stats *out);

uint16_t dp_stats_qtype(unsigned bucket); /* 0 for the last: "other" */
uint32_t dp_stats_size_bound(unsigned bucket);
uint64_t dp_stats_duration_bound_us(unsigned bucket);

/*
 * The data plane's counters, defined here once: each worker counts them
 * (dp_counters in server.h), dp_server_stats sums them into dp_stats, and
 * the Swift side reads and exports them from this list through
 * dp_counter_describe, so a counter added here reaches /metrics with no
 * other change. X(field, metric, server_label, help): the metric's name
 * under /metrics ("" for none), whether it carries the `server` label (1)
 * or none (0), and its help text.
 */
#define DP_COUNTERS(X)                                                                             \
    X(udp_queries, "", 0, "Queries received over UDP.")                                            \
    X(tcp_queries, "", 0, "Queries received over TCP.")                                            \
    X(dropped, "kube_dns_dns_dropped_total", 1, "Queries given no reply: responses, runts.")       \
    X(truncated, "kube_dns_dns_truncated_total", 1, "UDP replies sent with TC.")                   \
    X(send_failed, "kube_dns_udp_send_failures_total", 1,                                          \
      "UDP replies the kernel would not take.")                                                    \
    X(tcp_connections, "kube_dns_tcp_connections_total", 1, "TCP connections accepted.")           \
    X(tcp_refused, "kube_dns_tcp_refused_total", 1,                                                \
      "TCP connections closed at once, over the cap, every open one busy.")                        \
    X(tcp_evicted, "kube_dns_tcp_evicted_total", 1,                                                \
      "TCP connections closed to make room: idle or incomplete the longest.")                      \
    X(tcp_message_timeouts, "kube_dns_tcp_message_timeouts_total", 1,                              \
      "TCP connections closed: a message not whole in time after its first byte.")                 \
    X(tcp_accept_pauses, "kube_dns_tcp_accept_pauses_total", 1,                                    \
      "Pauses of accepting TCP connections: no file descriptor left.")                             \
    X(forwarded, "", 0, "Queries sent upstream (cache misses that found room).")                   \
    X(do_requests, "", 0, "Queries with the DO bit.")                                              \
    X(cache_hits, "", 0, "Forwarded names answered from the cache: positive answers.")             \
    X(cache_denial_hits, "", 0, "Forwarded names answered from the cache: NXDOMAIN, NODATA.")      \
    X(cache_misses, "", 0, "Forwarded names not in the cache.")                                    \
    X(prefetches, "", 0, "Cached answers asked again before they expire.")                         \
    X(forward_over_cap, "coredns_forward_max_concurrent_rejects_total", 0,                         \
      "Queries refused at once: too many forwarded ones in flight.")                               \
    X(forward_all_down, "coredns_forward_healthcheck_broken_total", 0,                             \
      "Queries whose upstreams were all set aside after failures.")                                \
    X(forward_failed, "kube_dns_forward_failed_total", 0,                                          \
      "Forwarded queries given SERVFAIL: every upstream failed.")                                  \
    X(stale_served, "", 0, "Expired answers served while every upstream failed.")                  \
    X(loops_refused, "kube_dns_forward_loops_refused_total", 0,                                    \
      "Loop probes that came back to us.")                                                         \
    X(rrl_dropped, "kube_dns_rrl_dropped_total", 1,                                                \
      "UDP replies not sent: their source prefix was over the rate limit.")                        \
    X(rrl_slipped, "kube_dns_rrl_slipped_total", 1,                                                \
      "UDP replies over the rate limit sent truncated (TC) instead.")                              \
    X(query_log_dropped, "kube_dns_query_log_dropped_total", 0,                                    \
      "Query log lines lost: the log was not read in time.")                                       \
    X(template_matches, "coredns_template_matches_total", 1, "Queries a template answered.")       \
    X(template_failures, "coredns_template_rr_failures_total", 1,                                  \
      "Template records that were no valid record once filled in.")                                \
    X(autopath_success, "coredns_autopath_success_total", 1,                                       \
      "Queries answered for a name of the client's search path that exists.")                      \
    X(forward_tls_connections, "kube_dns_forward_tls_connections_total", 0,                        \
      "Connections opened to TLS upstreams.")                                                      \
    X(forward_tls_reused, "kube_dns_forward_tls_reused_total", 0,                                  \
      "Queries to TLS upstreams sent over a connection kept open.")

/* Counters summed over workers at the time of the call: the list's, then
 * the arrays and histograms. */
typedef struct dp_stats {
#define DP_STATS_FIELD(field, metric, server_label, help) uint64_t field;
    DP_COUNTERS(DP_STATS_FIELD)
#undef DP_STATS_FIELD
    uint64_t rcode[DP_REPLY_SOURCES][16]; /* replies by source, then the header's 4-bit RCODE */
    /* Requests by transport (DP_UDP, DP_TCP), the client's address
     * family (IPv4, IPv6), then type. */
    uint64_t requests[2][2][DP_QTYPE_BUCKETS];
    /* Sizes of requests and of replies, by transport. */
    uint64_t request_size_bucket[2][DP_SIZE_BUCKETS + 1];
    uint64_t request_size_sum[2];
    uint64_t size_bucket[2][DP_SIZE_BUCKETS + 1];
    uint64_t size_sum[2];
    uint64_t duration_bucket[DP_DURATION_BUCKETS + 1];
    uint64_t duration_sum_us;
    /* The cache's entries and evictions: positive answers, denials. */
    uint64_t cache_entries[2];
    uint64_t cache_evictions[2];
} dp_stats;

/* One counter of DP_COUNTERS, and where dp_stats keeps it. */
typedef struct dp_counter_info {
    const char *field;
    const char *metric;
    int server_label;
    const char *help;
    size_t offset; /* of its uint64_t in dp_stats */
} dp_counter_info;

/* The counters of DP_COUNTERS, in its order: index 0 to dp_counter_count() - 1. */
unsigned dp_counter_count(void);
const dp_counter_info *dp_counter_describe(unsigned index);

void dp_server_stats(const dp_server *s, dp_stats *out);

#ifdef __cplusplus
}
#endif

#endif
