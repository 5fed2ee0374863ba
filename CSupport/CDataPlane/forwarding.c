/*
 * forwarding.c — a forwarding configuration: routes (stub domains and the
 * default) and their upstreams, built by the control thread, then shared
 * read-only by the workers (refcounted: a query in flight keeps the one it
 * started with).
 */
#include "forward.h"
#include "stages.h"

#include <stdio.h>
#include <stdlib.h>

dp_forwarding *dp_forwarding_new(uint32_t timeout_ms, uint32_t attempt_timeout_ms) {
    dp_forwarding *f = calloc(1, sizeof(*f));
    if (f == NULL) return NULL;
    atomic_init(&f->refs, 1);
    f->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
    f->attempt_timeout_ms = attempt_timeout_ms > 0 ? attempt_timeout_ms : f->timeout_ms;
    /* The loop probes' label: unguessable, so no one else's query marks
     * an upstream as a loop. */
    uint8_t random[8];
    arc4random_buf(random, sizeof(random));
    for (int i = 0; i < 8; i++) snprintf((char *)f->nonce + 2 * i, 3, "%02x", random[i]);
    return f;
}

int dp_forwarding_add_route(dp_forwarding *f, const uint8_t *domain, size_t len, char *err,
                            size_t errlen) {
    if (f->route_count == DP_MAX_ROUTES)
        return dp_fail(err, errlen, "more than %d forwarding domains", DP_MAX_ROUTES);
    uint8_t offsets[DP_MAX_LABELS];
    int labels = dp_name_labels(domain, len, offsets);
    if (labels < 0) return dp_fail(err, errlen, "not a lower-case wire-format domain name");
    /* Longest first, so the first route a name lies under is its route. */
    unsigned at = 0;
    while (at < f->route_count && f->routes[at].labels >= (unsigned)labels) {
        if (f->routes[at].domain_len == len && memcmp(f->routes[at].domain, domain, len) == 0)
            return dp_fail(err, errlen, "a domain given twice");
        at++;
    }
    memmove(&f->routes[at + 1], &f->routes[at], (f->route_count - at) * sizeof(dp_route));
    dp_route *r = &f->routes[at];
    memset(r, 0, sizeof(*r));
    memcpy(r->domain, domain, len);
    r->domain_len = (uint8_t)len;
    r->labels = (uint8_t)labels;
    r->order = DP_ORDER_SEQUENTIAL;
    r->cached = true;
    r->max_fails = DP_UPSTREAM_FAILURES_DOWN;
    r->cache_max_ttl = UINT32_MAX;
    r->cache_max_negative_ttl = UINT32_MAX;
    f->route_count++;
    f->last_route = at;
    return 0;
}

int dp_forwarding_add_upstream_tls(dp_forwarding *f, const char *address, uint16_t port, char *err,
                                   size_t errlen) {
    if (dp_forwarding_add_upstream(f, address, port, err, errlen) != 0) return -1;
    dp_route *r = &f->routes[f->last_route];
    r->tls[r->upstream_count - 1] = true;
    return 0;
}

int dp_forwarding_add_upstream(dp_forwarding *f, const char *address, uint16_t port, char *err,
                               size_t errlen) {
    if (f->route_count == 0) return dp_fail(err, errlen, "an upstream before any domain");
    dp_route *r = &f->routes[f->last_route];
    if (r->upstream_count == DP_MAX_ROUTE_UPSTREAMS)
        return dp_fail(err, errlen, "more than %d upstreams for one domain",
                       DP_MAX_ROUTE_UPSTREAMS);
    if (dp_parse_address(address, port, &r->addr[r->upstream_count],
                         &r->addr_len[r->upstream_count]) != 0)
        return dp_fail(err, errlen, "%s is not an IPv4 or IPv6 address", address);
    r->upstream_count++;
    return 0;
}

int dp_forwarding_set_route_options(dp_forwarding *f, dp_upstream_order order, bool force_tcp,
                                    bool cached, unsigned max_fails, char *err, size_t errlen) {
    if (f->route_count == 0) return dp_fail(err, errlen, "options before any domain");
    if (order > DP_ORDER_RANDOM) return dp_fail(err, errlen, "unknown upstream order %d", order);
    dp_route *r = &f->routes[f->last_route];
    r->order = order;
    r->force_tcp = force_tcp;
    r->cached = cached;
    r->max_fails = max_fails;
    return 0;
}

int dp_forwarding_set_route_cache_ttls(dp_forwarding *f, uint32_t max_ttl,
                                       uint32_t max_negative_ttl, char *err, size_t errlen) {
    if (f->route_count == 0) return dp_fail(err, errlen, "cache TTLs before any domain");
    dp_route *r = &f->routes[f->last_route];
    r->cache_max_ttl = max_ttl;
    r->cache_max_negative_ttl = max_negative_ttl;
    return 0;
}

void dp_forwarding_free(dp_forwarding *f) { dp_forwarding_release(f); }

void dp_forwarding_retain(dp_forwarding *f) { atomic_fetch_add(&f->refs, 1); }

void dp_forwarding_release(dp_forwarding *f) {
    if (f == NULL || atomic_fetch_sub(&f->refs, 1) != 1) return;
    dp_stages_free(f->stages);
    for (unsigned i = 0; i < f->route_count; i++) dp_route_free_tls(&f->routes[i]);
    free(f);
}

const dp_route *dp_forwarding_route(const dp_forwarding *f, const dp_query *q) {
    for (unsigned i = 0; i < f->route_count; i++) {
        const dp_route *r = &f->routes[i];
        if (r->labels == 0) return r;
        if (r->labels > q->labels) continue;
        const uint8_t *suffix = q->name + q->label_offsets[q->labels - r->labels];
        if (memcmp(suffix, r->domain, r->domain_len) == 0) return r;
    }
    return NULL;
}
