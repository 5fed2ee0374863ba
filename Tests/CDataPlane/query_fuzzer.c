/*
 * query_fuzzer.c — libFuzzer harness for the packet path: any bytes in,
 * and the reply (if any) must be a DNS message ldns can parse, with the
 * query's ID, QR set, and within the transport's size. Built with ASan and
 * UBSan by Tests/CDataPlane/run.sh.
 */
#include "fixture_table.h"

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

static dp_table *table;

static void check(const uint8_t *query, size_t len, const uint8_t *reply, size_t rlen,
                  size_t limit) {
    if (rlen == 0) return;
    if (rlen < 12 || rlen > limit) abort();
    if (!(reply[2] & 0x80) || reply[0] != query[0] || reply[1] != query[1]) abort();
    ldns_pkt *pkt = NULL;
    if (ldns_wire2pkt(&pkt, reply, rlen) != LDNS_STATUS_OK) abort();
    ldns_pkt_free(pkt);
    (void)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t reply[65536];
    if (table == NULL) table = fixture_table(1);
    size_t rlen = dp_query_answer(table, data, size, reply, DP_EDNS_UDP_SIZE, DP_UDP);
    check(data, size, reply, rlen, DP_EDNS_UDP_SIZE);
    rlen = dp_query_answer(table, data, size, reply, sizeof(reply), DP_TCP);
    check(data, size, reply, rlen, sizeof(reply));
    return 0;
}
