/*
 * cache.c — forwarded answers, shared by every worker, read without locks.
 *
 * Readers (workers) walk hash chains of immutable entries; writers
 * (a worker whose query came back, the control thread clearing) link and
 * unlink entries under a mutex. An unlinked entry is freed only once
 * every reader has passed a quiescent point after it was unlinked
 * (quiescent-state-based reclamation): a worker is quiescent between two
 * loop callbacks, holding no entry, and says so at the end of each and on
 * its heartbeat. So a hit costs a hash, a chain walk and a copy, with no
 * lock and no shared write (the recency mark is written once per entry
 * between evictions).
 *
 * Eviction is CLOCK (second chance), the usual approximation of least
 * recently used that needs no list update on a hit: the oldest entry is
 * evicted unless it was read since it was last passed over.
 */
#include "forward.h"

#include <ldns/ldns.h>
#include <pthread.h>
#include <stdlib.h>

struct dp_cache_entry {
    dp_cache_entry *_Atomic next; /* hash chain, read by everyone */
    _Atomic bool referenced;      /* read since the clock last passed (apart
                                     from the key, which readers compare) */
    dp_cache_entry *older;        /* the writers' clock list */
    dp_cache_entry *newer;
    dp_cache_entry *retired_next;
    uint64_t retired_epoch;
    uint64_t stored_ms;
    uint64_t expires_ms;
    uint32_t hash;
    uint16_t qtype;
    bool dnssec_ok;
    bool denial;   /* NXDOMAIN or NODATA */
    bool keep_ttl; /* replies give the upstream's TTLs, not what is left */
    /* Prefetch: how often it was asked for with no long gap, when last,
     * and whether it has been asked again (written by readers, relaxed:
     * a count off by a race only moves a prefetch by a query). */
    _Atomic uint32_t hits;
    _Atomic uint64_t last_hit_ms;
    _Atomic bool prefetched;
    uint8_t name_len;
    uint8_t name[DP_MAX_NAME];
    uint16_t len;
    uint16_t len_without_additional;
    uint16_t ttl_count;
    uint16_t ttls_without_additional;
    uint16_t *ttl_offsets;
    uint32_t *ttls;
    uint8_t *wire;
};

/* A reader's last quiescent epoch, alone on its cache line. */
typedef struct dp_cache_reader {
    _Alignas(64) _Atomic uint64_t seen;
} dp_cache_reader;

struct dp_cache {
    pthread_mutex_t lock;
    dp_cache_entry *_Atomic *buckets;
    uint32_t mask;
    unsigned capacity;
    unsigned count;
    unsigned denials;      /* of count */
    uint64_t evictions[2]; /* positive answers, denials */
    dp_cache_entry *oldest;
    dp_cache_entry *newest;
    dp_cache_entry *retired;
    _Atomic uint64_t epoch;
    unsigned reader_count;
    dp_cache_reader *readers;
};

/* The question's key: the name's hash (the parse made it), type and DO. */
static uint32_t key_hash(const dp_query *q) {
    return (q->hash ^ (uint32_t)q->qtype * 0x9E3779B1u) + (q->edns_do ? 0x7F4A7C15u : 0);
}

dp_cache *dp_cache_new(unsigned capacity, unsigned readers) {
    dp_cache *c = calloc(1, sizeof(*c));
    if (c == NULL) return NULL;
    uint32_t buckets = 16;
    while (buckets < capacity && buckets < (1u << 30)) buckets <<= 1;
    c->buckets = calloc(buckets, sizeof(*c->buckets));
    c->readers = aligned_alloc(64, sizeof(dp_cache_reader) * (readers > 0 ? readers : 1));
    if (c->buckets == NULL || c->readers == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c->buckets);
        free(c->readers);
        free(c);
        return NULL;
    }
    c->mask = buckets - 1;
    c->capacity = capacity;
    c->reader_count = readers;
    /* Online from the start: nothing unlinked is freed before each reader
     * has said it holds nothing (a reader coming online later could
     * otherwise miss an unlink it raced with). */
    for (unsigned i = 0; i < readers; i++) atomic_init(&c->readers[i].seen, 0);
    return c;
}

void dp_cache_entry_free(dp_cache_entry *e) { free(e); }

static void free_list(dp_cache_entry *e, bool retired) {
    while (e != NULL) {
        dp_cache_entry *next = retired ? e->retired_next : e->newer;
        free(e);
        e = next;
    }
}

void dp_cache_free(dp_cache *c) {
    if (c == NULL) return;
    free_list(c->oldest, false);
    free_list(c->retired, true);
    pthread_mutex_destroy(&c->lock);
    free(c->buckets);
    free(c->readers);
    free(c);
}

