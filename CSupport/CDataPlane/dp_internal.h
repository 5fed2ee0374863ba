/*
 * dp_internal.h — types shared by the data plane's files, not seen by Swift.
 *
 * Who owns what (each file's one job; headers say who may call it):
 *   the wire format   wire_format.c (dp_wire_format.h): integers, names,
 *                     records; every other file reads messages through it
 *   a query           query.c: sanity checks and parse; answer.c: lookup,
 *                     EDNS, TC, pod names; rrset_records.c: one RRset kept
 *                     as rdatas, written per reply
 *   the table         table.c: reading it (shards, lookups); arena.c: its
 *                     memory; table_directory.c: its shard directory
 *   building tables   table_builder.c (dp_table_builder.h): a builder's
 *                     zones, names and answers; reply_fit.c: each reply
 *                     written once (wire.c, dp_wire.h) and fitted to a
 *                     message; table_layout.c: shards, whole or delta
 *   the server        server.c (server.h): workers, loops, publication;
 *                     udp.c, tcp.c: the transports, which hand forwarded
 *                     queries a reply callback (dp_client); stats.c: the
 *                     counters' buckets and descriptors (DP_COUNTERS)
 *   forwarding        forwarding.c (forward.h): routes and upstreams;
 *                     forward.c: queries in flight, failover, health,
 *                     loop probes; upstream_message.c: the query sent and
 *                     the checks of a reply; cache.c: the shared cache;
 *                     chase.c: ExternalName targets outside the cluster
 *   utilities         fail.c: errors (dp_fail); address.c: socket addresses
 */
#ifndef KUBEDNS_DP_INTERNAL_H
#define KUBEDNS_DP_INTERNAL_H

#include "dataplane.h"
#include "dp_wire_format.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#define DP_MAX_ZONES 16
#define DP_MAX_ANSWERS                                                                             \
    252 /* per name: a count and an index + 1 in a byte (dp_record), below DP_RECORD_AAAA */
#define DP_OPT_RR_SIZE 11
/* The longest query answered, over UDP and TCP alike: one rule for both
 * transports (a UDP datagram past it does not fit the receive buffer). A
 * question and an OPT record with a few options take well under it. */
#define DP_MAX_QUERY_SIZE 1536
#define DP_TCP_MAX_MESSAGE 65535

/* Writes a one-line reason to `err` (see dataplane.h, "Return values");
 * returns -1. */
