/*
 * fixture_table.c — a small answer table for the C harnesses: the apex
 * (SOA), web.ns.svc.cluster.local with 40 A records (more than fit in 512
 * bytes, and served in turns), ns.pod.cluster.local for pod names, and
 * 600 names n<i>.ns.svc.cluster.local with one A record each, so the table
 * has many shards (written by a second builder, and laid out with the
 * first). `address_byte` is the last byte of web's addresses, so
 * tables told apart by it can be published one after another; a delta
 * changes only web (and drops and re-adds n0), sharing the other shards.
 */
#include "fixture_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cluster.local. SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30 */
static const uint8_t apex[] = {7, 'c', 'l', 'u', 's', 't', 'e', 'r', 5, 'l', 'o', 'c', 'a', 'l', 0};

static size_t put_name(uint8_t *p, const char *labels[], int count) {
    size_t n = 0;
    for (int i = 0; i < count; i++) {
        size_t len = strlen(labels[i]);
        p[n++] = (uint8_t)len;
        memcpy(p + n, labels[i], len);
        n += len;
    }
    memcpy(p + n, apex, sizeof(apex));
    return n + sizeof(apex);
}

static size_t put_rr_header(uint8_t *p, const uint8_t *owner, size_t owner_len, uint16_t type,
                            uint16_t rdlen) {
    memcpy(p, owner, owner_len);
    uint8_t *h = p + owner_len;
    h[0] = type >> 8;
    h[1] = type & 0xFF;
    h[2] = 0;
    h[3] = 1;
    h[4] = 0;
    h[5] = 0;
    h[6] = 0;
    h[7] = 30;
    h[8] = rdlen >> 8;
    h[9] = rdlen & 0xFF;
    return owner_len + 10;
}

static size_t soa_rr(uint8_t *p) {
    uint8_t rdata[128];
    const char *ns[] = {"ns", "dns"};
    const char *mbox[] = {"hostmaster"};
    size_t r = put_name(rdata, ns, 2);
    r += put_name(rdata + r, mbox, 1);
    const uint32_t values[5] = {1, 7200, 1800, 86400, 30};
    for (int i = 0; i < 5; i++) {
        rdata[r++] = values[i] >> 24;
        rdata[r++] = values[i] >> 16;
        rdata[r++] = values[i] >> 8;
        rdata[r++] = values[i];
    }
    size_t n = put_rr_header(p, apex, sizeof(apex), 6, (uint16_t)r);
    memcpy(p + n, rdata, r);
    return n + r;
}

static void add_zone(dp_table_builder *b, uint8_t *soa, size_t soa_len) {
    uint8_t name[256];
    if (dp_table_builder_add_zone(b, apex, sizeof(apex), 1, soa, soa_len, NULL, 0) != 0) abort();
    const char *pod[] = {"pod"};
    size_t pod_len = put_name(name, pod, 1);
    if (dp_table_builder_add_pod_synthesis(b, name, pod_len, 30, NULL, 0) != 0) abort();
}

/* web.ns.svc: 40 A records 10.0.<i>.<address_byte>, so UDP truncation happens */
static void add_web(dp_table_builder *b, uint8_t address_byte, uint8_t *soa, size_t soa_len) {
    uint8_t rrs[4096], name[256];
    const char *web[] = {"web", "ns", "svc"};
    size_t web_len = put_name(name, web, 3);
    size_t n = 0;
    for (int i = 0; i < 40; i++) {
        n += put_rr_header(rrs + n, name, web_len, 1, 4);
        rrs[n++] = 10;
        rrs[n++] = 0;
        rrs[n++] = (uint8_t)i;
        rrs[n++] = address_byte;
    }
    if (dp_table_builder_add_answer(b, name, web_len, 1, 0, rrs, n, 40, 0, 0, NULL, 0) != 0)
        abort();
    if (dp_table_builder_add_answer(b, name, web_len, 0, 0, soa, soa_len, 0, 1, 0, NULL, 0) != 0)
        abort();
}

size_t fixture_filler_name(int i, uint8_t *name) {
    char label[16];
    snprintf(label, sizeof(label), "n%d", i);
    const char *labels[] = {label, "ns", "svc"};
    return put_name(name, labels, 3);
}

static void add_filler(dp_table_builder *b, int i, uint8_t *soa, size_t soa_len) {
    uint8_t rr[64], name[256];
    size_t len = fixture_filler_name(i, name);
    size_t n = put_rr_header(rr, name, len, 1, 4);
    rr[n++] = 10;
    rr[n++] = 9;
    rr[n++] = (uint8_t)(i >> 8);
    rr[n++] = (uint8_t)i;
    if (dp_table_builder_add_answer(b, name, len, 1, 0, rr, n, 1, 0, 0, NULL, 0) != 0) abort();
    if (dp_table_builder_add_answer(b, name, len, 0, 0, soa, soa_len, 0, 1, 0, NULL, 0) != 0)
        abort();
}

