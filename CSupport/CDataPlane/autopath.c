/*
 * autopath.c — CoreDNS's autopath plugin: the client's search path walked
 * on the server, so that a pod's query for `name.<first search domain>`
 * that does not exist is answered in one round trip with a CNAME to the
 * first expansion that does (coredns.io/plugins/autopath).
 *
 * With `@kubernetes`, the search path is the client pod's:
 * `<ns>.svc.<zone> svc.<zone> <zone>`, then the server's own resolv.conf
 * search domains, then the name itself. The pod's namespace comes from
 * the clients' index: a zone of the answer table no query is answered
 * from (DP_ZONE_INTERNAL), holding `<a-b-c-d>.<apex>` TXT `<ns>` for
 * each pod address, published as deltas with the
 * cluster's records. Without it, the search path is a fixed list.
 *
 * The expansions under the table's authoritative zones are looked up in
 * the table at once; the first that exists becomes the question. The
 * first outside them goes to the forwarder, which asks the ones after it
 * in turn while the upstream says NXDOMAIN. The reply then gets the
 * client's question back, with a CNAME from it to the name answered.
 */
#include "forward.h"
#include "stages.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- Configuration --------------------------------------------------- */

int dp_forwarding_set_autopath(dp_forwarding *f, const uint8_t *index_apex, size_t len,
                               const uint8_t *cluster_zone, size_t zone_len, char *err,
                               size_t errlen) {
    dp_block *b = dp_stages_last_block(f);
    if (b == NULL) return dp_fail(err, errlen, "autopath before any block");
    if (b->autopath == NULL) b->autopath = calloc(1, sizeof(dp_autopath));
    if (b->autopath == NULL) return dp_fail(err, errlen, "out of memory");
    dp_autopath *a = b->autopath;
    a->from_pods = index_apex != NULL;
    if (index_apex == NULL) return 0;
    if (dp_zone_name_set(&a->index_apex, index_apex, len, err, errlen) != 0) return -1;
    return dp_zone_name_set(&a->cluster_zone, cluster_zone, zone_len, err, errlen);
}

int dp_forwarding_add_autopath_zone(dp_forwarding *f, const uint8_t *zone, size_t len, char *err,
                                    size_t errlen) {
    dp_block *b = dp_stages_last_block(f);
    if (b == NULL || b->autopath == NULL) return dp_fail(err, errlen, "a zone before autopath");
    return dp_zone_names_add(b->autopath->zones, &b->autopath->zone_count, DP_MAX_TEMPLATE_ZONES,
                             zone, len, err, errlen);
}

int dp_forwarding_add_autopath_search(dp_forwarding *f, const uint8_t *domain, size_t len,
                                      char *err, size_t errlen) {
    dp_block *b = dp_stages_last_block(f);
    if (b == NULL || b->autopath == NULL) return dp_fail(err, errlen, "a domain before autopath");
    return dp_zone_names_add(b->autopath->search, &b->autopath->search_count,
                             DP_MAX_AUTOPATH_SEARCH, domain, len, err, errlen);
}

/* ---- The search path ---------------------------------------------------- */

/* The namespace of the pod at `peer` from the table's clients' index
 * (into 63 bytes); its length, or 0 for no known pod. */