/*
 * An upstream's reply as ldns reads it and writes it again: every name
 * whole, every RR as long as its RDLENGTH says, and compression pointers
 * only to names written before them. So what we keep parses as it is,
 * with its additional section cut off, and with its TTLs changed (a
 * pointer of the upstream's could have pointed into a TTL). The OPT's
 * fields are emptied; ldns still writes an OPT when the reply had one
 * (it keeps no way to unset that), which the layout cuts off. Once per
 * upstream reply, not per answer. Returns NULL when it does not parse.
 */
static uint8_t *canonical(const uint8_t *wire, size_t len, size_t *out_len) {
    ldns_pkt *pkt = NULL;
    if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) return NULL;
    ldns_pkt_set_edns_udp_size(pkt, 0);
    ldns_pkt_set_edns_extended_rcode(pkt, 0);
    ldns_pkt_set_edns_version(pkt, 0);
    ldns_pkt_set_edns_z(pkt, 0);
    ldns_rdf_deep_free(ldns_pkt_edns_data(pkt));
    ldns_pkt_set_edns_data(pkt, NULL);
    uint8_t *out = NULL;
    if (ldns_pkt2wire(&out, pkt, out_len) != LDNS_STATUS_OK || *out_len > DP_TCP_MAX_MESSAGE) {
        free(out);
        out = NULL;
    }
    ldns_pkt_free(pkt);
    return out;
}

dp_cache_entry *dp_cache_entry_make(const uint8_t *upstream_wire, size_t upstream_len,
                                    const dp_query *q, uint32_t ttl, uint64_t now_ms,
                                    unsigned flags, uint32_t ttl_cap) {
    size_t len;
    uint8_t *wire = canonical(upstream_wire, upstream_len, &len);
    if (wire == NULL) return NULL;
    size_t max_rrs = len / 11 + 1;
    size_t size = sizeof(dp_cache_entry) + max_rrs * (sizeof(uint32_t) + sizeof(uint16_t)) + len;
    dp_cache_entry *e = malloc(size);
    if (e == NULL) {
        free(wire);
        return NULL;
    }
    e->ttls = (uint32_t *)(e + 1);
    e->ttl_offsets = (uint16_t *)(e->ttls + max_rrs);
    e->wire = (uint8_t *)(e->ttl_offsets + max_rrs);
    dp_reply_layout layout = {.ttl_offsets = e->ttl_offsets};
    size_t kept = dp_upstream_reply_layout(wire, len, q->question_end, &layout);
    if (kept == 0) {
        free(wire);
        free(e);
        return NULL;
    }
    memcpy(e->wire, wire, kept);
    dp_write16(e->wire + 10, (uint16_t)layout.arcount);
    uint8_t rcode = e->wire[3] & 0x0F;
    e->denial =
        rcode == DP_RCODE_NXDOMAIN || (rcode == DP_RCODE_NOERROR && dp_read16(e->wire + 6) == 0);
    uint32_t cap = !(flags & DP_CACHE_CAP_TTLS) ? UINT32_MAX : e->denial ? ttl : ttl_cap;
    for (size_t i = 0; i < layout.ttl_count; i++) {
        uint32_t rr_ttl = dp_read32(wire + e->ttl_offsets[i]);
        e->ttls[i] = rr_ttl > cap ? cap : rr_ttl;
    }
    free(wire);
    atomic_init(&e->next, NULL);
    atomic_init(&e->referenced, false);
    e->older = e->newer = e->retired_next = NULL;
    e->retired_epoch = 0;
    e->stored_ms = now_ms;
    e->expires_ms = now_ms + (uint64_t)ttl * 1000;
    e->qtype = q->qtype;
    e->dnssec_ok = q->edns_do;
    e->keep_ttl = (flags & DP_CACHE_KEEP_TTL) != 0;
    atomic_init(&e->hits, 0);
    atomic_init(&e->last_hit_ms, now_ms);
    atomic_init(&e->prefetched, false);
    e->name_len = q->name_len;
    memcpy(e->name, q->name, q->name_len);
    e->hash = key_hash(q);
    e->len = (uint16_t)kept;
    e->len_without_additional =
        (uint16_t)(layout.len_without_additional ? layout.len_without_additional : kept);
    e->ttl_count = (uint16_t)layout.ttl_count;
    e->ttls_without_additional = (uint16_t)layout.ttls_without_additional;
    return e;
}

