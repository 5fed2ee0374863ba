/*
 * stats.c — the buckets the workers count queries in, and the sums over
 * workers read by the control thread (dataplane.h, "Counters").
 */
#include "server.h"

/* The types CoreDNS's metrics name; any other is counted as "other". */
static const uint16_t counted_types[DP_QTYPE_BUCKETS - 1] = {1,  2,  5,  6,  12, 15,
                                                             16, 28, 33, 65, 255};

/* Upper bounds of the reply-size buckets, CoreDNS's. */
static const uint32_t size_bounds[DP_SIZE_BUCKETS] = {0,    100,  200,  300,   400,   511,   1023,
                                                      2047, 4095, 8291, 16000, 32000, 48000, 64000};

static const dp_counter_info counters[] = {
#define DP_DESCRIBE(field, metric, server_label, help)                                             \
    {#field, metric, server_label, help, offsetof(dp_stats, field)},
    DP_COUNTERS(DP_DESCRIBE)
#undef DP_DESCRIBE
};

unsigned dp_counter_count(void) { return sizeof(counters) / sizeof(counters[0]); }

const dp_counter_info *dp_counter_describe(unsigned index) {
    return index < dp_counter_count() ? &counters[index] : NULL;
}

uint16_t dp_stats_qtype(unsigned bucket) {
    return bucket < DP_QTYPE_BUCKETS - 1 ? counted_types[bucket] : 0;
}

uint32_t dp_stats_size_bound(unsigned bucket) {
    return bucket < DP_SIZE_BUCKETS ? size_bounds[bucket] : UINT32_MAX;
}

uint64_t dp_stats_duration_bound_us(unsigned bucket) {
    /* CoreDNS's: 0.25 ms doubling to 8.192 s. */
    return bucket < DP_DURATION_BUCKETS ? 250ull << bucket : UINT64_MAX;
}

unsigned dp_qtype_bucket(uint16_t qtype) {
    for (unsigned i = 0; i < DP_QTYPE_BUCKETS - 1; i++)
        if (counted_types[i] == qtype) return i;
    return DP_QTYPE_BUCKETS - 1;
}

unsigned dp_size_bucket(size_t len) {
    unsigned i = 0;
    while (i < DP_SIZE_BUCKETS - 1 && len > size_bounds[i]) i++;
    return len > size_bounds[i] ? DP_SIZE_BUCKETS : i;
}

unsigned dp_duration_bucket(uint64_t us) {
    unsigned i = 0;
    while (i < DP_DURATION_BUCKETS && us > (250ull << i)) i++;
    return i;
}

uint64_t dp_monotonic_us(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (uint64_t)now.tv_sec * 1000000 + (uint64_t)now.tv_nsec / 1000;
}

uint64_t dp_monotonic_ms(void) { return dp_monotonic_us() / 1000; }