static size_t pod_namespace(const dp_autopath *a, const dp_table *t,
                            const struct sockaddr_storage *peer, uint8_t *out) {
    /* `<a-b-c-d>` (or the IPv6 address's groups dashed), then the apex;
     * an IPv4 label written by hand, as every query from a pod asks it. */
    char label[64];
    int n = 0;
    if (peer->ss_family == AF_INET) {
        const uint8_t *b = (const uint8_t *)&((const struct sockaddr_in *)peer)->sin_addr;
        for (int i = 0; i < 4; i++) {
            if (i > 0) label[n++] = '-';
            if (b[i] >= 100) label[n++] = (char)('0' + b[i] / 100);
            if (b[i] >= 10) label[n++] = (char)('0' + b[i] / 10 % 10);
            label[n++] = (char)('0' + b[i] % 10);
        }
    } else {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)peer)->sin6_addr;
        char text[INET6_ADDRSTRLEN];
        if (inet_ntop(AF_INET6, a6, text, sizeof(text)) == NULL) return 0;
        n = snprintf(label, sizeof(label), "%s", text);
        for (char *c = label; *c != '\0'; c++)
            if (*c == ':') *c = '-';
    }
    if (n <= 0 || n > 63) return 0;
    uint8_t name[DP_MAX_NAME];
    name[0] = (uint8_t)n;
    memcpy(name + 1, label, (size_t)n);
    memcpy(name + 1 + n, a->index_apex.name, a->index_apex.len);
    size_t len = 1 + (size_t)n + a->index_apex.len;
    const dp_record *r = dp_table_find(t, name, len, dp_name_hash(name, len));
    if (r == NULL || r->zone != t->internal_zone) return 0;
    uint8_t text[256];
    size_t text_len = dp_record_text(r, text);
    if (text_len > 63) return 0;
    for (size_t i = 0; i < text_len; i++) out[i] = dp_lower(text[i]);
    return text_len;
}

/* The first domain of the client's search path under @kubernetes,
 * `<ns>.svc.<zone>` (into `out`); its length, or 0 for no known pod. A
 * client's namespace is kept in the worker's cache for as long as the
 * table it was read from is served. */
static size_t pod_search_domain(const dp_autopath *a, const dp_table *t,
                                const struct sockaddr_storage *peer, dp_client_cache *clients,
                                uint8_t *out) {
    if (t->internal_zone == DP_NO_INTERNAL_ZONE || peer == NULL) return 0;
    if (peer->ss_family != AF_INET && peer->ss_family != AF_INET6) return 0;
    bool v4 = peer->ss_family == AF_INET;
    const uint8_t *address = v4 ? (const uint8_t *)&((const struct sockaddr_in *)peer)->sin_addr
                                : (const uint8_t *)&((const struct sockaddr_in6 *)peer)->sin6_addr;
    size_t address_len = v4 ? 4 : 16;
    uint8_t ns[63];
    size_t ns_len;
    dp_client_entry *e = NULL;
    if (clients != NULL) {
        uint32_t hash = dp_name_hash(address, address_len);
        e = &clients->entries[hash % DP_CLIENT_CACHE];
    }
    if (e != NULL && e->table == t->serial && e->family == peer->ss_family &&
        memcmp(e->address, address, address_len) == 0) {
        ns_len = e->namespace_len;
        memcpy(ns, e->namespace, ns_len);
    } else {
        ns_len = pod_namespace(a, t, peer, ns);
        if (e != NULL) {
            e->table = t->serial;
            e->family = (uint8_t)peer->ss_family;
            memcpy(e->address, address, address_len);
            e->namespace_len = (uint8_t)ns_len;
            memcpy(e->namespace, ns, ns_len);
        }
    }
    if (ns_len == 0 || 1 + ns_len + 4 + a->cluster_zone.len > DP_MAX_NAME) return 0;
    out[0] = (uint8_t)ns_len;
    memcpy(out + 1, ns, ns_len);
    memcpy(out + 1 + ns_len, "\x03svc", 4);
    memcpy(out + 5 + ns_len, a->cluster_zone.name, a->cluster_zone.len);
    return 5 + ns_len + a->cluster_zone.len;
}

/* The `i`th name to try for the query: `base` (the labels before the
 * first search domain) followed by that domain; past the search
 * domains, `base` itself. Its length, or 0 past the end (or too long). */
static size_t candidate(const dp_autopath *a, const uint8_t *base, size_t base_len,
                        const uint8_t *first, size_t first_len, unsigned i, uint8_t *out) {
    const uint8_t *domain;
    size_t len;
    unsigned own = a->from_pods ? 3 : 0; /* `<ns>.svc.<zone> svc.<zone> <zone>` */
    if (i < own) {
        domain = first;
        len = first_len;
        for (unsigned k = 0; k < i; k++) {
            len -= 1 + (size_t)domain[0];
            domain += 1 + domain[0];
        }
    } else if (i - own < a->search_count) {
        domain = a->search[i - own].name;
        len = a->search[i - own].len;
    } else if (i - own == a->search_count) {
        domain = (const uint8_t *)"";
        len = 1;
    } else {
        return 0;
    }
    if (base_len + len > DP_MAX_NAME) return 0;
    memcpy(out, base, base_len);
    memcpy(out + base_len, domain, len);
    return base_len + len;
}