bool dp_cache_entry_expired(const dp_cache_entry *e, uint64_t now_ms) {
    return now_ms >= e->expires_ms;
}

bool dp_cache_entry_denial(const dp_cache_entry *e) { return e->denial; }

bool dp_cache_entry_popular(const dp_cache_entry *e, uint64_t now_ms, unsigned amount,
                            uint64_t gap_ms, unsigned percent) {
    dp_cache_entry *entry = (dp_cache_entry *)e; /* only its prefetch marks change */
    uint64_t last = atomic_exchange_explicit(&entry->last_hit_ms, now_ms, memory_order_relaxed);
    uint32_t hits =
        now_ms - last > gap_ms ? 1 : atomic_load_explicit(&entry->hits, memory_order_relaxed) + 1;
    atomic_store_explicit(&entry->hits, hits, memory_order_relaxed);
    if (hits < amount || now_ms >= e->expires_ms) return false;
    uint64_t left = e->expires_ms - now_ms;
    uint64_t lifetime = e->expires_ms - e->stored_ms;
    if (left * 100 >= lifetime * percent && left >= 1000) return false;
    return !atomic_exchange_explicit(&entry->prefetched, true, memory_order_relaxed);
}

const dp_cache_entry *dp_cache_lookup(dp_cache *c, const dp_query *q, uint64_t now_ms,
                                      uint64_t stale_ms) {
    uint32_t h = key_hash(q);
    dp_cache_entry *e = atomic_load_explicit(&c->buckets[h & c->mask], memory_order_acquire);
    for (; e != NULL; e = atomic_load_explicit(&e->next, memory_order_acquire)) {
        if (e->hash != h || e->qtype != q->qtype || e->dnssec_ok != q->edns_do ||
            e->name_len != q->name_len || memcmp(e->name, q->name, q->name_len) != 0)
            continue;
        if (now_ms >= e->expires_ms + stale_ms) return NULL;
        if (!atomic_load_explicit(&e->referenced, memory_order_relaxed))
            atomic_store_explicit(&e->referenced, true, memory_order_relaxed);
        return e;
    }
    return NULL;
}

/* ---- Writers (under the lock) ----------------------------------------- */

static void unlink_chain(dp_cache *c, dp_cache_entry *e) {
    dp_cache_entry *_Atomic *link = &c->buckets[e->hash & c->mask];
    for (dp_cache_entry *at = atomic_load(link); at != NULL; at = atomic_load(link)) {
        if (at == e) {
            atomic_store_explicit(link, atomic_load(&e->next), memory_order_release);
            return;
        }
        link = &at->next;
    }
}

static void unlink_clock(dp_cache *c, dp_cache_entry *e) {
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    e->older = e->newer = NULL;
}

static void append_clock(dp_cache *c, dp_cache_entry *e) {
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    else
        c->oldest = e;
    c->newest = e;
}

/* Unlinked now; freed when every reader has been quiescent since. */
static void retire(dp_cache *c, dp_cache_entry *e) {
    unlink_chain(c, e);
    unlink_clock(c, e);
    c->count--;
    if (e->denial) c->denials--;
    e->retired_epoch = atomic_fetch_add(&c->epoch, 1) + 1;
    e->retired_next = c->retired;
    c->retired = e;
}

static void reclaim(dp_cache *c) {
    uint64_t oldest_seen = UINT64_MAX;
    for (unsigned i = 0; i < c->reader_count; i++) {
        uint64_t seen = atomic_load(&c->readers[i].seen);
        if (seen < oldest_seen) oldest_seen = seen;
    }
    dp_cache_entry **link = &c->retired;
    while (*link != NULL) {
        dp_cache_entry *e = *link;
        if (e->retired_epoch <= oldest_seen) {
            *link = e->retired_next;
            free(e);
        } else {
            link = &e->retired_next;
        }
    }
}

/* CLOCK: the oldest entry goes unless read since it was last passed over
 * (and still live); a read one gets a second chance at the new end. */
static void evict_one(dp_cache *c, uint64_t now_ms) {
    for (;;) {
        dp_cache_entry *e = c->oldest;
        if (e == NULL) return;
        if (atomic_load_explicit(&e->referenced, memory_order_relaxed) && now_ms < e->expires_ms) {
            atomic_store_explicit(&e->referenced, false, memory_order_relaxed);
            unlink_clock(c, e);
            append_clock(c, e);
            continue;
        }
        c->evictions[e->denial]++;
        retire(c, e);
        return;
    }
}

