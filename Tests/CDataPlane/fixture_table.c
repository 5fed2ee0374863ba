/*
 * fixture_table.c — a small answer table for the C harnesses: the apex
 * (SOA), web.ns.svc.cluster.local with 40 A records (more than fit in 512
 * bytes, and served in turns), and ns.pod.cluster.local for pod names.
 * `address_byte` is the last byte of web's first address, so tables told
 * apart by it can be published one after another.
 */
#include "fixture_table.h"

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

static size_t put_rr_header(uint8_t *p, const uint8_t *owner, size_t owner_len, uint16_t type, uint16_t rdlen) {
    memcpy(p, owner, owner_len);
    uint8_t *h = p + owner_len;
    h[0] = type >> 8; h[1] = type & 0xFF; h[2] = 0; h[3] = 1;
    h[4] = 0; h[5] = 0; h[6] = 0; h[7] = 30;
    h[8] = rdlen >> 8; h[9] = rdlen & 0xFF;
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
        rdata[r++] = values[i] >> 24; rdata[r++] = values[i] >> 16; rdata[r++] = values[i] >> 8; rdata[r++] = values[i];
    }
    size_t n = put_rr_header(p, apex, sizeof(apex), 6, (uint16_t)r);
    memcpy(p + n, rdata, r);
    return n + r;
}

dp_table *fixture_table(uint8_t address_byte) {
    dp_table_builder *b = dp_table_builder_new();
    uint8_t soa[256], rrs[4096], name[256];
    size_t soa_len = soa_rr(soa);
    if (dp_table_builder_add_zone(b, apex, sizeof(apex), 1, soa, soa_len, NULL, 0) != 0) abort();
    const char *pod[] = {"pod"};
    size_t pod_len = put_name(name, pod, 1);
    if (dp_table_builder_add_pod_synthesis(b, name, pod_len, 30, NULL, 0) != 0) abort();

    /* apex: SOA answer, default NODATA */
    if (dp_table_builder_add_answer(b, apex, sizeof(apex), 6, 0, soa, soa_len, 1, 0, 0, NULL, 0) != 0) abort();
    if (dp_table_builder_add_answer(b, apex, sizeof(apex), 0, 0, soa, soa_len, 0, 1, 0, NULL, 0) != 0) abort();
    /* web.ns.svc: A 10.0.0.1 with 40 A records, so UDP truncation happens */
    const char *web[] = {"web", "ns", "svc"};
    size_t web_len = put_name(name, web, 3);
    size_t n = 0;
    for (int i = 0; i < 40; i++) {
        n += put_rr_header(rrs + n, name, web_len, 1, 4);
        rrs[n++] = 10; rrs[n++] = 0; rrs[n++] = (uint8_t)i; rrs[n++] = address_byte;
    }
    if (dp_table_builder_add_answer(b, name, web_len, 1, 0, rrs, n, 40, 0, 0, NULL, 0) != 0) abort();
    if (dp_table_builder_add_answer(b, name, web_len, 0, 0, soa, soa_len, 0, 1, 0, NULL, 0) != 0) abort();
    /* ns.pod: exists, so pod names below it are synthesised */
    const char *nspod[] = {"ns", "pod"};
    size_t nspod_len = put_name(name, nspod, 2);
    if (dp_table_builder_add_answer(b, name, nspod_len, 0, 0, soa, soa_len, 0, 1, 0, NULL, 0) != 0) abort();
    dp_table *table = dp_table_builder_finish(b, NULL, 0);
    if (table == NULL) abort();
    return table;
}