/* What the table says of a name, with no query asked. */
typedef enum { NAME_EXISTS, NAME_MISSING, NAME_ELSEWHERE } name_state;

static name_state look_up(const dp_table *t, const uint8_t *name, size_t len) {
    const dp_record *r = dp_table_find(t, name, len, dp_name_hash(name, len));
    if (r != NULL && r->zone != t->internal_zone) return NAME_EXISTS;
    uint8_t offsets[DP_MAX_LABELS];
    int labels = dp_name_labels(name, len, offsets);
    if (labels < 0) return NAME_MISSING;
    const dp_zone *z = dp_table_zone_of(t, name, len, offsets, (unsigned)labels);
    return z == NULL || z->internal || !z->authoritative ? NAME_ELSEWHERE : NAME_MISSING;
}

/* ---- A query ----------------------------------------------------------- */

/* Whether a name's label right under `zone` is `svc`, with two labels
 * before it: only `<name>.<ns>.svc.<zone>` can be under a pod's first
 * search domain, so no other name costs a lookup of its client. */
static bool under_services(const dp_query *q, const dp_zone_name *zone) {
    if (q->labels < zone->labels + 3) return false;
    const uint8_t *label = q->name + q->label_offsets[q->labels - zone->labels - 1];
    return label[0] == 3 && memcmp(label + 1, "svc", 3) == 0;
}

unsigned dp_autopath_request(const dp_autopath *a, const dp_table *t, dp_parsed *p, dp_staged *slot,
                             const struct sockaddr_storage *peer, dp_client_cache *clients) {
    const dp_query *q = &p->query;
    if (t->unsynced) return 0;
    const dp_zone_name *zone = NULL;
    for (unsigned i = 0; i < a->zone_count && zone == NULL; i++)
        if (dp_zone_holds(&a->zones[i], q)) zone = &a->zones[i];
    if (zone == NULL) return 0;
    uint8_t first[DP_MAX_NAME];
    size_t first_len;
    if (a->from_pods) {
        if (!dp_zone_holds(&a->cluster_zone, q) || !under_services(q, &a->cluster_zone)) return 0;
        first_len = pod_search_domain(a, t, peer, clients, first);
    } else {
        first_len = a->search_count > 0 ? a->search[0].len : 0;
        memcpy(first, a->search[0].name, first_len);
    }
    if (first_len == 0 || first_len >= q->name_len ||
        memcmp(q->name + q->name_len - first_len, first, first_len) != 0)
        return 0;
    /* The labels before the first domain, whole labels only. */
    size_t base_len = q->name_len - first_len;
    size_t at = 0;
    while (at < base_len) at += 1 + (size_t)q->name[at];
    if (at != base_len) return 0;
    dp_autopath_walk *walk = &slot->walk;
    walk->autopath = a;
    memcpy(walk->base, q->name, base_len);
    walk->base_len = (uint8_t)base_len;
    memcpy(walk->first, first, first_len);
    walk->first_len = (uint8_t)first_len;
    walk->next = 0;
    uint8_t name[DP_MAX_NAME];
    for (;;) {
        size_t len = dp_autopath_walk_next(walk, name);
        if (len == 0) return 0;
        name_state state = look_up(t, name, len);
        if (state == NAME_MISSING) continue;
        /* The name asked exists: answered as it is. */
        if (walk->next == 1 && state == NAME_EXISTS) return DP_STAGED_AUTOPATH;
        if (!dp_rewrite_question(p, slot, name, len)) return 0;
        p->autopath = true;
        /* Names outside the table: the forwarder goes on down the path. */
        walk->left = state == NAME_ELSEWHERE;
        return state == NAME_EXISTS ? DP_STAGED_AUTOPATH : 0;
    }
}

size_t dp_autopath_walk_next(dp_autopath_walk *w, uint8_t *out) {
    size_t len = candidate(w->autopath, w->base, w->base_len, w->first, w->first_len, w->next, out);
    if (len > 0) w->next++;
    return len;
}
