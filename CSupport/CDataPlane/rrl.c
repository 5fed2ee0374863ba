/*
 * rrl.c — response rate limiting, for servers whose DNS port is reachable
 * from outside the cluster (hostNetwork, NodePort): per source prefix
 * (/24 and /56 by default, as BIND and Knot), a token bucket of `rate`
 * UDP replies a second. Past it a reply is dropped, except every `slip`th,
 * which goes out truncated (TC, the question only), so that a real client
 * whose address is being spoofed retries over TCP and still gets its
 * answer, while a reflection attack gets nothing worth amplifying.
 *
 * Buckets live in one table shared by the workers, one 64-bit word each,
 * read and written with relaxed atomics: two workers racing on one bucket
 * lose an update, which only makes the limit a little loose. Two prefixes
 * that share a slot take turns (the tag tells them apart and the newcomer
 * starts a full bucket). Only UDP is limited: TCP cannot be spoofed.
 */
#include "server.h"

#include <netinet/in.h>
#include <stdatomic.h>
#include <stdlib.h>

#define DP_RRL_SLOTS (1u << 16)

struct dp_rrl {
    uint32_t rate;
    uint32_t slip;
    uint8_t v4_prefix;
    uint8_t v6_prefix;
    _Atomic uint64_t slots[DP_RRL_SLOTS];
};

/* A slot's word: tag (24 bits) | second (16 bits) | tokens (24 bits). */
static inline uint64_t pack(uint32_t tag, uint32_t second, uint32_t tokens) {
    return (uint64_t)(tag & 0xFFFFFF) << 40 | (uint64_t)(second & 0xFFFF) << 24 |
           (tokens & 0xFFFFFF);
}

dp_rrl *dp_rrl_new(const dp_server_config *config) {
    if (config->rrl_responses_per_second == 0) return NULL;
    dp_rrl *r = calloc(1, sizeof(*r));
    if (r == NULL) return NULL;
    r->rate =
        config->rrl_responses_per_second < 0xFFFFFF ? config->rrl_responses_per_second : 0xFFFFFF;
    r->slip = config->rrl_slip;
    r->v4_prefix = config->rrl_ipv4_prefix <= 32 ? config->rrl_ipv4_prefix : 32;
    r->v6_prefix = config->rrl_ipv6_prefix <= 128 ? config->rrl_ipv6_prefix : 128;
    return r;
}

void dp_rrl_free(dp_rrl *r) { free(r); }

/* FNV-1a of the address's first `bits`, the family mixed in. */
static uint32_t prefix_hash(const uint8_t *address, unsigned bits, uint32_t family) {
    uint32_t h = 2166136261u ^ family;
    unsigned whole = bits / 8;
    for (unsigned i = 0; i < whole; i++) h = (h ^ address[i]) * 16777619u;
    if (bits % 8) h = (h ^ (address[whole] & (uint8_t)(0xFF << (8 - bits % 8)))) * 16777619u;
    return h;
}

/* Takes a token from the bucket of `peer`'s prefix; false when it is empty. */
static bool take(dp_rrl *r, const struct sockaddr_storage *peer, uint64_t now_s) {
    uint32_t h;
    if (peer->ss_family == AF_INET6) {
        const uint8_t *a = ((const struct sockaddr_in6 *)peer)->sin6_addr.s6_addr;
        h = prefix_hash(a, r->v6_prefix, AF_INET6);
    } else {
        const uint8_t *a = (const uint8_t *)&((const struct sockaddr_in *)peer)->sin_addr.s_addr;
        h = prefix_hash(a, r->v4_prefix, AF_INET);
    }
    _Atomic uint64_t *slot = &r->slots[h & (DP_RRL_SLOTS - 1)];
    uint32_t tag = h >> 8, second = (uint32_t)now_s & 0xFFFF;
    uint64_t word = atomic_load_explicit(slot, memory_order_relaxed);
    uint32_t tokens;
    if ((uint32_t)(word >> 40) != (tag & 0xFFFFFF)) {
        tokens = r->rate;
    } else {
        uint32_t elapsed = (second - (uint32_t)(word >> 24)) & 0xFFFF;
        uint64_t refilled = (word & 0xFFFFFF) + (uint64_t)elapsed * r->rate;
        tokens = refilled < r->rate ? (uint32_t)refilled : r->rate;
    }
    bool allowed = tokens > 0;
    atomic_store_explicit(slot, pack(tag, second, allowed ? tokens - 1 : 0), memory_order_relaxed);
    return allowed;
}

size_t dp_rrl_apply(dp_worker *w, const struct sockaddr_storage *peer, const dp_parsed *p,
                    uint8_t *reply, size_t len, size_t cap, uint64_t now_s) {
    dp_rrl *r = w->server->rrl;
    if (take(r, peer, now_s)) return len;
    if (r->slip == 0 || ++w->rrl_slip_count % r->slip != 0 || p->result != DP_PARSE_OK) {
        dp_count(&w->counters.rrl_dropped);
        return 0;
    }
    dp_count(&w->counters.rrl_slipped);
    bool authoritative = (reply[2] & 0x04) != 0;
    return dp_reply_question_only(&p->query, reply[3] & 0x0F, authoritative, true, 0, reply, cap);
}