void dp_cache_insert(dp_cache *c, dp_cache_entry *e) {
    pthread_mutex_lock(&c->lock);
    dp_cache_entry *_Atomic *bucket = &c->buckets[e->hash & c->mask];
    for (dp_cache_entry *at = atomic_load(bucket); at != NULL; at = atomic_load(&at->next)) {
        if (at->hash == e->hash && at->qtype == e->qtype && at->dnssec_ok == e->dnssec_ok &&
            at->name_len == e->name_len && memcmp(at->name, e->name, e->name_len) == 0) {
            retire(c, at);
            break;
        }
    }
    while (c->count >= c->capacity && c->count > 0) evict_one(c, e->stored_ms);
    if (c->capacity > 0) {
        atomic_store_explicit(&e->next, atomic_load(bucket), memory_order_relaxed);
        atomic_store_explicit(bucket, e, memory_order_release);
        append_clock(c, e);
        c->count++;
        if (e->denial) c->denials++;
    } else {
        free(e);
    }
    reclaim(c);
    pthread_mutex_unlock(&c->lock);
}

void dp_cache_clear(dp_cache *c) {
    pthread_mutex_lock(&c->lock);
    while (c->oldest != NULL) retire(c, c->oldest);
    reclaim(c);
    pthread_mutex_unlock(&c->lock);
}

void dp_cache_quiescent(dp_cache *c, unsigned reader) {
    atomic_store(&c->readers[reader].seen, atomic_load(&c->epoch));
}

void dp_cache_offline(dp_cache *c, unsigned reader) {
    atomic_store(&c->readers[reader].seen, UINT64_MAX);
}

void dp_cache_counts(dp_cache *c, uint64_t entries[2], uint64_t evictions[2]) {
    pthread_mutex_lock(&c->lock);
    entries[0] = c->count - c->denials;
    entries[1] = c->denials;
    evictions[0] = c->evictions[0];
    evictions[1] = c->evictions[1];
    pthread_mutex_unlock(&c->lock);
}

size_t dp_cache_entry_reply(const dp_cache_entry *e, const dp_query *q, uint64_t now_ms,
                            uint32_t stale_ttl, uint8_t *out, size_t cap, int transport) {
    size_t limit = dp_reply_limit(q, cap, transport);
    size_t opt = q->edns ? DP_OPT_RR_SIZE : 0;
    size_t len = e->len;
    size_t ttls = e->ttl_count;
    bool drop_additional = false, truncated = false;
    uint16_t answers = dp_read16(e->wire + 6);
    uint8_t rcode = e->wire[3] & 0x0F;
    if (len + opt > limit) {
        /* RFC 2181 §9: the additional section goes first, then the answers
         * that do not fit, with TC (as answer.c's reply_truncated). Each
         * RR ends 6 bytes and its RDATA past its TTL. */
        len = e->len_without_additional;
        ttls = e->ttls_without_additional;
        drop_additional = true;
        if (len + opt > limit) {
            if (q->question_end + opt > limit)
                return dp_reply_question_only(q, rcode, false, true, 0, out, cap);
            len = q->question_end;
            uint16_t kept = 0;
            for (; kept < answers && kept < e->ttl_count; kept++) {
                size_t at = e->ttl_offsets[kept];
                size_t end = at + 6 + dp_read16(e->wire + at + 4);
                if (end + opt > limit) break;
                len = end;
            }
            answers = kept;
            ttls = kept;
            truncated = true;
        }
    }
    /* The entry's question is the client's name in other letters: same
     * length, so every compression pointer stays right. */
    memcpy(out, e->wire, len);
    memcpy(out + DP_HEADER_SIZE, q->wire + DP_HEADER_SIZE, q->question_end - DP_HEADER_SIZE);
    out[0] = q->wire[0];
    out[1] = q->wire[1];
    out[2] = (uint8_t)(0x80 | (truncated ? 0x02 : 0) | (q->wire[2] & 0x01));
    out[3] = (uint8_t)(0x80 | (q->wire[3] & 0x10) | rcode); /* RA: we recurse for the client */
    if (drop_additional) dp_write16(out + 10, 0);
    if (truncated) {
        dp_write16(out + 6, answers);
        dp_write16(out + 8, 0);
    }
    bool stale = now_ms >= e->expires_ms;
    uint64_t age = e->keep_ttl ? 0 : (now_ms - e->stored_ms) / 1000;
    for (size_t i = 0; i < ttls; i++) {
        uint32_t ttl = stale ? stale_ttl : e->ttls[i] > age ? e->ttls[i] - (uint32_t)age : 0;
        dp_write32(out + e->ttl_offsets[i], ttl);
    }
    return opt ? dp_append_opt(out, len, q, 0) : len;
}
