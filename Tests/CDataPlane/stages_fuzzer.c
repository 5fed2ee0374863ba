/*
 * stages_fuzzer.c — libFuzzer harness for the rules that run before any
 * answer: any bytes as a query run through a block's rewrite rules (every
 * kind of name rule, a type, a class and a TTL rule) and templates, and
 * are answered from them or the fixture table, and the same bytes as an
 * upstream's reply to a rewritten query are mapped back. Every reply must parse, keep the client's
 * ID, and fit its transport. Built with ASan and UBSan by Tests/CDataPlane/run.sh.
 */
#include "fixture_table.h"
#include "forward.h"
#include "stages.h"

#include <netinet/in.h>
#include <stdio.h>

#include <ldns/ldns.h>
#include <stdlib.h>
#include <string.h>

static dp_table *table;
static dp_forwarding *forwarding;

static void add(dp_rewrite_field field, dp_match_kind match, const char *from, const char *to,
                bool stop) {
    dp_rewrite_spec spec = {.field = field,
                            .stop = stop,
                            .match = match,
                            .from = from,
                            .to = to,
                            .answer_auto = true,
                            .from_code = field == DP_REWRITE_CLASS ? 3 : 13,
                            .to_code = 1,
                            .ttl_min = 10,
                            .ttl_max = 20};
    if (dp_forwarding_add_rewrite(forwarding, &spec, NULL, 0) != 0) abort();
}

static void configure(void) {
    forwarding = dp_forwarding_new(1000, 400);
    if (dp_forwarding_add_block(forwarding, NULL, 0) != 0 ||
        dp_forwarding_add_block_zone(forwarding, (const uint8_t *)"", 1, NULL, 0) != 0)
        abort();
    add(DP_REWRITE_NAME, DP_MATCH_EXACT, "api.example.", "kubernetes.default.svc.cluster.local.",
        false);
    add(DP_REWRITE_NAME, DP_MATCH_PREFIX, "x.", "y.", false);
    add(DP_REWRITE_NAME, DP_MATCH_SUBSTRING, "a", "bb", false);
    add(DP_REWRITE_NAME, DP_MATCH_SUFFIX, ".legacy.", ".svc.cluster.local.", false);
    add(DP_REWRITE_NAME, DP_MATCH_REGEX, "^(.*)-([a-z]+)\\.corp\\.$",
        "{2}.{1}.{9}.svc.cluster.local.", false);
    if (dp_forwarding_add_rewrite_answer(forwarding, "^(.*)\\.svc\\.(.*)$", "{1}.{2}.", NULL, 0) !=
        0)
        abort();
    add(DP_REWRITE_TYPE, DP_MATCH_EXACT, NULL, NULL, false);
    add(DP_REWRITE_CLASS, DP_MATCH_EXACT, NULL, NULL, false);
    add(DP_REWRITE_TTL, DP_MATCH_REGEX, "[0-9]", NULL, false);
    /* Templates: every field, groups by name, a record that may fail to read. */
    static const int8_t named[] = {1, 2};
    char err[256];
#define F "\x01" /* a field's marker, then its code */
    if (dp_forwarding_add_template(forwarding, 255, 255, 0, true, err, sizeof(err)) != 0 ||
        dp_forwarding_add_template_zone(forwarding,
                                        (const uint8_t *)"\x07"
                                                         "example",
                                        9, false, err, sizeof(err)) != 0 ||
        dp_forwarding_add_template_match(forwarding, "^([a-z0-9]*)-([0-9]+)[.]", named, 2, err,
                                         sizeof(err)) != 0 ||
        dp_forwarding_add_template_record(forwarding, DP_TEMPLATE_ANSWER,
                                          F "N 60 " F "C A 10.0.0." F "g1", err,
                                          sizeof(err)) != 0 ||
        dp_forwarding_add_template_record(forwarding, DP_TEMPLATE_ANSWER,
                                          F "N 60 IN TXT \"" F "R " F "T " F "Z " F "0 " F "g0\"",
                                          err, sizeof(err)) != 0 ||
        dp_forwarding_add_template_record(forwarding, DP_TEMPLATE_ADDITIONAL,
                                          F "g0.example. 60 IN CNAME " F "N", err,
                                          sizeof(err)) != 0 ||
        dp_forwarding_add_template(forwarding, 1, 28, 0, false, err, sizeof(err)) != 0 ||
        dp_forwarding_add_template_zone(forwarding, (const uint8_t *)"", 1, false, err,
                                        sizeof(err)) != 0 ||
        /* A fixed search path, as `autopath FILE` gives it. */
        dp_forwarding_set_autopath(forwarding, NULL, 0, NULL, 0, err, sizeof(err)) != 0 ||
        dp_forwarding_add_autopath_zone(forwarding, (const uint8_t *)"", 1, err, sizeof(err)) !=
            0 ||
        dp_forwarding_add_autopath_search(forwarding,
                                          (const uint8_t *)"\x03"
                                                           "svc\x07"
                                                           "cluster\x05"
                                                           "local",
                                          19, err, sizeof(err)) != 0 ||
        dp_forwarding_add_autopath_search(forwarding, (const uint8_t *)"\x04test", 6, err,
                                          sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
#undef F
}

static void check(const uint8_t *query, const uint8_t *reply, size_t rlen, size_t limit) {
    if (rlen == 0) return;
    if (rlen < 12 || rlen > limit) abort();
    if (reply[0] != query[0] || reply[1] != query[1]) abort();
    ldns_pkt *pkt = NULL;
    if (ldns_wire2pkt(&pkt, reply, rlen) != LDNS_STATUS_OK) abort();
    ldns_pkt_free(pkt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static uint8_t reply[65536];
    static dp_staged slot;
    static const struct sockaddr_storage peer = {.ss_family = AF_INET};
    static const int transports[] = {DP_UDP, DP_TCP};
    if (table == NULL) {
        table = fixture_table(1);
        configure();
    }
    for (int i = 0; i < 2; i++) {
        size_t cap = transports[i] == DP_UDP ? DP_EDNS_UDP_SIZE : sizeof(reply);
        dp_parsed p;
        dp_query_prepare(table, data, size, &p);
        dp_stages_run(forwarding->stages, table, &p, &slot, &peer, NULL);
        dp_query_locate(table, &p);
        size_t rlen = dp_query_reply(table, &p, reply, cap, transports[i]);
        if (p.rules == 0 && !p.autopath) {
            check(data, reply, rlen, cap);
            continue;
        }
        rlen = dp_rewrite_reply(p.block, p.rules, p.autopath, &slot.asked, &p.query, reply, rlen,
                                cap, transports[i]);
        check(data, reply, rlen, cap);
        /* The input itself as what an upstream said of the rewritten query. */
        size_t len = size < cap ? size : cap;
        memcpy(reply, data, len);
        dp_rewrite_reply(p.block, p.rules, p.autopath, &slot.asked, &p.query, reply, len, cap,
                         transports[i]);
    }
    return 0;
}