dp_table_builder *fixture_fillers(int first, int count) {
    dp_table_builder *b = dp_table_builder_new();
    uint8_t soa[256];
    size_t soa_len = soa_rr(soa);
    add_zone(b, soa, soa_len);
    for (int i = first; i < first + count; i++) add_filler(b, i, soa, soa_len);
    return b;
}

dp_table *fixture_table(uint8_t address_byte) {
    dp_table_builder *b = dp_table_builder_new();
    uint8_t soa[256], name[256];
    size_t soa_len = soa_rr(soa);
    add_zone(b, soa, soa_len);
    /* apex: SOA answer, default NODATA */
    if (dp_table_builder_add_answer(b, apex, sizeof(apex), 6, 0, soa, soa_len, 1, 0, 0, NULL, 0) !=
        0)
        abort();
    if (dp_table_builder_add_answer(b, apex, sizeof(apex), 0, 0, soa, soa_len, 0, 1, 0, NULL, 0) !=
        0)
        abort();
    add_web(b, address_byte, soa, soa_len);
    /* ns.pod: exists, so pod names below it are synthesised */
    const char *nspod[] = {"ns", "pod"};
    size_t nspod_len = put_name(name, nspod, 2);
    if (dp_table_builder_add_answer(b, name, nspod_len, 0, 0, soa, soa_len, 0, 1, 0, NULL, 0) != 0)
        abort();
    /* ptr.ns.svc: PTR records to web and n1, kept as their targets */
    const char *ptr[] = {"ptr", "ns", "svc"}, *web[] = {"web", "ns", "svc"},
               *n1[] = {"n1", "ns", "svc"};
    uint8_t targets[512];
    size_t targets_len = put_name(targets, web, 3);
    targets_len += put_name(targets + targets_len, n1, 3);
    size_t ptr_len = put_name(name, ptr, 3);
    if (dp_table_builder_add_ptr_records(b, name, ptr_len, targets, targets_len, 30, NULL, 0) != 0)
        abort();
    /* addr.ns.svc: 3 A records, addr6.ns.svc: 2 AAAA records, kept as addresses */
    const char *addr[] = {"addr", "ns", "svc"}, *addr6[] = {"addr6", "ns", "svc"};
    const uint8_t v4[] = {10, 1, 0, 1, 10, 1, 0, 2, 10, 1, 0, 3};
    const uint8_t v6[32] = {0xfd, 0, [15] = 1, [16] = 0xfd, [31] = 2};
    size_t addr_len = put_name(name, addr, 3);
    if (dp_table_builder_add_address_records(b, name, addr_len, 1, v4, 3, 30, NULL, 0) != 0)
        abort();
    addr_len = put_name(name, addr6, 3);
    if (dp_table_builder_add_address_records(b, name, addr_len, 28, v6, 2, 30, NULL, 0) != 0)
        abort();
    /* The fillers are written by a second builder, as a parallel build does. */
    dp_table_builder *other = dp_table_builder_new();
    add_zone(other, soa, soa_len);
    for (int i = 0; i < FIXTURE_FILLERS; i++) add_filler(other, i, soa, soa_len);
    dp_table_builder *both[] = {b, other};
    dp_table *table = dp_table_builders_finish(both, 2, NULL, 0);
    if (table == NULL) abort();
    return table;
}

dp_table *fixture_filler_delta(const dp_table *base, int first_added, int added, int first_removed,
                               int removed) {
    dp_table_builder *b = dp_table_builder_new_delta(base);
    uint8_t soa[256], name[256];
    size_t soa_len = soa_rr(soa);
    add_zone(b, soa, soa_len);
    for (int i = first_added; i < first_added + added; i++) add_filler(b, i, soa, soa_len);
    for (int i = first_removed; i < first_removed + removed; i++)
        if (dp_table_builder_remove_name(b, name, fixture_filler_name(i, name), NULL, 0) != 0)
            abort();
    dp_table *table = dp_table_builder_finish(b, NULL, 0);
    if (table == NULL) abort();
    return table;
}

dp_table *fixture_delta(const dp_table *base, uint8_t address_byte) {
    dp_table_builder *b = dp_table_builder_new_delta(base);
    uint8_t soa[256], name[256];
    size_t soa_len = soa_rr(soa);
    add_zone(b, soa, soa_len);
    add_web(b, address_byte, soa, soa_len);
    const char *gone[] = {"n0", "ns", "svc"};
    size_t gone_len = put_name(name, gone, 3);
    if (dp_table_builder_remove_name(b, name, gone_len, NULL, 0) != 0) abort();
    add_filler(b, 0, soa, soa_len);
    const char *other[] = {"n1", "ns", "svc"};
    size_t other_len = put_name(name, other, 3);
    if (dp_table_builder_remove_name(b, name, other_len, NULL, 0) != 0) abort();
    add_filler(b, 1, soa, soa_len);
    dp_table *table = dp_table_builder_finish(b, NULL, 0);
    if (table == NULL) abort();
    if (dp_table_name_count(table) != dp_table_name_count(base)) abort();
    return table;
}