int dp_fail(char *err, size_t errlen, const char *format, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Arena: one table's memory, freed at once ------------------------ */

typedef struct dp_arena_block dp_arena_block;
typedef struct dp_arena {
    dp_arena_block *head;
} dp_arena;

void *dp_arena_alloc(dp_arena *a, size_t size);
void *dp_arena_copy(dp_arena *a, const void *data, size_t size);
void dp_arena_free(dp_arena *a);

/* ---- The table ------------------------------------------------------- */

/* A reply with ID 0 and no OPT record, kept without its question (the
 * name is the record's, and a reply takes the question from the query):
 * `wire` is the 12-byte header, then the sections. With no wire, NODATA
 * from the zone's SOA. Lengths are those of the whole reply. */
typedef struct dp_answer {
    const uint8_t *wire;
    uint16_t len;
    uint16_t len_without_additional; /* the prefix up to the additional section */
    uint16_t qtype;                  /* 0: the name's default answer */
    uint16_t rotate_count;           /* answer RRs served in rotation, or 0 */
} dp_answer;

/* rotate_count of an answer whose last answer RR is a CNAME to a name
 * outside the table's zones (an ExternalName service): with a forwarder,
 * the target is resolved upstream and its records follow the CNAME. */
#define DP_ANSWER_CHASE 0xFFFF

static inline bool dp_answer_rotates(const dp_answer *a) {
    return a->rotate_count >= 2 && a->rotate_count != DP_ANSWER_CHASE;
}

/* Sizes of an A and an AAAA record whose owner is a compression pointer. */
#define DP_ROTATE_A_SIZE 16
#define DP_ROTATE_AAAA_SIZE 28

/*
 * A name's record: its answers, then its lower-case wire name less its
 * zone's apex, which the table keeps once (a cluster's half a million
 * names share `cluster.local` or `in-addr.arpa`). Records lie one after
 * another in their shard's block, so a lookup touches the slot, then one
 * record, then the answer's wire. Most names have NODATA as their default
 * answer, and answer ANY (RFC 8482 §4.1) as one of their types: neither
 * takes an answer of its own.
 */
typedef struct dp_record {
    uint8_t answer_count; /* a default answer (qtype 0) kept is last; none: NODATA */
    uint8_t any_answer;   /* ANY's answer: its index + 1, or 0 for the default */
    uint8_t zone;         /* the table's zone whose apex ends the name */
    uint8_t name_len;     /* of the labels above that apex */
    uint32_t hash;        /* of the whole name */
    dp_answer answers[];
} dp_record;

/* any_answer of a record that keeps one RRset as its rdatas (dp_rrset)
 * rather than as answers: the RRset's type. */
#define DP_RECORD_PTR 0xFF
#define DP_RECORD_A 0xFE
#define DP_RECORD_AAAA 0xFD

/*
 * The one RRset of a name, kept as its rdatas one after another after
 * this header (PTR targets as uncompressed wire names, or addresses), and
 * the reply written per query (answer.c). Most names of a cluster have
 * nothing else: a Service's cluster IP, an endpoint's hostname, the PTR
 * name of each address; a kept reply took 40 bytes more each. The
 * record's name follows the rdatas.
 */
typedef struct dp_rrset {
    uint32_t ttl;
    uint16_t count;
    uint16_t rdata_len;
} dp_rrset;

/* How a dp_rrset keeps a PTR target: its labels, then a 0 when that is
 * the whole name, or this bit with the index of the table's zone whose
 * apex ends the name (not a label length: those are below 64), as a
 * record keeps its own name. Nearly every target ends with the cluster's
 * domain, 15 bytes of `cluster.local`. */
#define DP_TARGET_IN_ZONE 0x40

static inline bool dp_record_has_rrset(const dp_record *r) {
    return r->any_answer >= DP_RECORD_AAAA;
}

static inline const dp_rrset *dp_record_rrset(const dp_record *r) {
    return (const dp_rrset *)r->answers;
}

static inline uint16_t dp_record_rrset_type(const dp_record *r) {
    return r->any_answer == DP_RECORD_PTR ? DP_TYPE_PTR
           : r->any_answer == DP_RECORD_A ? DP_TYPE_A
                                          : DP_TYPE_AAAA;
}

/* The labels of a record's name above its zone's apex. */
static inline const uint8_t *dp_record_name(const dp_record *r) {
    if (dp_record_has_rrset(r)) {
        const dp_rrset *s = dp_record_rrset(r);
        return (const uint8_t *)(s + 1) + s->rdata_len;
    }
    return (const uint8_t *)(r->answers + r->answer_count);
}

/* Bytes of an answer's kept wire: the reply less its question, whose
 * name (the whole name, apex included) is `name_len` bytes. */
static inline size_t dp_answer_wire_size(const dp_answer *a, size_t name_len) {
    return a->len - name_len - 4;
}

/* A record's bytes in its shard: the header, its answers or its RRset
 * (`rrset_len`: the dp_rrset with the rdatas, or 0), its name; then
 * padding, so the next record is aligned. */
static inline size_t dp_record_size(uint8_t answer_count, size_t rrset_len, uint8_t name_len) {
    size_t size = sizeof(dp_record) + answer_count * sizeof(dp_answer) + rrset_len + name_len;
    return (size + 7) & ~(size_t)7;
}

static inline size_t dp_record_bytes(const dp_record *r) {
    size_t rrset_len = 0;
    if (dp_record_has_rrset(r)) rrset_len = sizeof(dp_rrset) + dp_record_rrset(r)->rdata_len;
    return dp_record_size(r->answer_count, rrset_len, r->name_len);
}

/* A hash slot: the name's hash beside the record's offset, so probing
 * compares hashes without touching records. offset 0 marks an empty slot. */
typedef struct dp_slot {
    uint32_t hash;
    uint32_t offset; /* into the shard's records, plus 1 */
} dp_slot;

/*
 * A share of a table's names, chosen by hash: its slots, records and
 * answer wires in one block. A publication that changes a few names
 * builds new shards for them and shares every other shard with the table
 * before it (see dataplane.h, "Tables"). A shard belongs to one table at
 * a time, so sharing touches no shard: a delta borrows its base's shards
 * until it is published, and then they are its own (dp_table_retire).
 */
typedef struct dp_shard {
    uint32_t name_count;
    uint32_t answer_count;
    uint32_t slot_count;
    size_t records_len;
    size_t bytes;     /* the whole block */
    dp_slot *slots;   /* in the block after this header */
    uint8_t *records; /* likewise */
} dp_shard;

/* What a lookup reads of a shard, kept in the table's own array so the
 * hash leads to the slot without touching the shard's header. */
typedef struct dp_shard_view {
    const dp_slot *slots;
    const uint8_t *records;
    uint32_t slot_count;
    uint32_t unused;
} dp_shard_view;

#define DP_NO_INTERNAL_ZONE 0xFF

typedef struct dp_zone {
    uint8_t apex[DP_MAX_NAME];
    uint8_t apex_len;
    uint8_t apex_labels;
    bool authoritative;
    bool internal;         /* DP_ZONE_INTERNAL: no query is answered from it */
    const uint8_t *soa_rr; /* uncompressed, so it fits after any question */
    uint16_t soa_len;
    /* kube-dns "pods insecure": A/AAAA from the first label under pod_suffix */
    bool pod_synthesis;
    uint8_t pod_suffix[DP_MAX_NAME];
    uint8_t pod_suffix_len;
    uint8_t pod_suffix_labels;
    uint32_t pod_ttl;
} dp_zone;

struct dp_table {
    dp_arena arena;              /* zone SOAs */
    dp_zone zones[DP_MAX_ZONES]; /* longest apex first */
    unsigned zone_count;
    uint8_t internal_zone; /* the index of the internal zone, or DP_NO_INTERNAL_ZONE */
    uint64_t serial;       /* unique to the table: what is read of it can be kept by it */
    dp_shard **shards;
    dp_shard_view *views;
    uint32_t shard_count; /* a power of two */
    size_t name_count;
    size_t answer_count;
    size_t bytes; /* of its shards */
    bool unsynced;
    /* A delta not yet published: its base (compared, never read, when
     * the delta replaces it), and 1 per shard the delta made; the other
     * shards are the base's. Both NULL once it owns every shard. */
    const dp_table *base;
    uint8_t *fresh;
};

/* Gives `t` a directory of `shard_count` shards (its `shards` and
 * `views`): a copy of `base`'s, of the same count, or all empty. False
 * when out of memory. */
bool dp_table_directory_new(dp_table *t, uint32_t shard_count, const dp_table *base);
/* Lets go of `t`'s directory, kept for the next dp_table_directory_new. */
void dp_table_directory_free(dp_table *t);

/* The shard of a hash: its high bits, so the low bits pick the slot. */
static inline const dp_shard_view *dp_table_view(const dp_table *t, uint32_t hash) {
    return &t->views[((uint64_t)hash * t->shard_count) >> 32];
}

uint32_t dp_name_hash(const uint8_t *name, size_t len);
/* Whether a record of `t` is that of the whole name `name`. */
bool dp_record_is(const dp_table *t, const dp_record *r, const uint8_t *name, size_t len);
const dp_record *dp_table_find(const dp_table *t, const uint8_t *name, size_t len, uint32_t hash);
const dp_zone *dp_table_zone_of(const dp_table *t, const uint8_t *name, size_t len,
                                const uint8_t *label_offsets, unsigned labels);

/* Where a hash's probe starts in a shard of `slot_count` slots: any count
 * (not only a power of two), so a shard's slots fit its names (at most
 * three quarters full). The shard took the hash's high bits
 * (dp_table_view); these are mixed from all of them. */
static inline uint32_t dp_slot_start(uint32_t slot_count, uint32_t hash) {
    return (uint32_t)(((uint64_t)(hash * 0x9E3779B9u) * slot_count) >> 32);
}

/* The first slot of the shard from `start` on (in probe order; `start`
 * may be the slot count, for the first slot) holding
 * `hash`, or NULL at the end of the probe chain. */
const dp_slot *dp_shard_probe(const dp_shard_view *v, size_t start, uint32_t hash);

static inline void dp_table_prefetch(const dp_table *t, uint32_t hash) {
    const dp_shard_view *v = dp_table_view(t, hash);
    __builtin_prefetch(&v->slots[dp_slot_start(v->slot_count, hash)]);
}

/* The table a builder fills: its zones, for what they end. */
const dp_table *dp_table_builder_table(const dp_table_builder *b);

/* Gives a name one RRset of `type` (PTR, A or AAAA) kept as its rdatas
 * (rrset_records.c checks them): `rrset` and the `rrset->rdata_len`
 * bytes at `rdatas`. */
int dp_table_builder_add_rrset(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                               uint16_t type, const dp_rrset *rrset, const uint8_t *rdatas,
                               char *err, size_t errlen);

/* The first string of a record's TXT answer (into 255 bytes); its
 * length, or 0 when it has none. */
size_t dp_record_text(const dp_record *r, uint8_t *out);

/* Frees `old` now that `next` replaces it: the shards a delta of `old`
 * shares become the delta's. */
void dp_table_retire(dp_table *old, dp_table *next);

/* ---- A parsed query -------------------------------------------------- */

typedef enum {
    DP_PARSE_OK,
    DP_PARSE_DROP,     /* no reply: a response, or shorter than a header */
    DP_PARSE_FORMERR,  /* reply FORMERR with the header only */
    DP_PARSE_NOTIMP,   /* reply NOTIMP with the header only */
    DP_PARSE_SERVFAIL, /* reply SERVFAIL with the question: a rewrite made no name */
} dp_parse_result;

typedef struct dp_query {
    const uint8_t *wire;
    size_t len;
    size_t question_end; /* offset just past QCLASS */
    uint16_t qtype;
    uint16_t qclass;
    uint8_t name[DP_MAX_NAME]; /* lower-case wire */
    uint8_t name_len;
    uint8_t labels;
    uint8_t label_offsets[DP_MAX_LABELS];
    uint32_t hash;
    bool edns;
    uint8_t edns_version;
    bool edns_do;
    uint16_t edns_udp_size;
} dp_query;

dp_parse_result dp_query_parse(const uint8_t *wire, size_t len, dp_query *q);

/* ---- Reply assembly -------------------------------------------------- */

/* The rules that run before any answer (stages.h). */
typedef struct dp_block dp_block;
typedef struct dp_stages dp_stages;
typedef struct dp_staged dp_staged;

/*
 * A query on its way through a batch. A batch is answered in passes, each
 * prefetching what the next one reads, so the table's cache misses of all
 * its queries overlap instead of adding up:
 *   dp_query_prepare   parse; prefetch the hash slot
 *   dp_query_probe     find the slot; prefetch the record it points to
 *   dp_query_locate    find the record and its answer; prefetch the wire
 *   dp_query_reply     write the reply
 * dp_query_answer runs the four on one query.
 */
typedef struct dp_parsed {
    dp_query query;
    dp_parse_result result;
    const dp_answer *answer; /* set by dp_query_locate; NULL: not in the table */
    const dp_record *rrset;  /* set by dp_query_locate: a record's RRset asked for */
    /* set by dp_query_reply: the name is not ours (outside the table's
     * zones, or an address outside the cluster's): REFUSED, unless
     * the server forwards it */
    bool outside;
    /* set by dp_query_reply: the reply ends with a CNAME to a name that is
     * not ours, whose records a forwarder adds */
    bool chase;
    /* what made the reply (DP_SOURCE_...), set by whoever wrote it */
    uint8_t source;
    /* set when the rules of its server block did something (stages.h):
     * where that is kept (the query as asked, a template's records); the
     * block, and the rewrite rules the reply is mapped back by (0: none);
     * whether a template answers it */
    dp_staged *staged;
    const dp_block *block;
    uint64_t rules;
    bool templated;
    bool autopath; /* the question is a name of the client's search path */
} dp_parsed;

/* The query as the client asked it: before any rewrite. */
const dp_query *dp_parsed_asked(const dp_parsed *p);

/* Header and question only, with `rcode` (AA when `authoritative`, TC
 * when `truncated`), and OPT when the query had one. */
size_t dp_reply_question_only(const dp_query *q, uint8_t rcode, bool authoritative, bool truncated,
                              uint8_t extended_rcode, uint8_t *out, size_t cap);
/* The size a reply to `q` may have over `transport`. */
size_t dp_reply_limit(const dp_query *q, size_t cap, int transport);
/* Appends our OPT record to a reply of `len` bytes. */
size_t dp_append_opt(uint8_t *out, size_t len, const dp_query *q, uint8_t extended_rcode);

void dp_query_prepare(const dp_table *t, const uint8_t *wire, size_t len, dp_parsed *p);
void dp_query_probe(const dp_table *t, const dp_parsed *p);
void dp_query_locate(const dp_table *t, dp_parsed *p);
size_t dp_query_reply(const dp_table *t, dp_parsed *p, uint8_t *out, size_t cap, int transport);

#endif
