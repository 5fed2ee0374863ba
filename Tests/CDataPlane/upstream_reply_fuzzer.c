/*
 * upstream_reply_fuzzer.c — libFuzzer harness for what upstreams send: any
 * bytes as the reply to a fixed question. A reply the checks accept is
 * kept as a cache entry and replayed to clients, over UDP and TCP, fresh
 * and stale; each reply we would send must parse with ldns, carry the
 * client's ID and fit the transport. Built with ASan and UBSan by
 * Tests/CDataPlane/run.sh.
 */
#include "forward.h"

#include <ldns/ldns.h>
#include <stdlib.h>

/* www.example.test. A, RD, with OPT (1232). */
static const uint8_t query_wire[] = {
    0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 3,    'w',  'w',
    'w',  7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',  4,    't',  'e',  's',  't',  0,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04, 0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

static void check(const uint8_t *reply, size_t len, size_t limit) {
    if (len == 0) return;
    if (len < 12 || len > limit || reply[0] != 0xab || reply[1] != 0xcd || !(reply[2] & 0x80))
        abort();
    ldns_pkt *pkt = NULL;
    if (ldns_wire2pkt(&pkt, reply, len) != LDNS_STATUS_OK) abort();
    ldns_pkt_free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static dp_query q;
    static dp_cache *cache;
    static uint8_t out[65536];
    if (cache == NULL) {
        dp_query_parse(query_wire, sizeof(query_wire), &q);
        cache = dp_cache_new(4, 1);
    }
    if (size < 2) return 0;
    uint16_t id = (uint16_t)(data[0] << 8 | data[1]);
    dp_upstream_reply reply;
    if (!dp_upstream_reply_check(data, size, id, &q, 3600, 1800, &reply) || reply.truncated)
        return 0;
    dp_cache_entry *e =
        dp_cache_entry_make(data, size, &q, reply.ttl, 1000, DP_CACHE_CAP_TTLS, 3600);
    if (e == NULL) return 0;
    const uint64_t times[] = {1000, 1000 + 1000ull * reply.ttl / 2,
                              1000 + 1000ull * reply.ttl + 5000};
    for (int t = 0; t < 3; t++) {
        check(out, dp_cache_entry_reply(e, &q, times[t], 30, out, DP_EDNS_UDP_SIZE, DP_UDP),
              DP_EDNS_UDP_SIZE);
        check(out, dp_cache_entry_reply(e, &q, times[t], 30, out, sizeof(out), DP_TCP),
              sizeof(out));
    }
    if (!reply.cacheable) {
        dp_cache_entry_free(e);
        return 0;
    }
    dp_cache_insert(cache, e);
    const dp_cache_entry *hit = dp_cache_lookup(cache, &q, 1000, 0);
    if (hit == NULL) abort();
    check(out, dp_cache_entry_reply(hit, &q, 1000, 30, out, DP_EDNS_UDP_SIZE, DP_UDP),
          DP_EDNS_UDP_SIZE);
    dp_cache_quiescent(cache, 0);
    return 0;
}
