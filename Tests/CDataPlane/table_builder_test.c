/*
 * table_builder_test.c — what the table builders refuse, who frees a
 * delta's shards, and the PTR names written from addresses, under
 * AddressSanitizer (which also fails the run on a
 * leak, a double free or a read of freed memory).
 */
#include "fixture_table.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what) {
    fprintf(stderr, "table_builder_test: %s\n", what);
    exit(1);
}

/* Builders laid out together must not share a name: two answers for one
 * name would both be kept, and which one a query got would depend on the
 * probe order. */
static void a_name_in_two_builders_is_refused(void) {
    char err[256] = "";
    dp_table_builder *overlapping[] = {fixture_fillers(0, 10), fixture_fillers(5, 10)};
    if (dp_table_builders_finish(overlapping, 2, err, sizeof(err)) != NULL)
        fail("a name in two builders made a table");
    /* Which of n5 to n9 is named depends on the order of the shards. */
    if (strstr(err, ".ns.svc.cluster.local. is in two builders") == NULL) fail(err);

    dp_table_builder *apart[] = {fixture_fillers(0, 10), fixture_fillers(10, 10)};
    dp_table *t = dp_table_builders_finish(apart, 2, err, sizeof(err));
    if (t == NULL) fail(err);
    /* Only names given answers are in a table: the 20 fillers. */
    if (dp_table_name_count(t) != 20) fail("two builders' names were not all laid out");
    dp_table_free(t);
}

/* A delta is built by one builder: its base's shards are its own only once
 * it is published in the base's place. */
static void a_delta_is_one_builder(void) {
    char err[256] = "";
    dp_table *base = fixture_table(1);
    dp_table_builder *two[] = {dp_table_builder_new_delta(base), fixture_fillers(700, 1)};
    if (dp_table_builders_finish(two, 2, err, sizeof(err)) != NULL)
        fail("a delta was laid out with another builder");
    if (strstr(err, "one builder") == NULL) fail(err);
    dp_table_free(base);
}

/* A delta freed unpublished frees only the shards it made: the base keeps
 * answering from the rest, and a later delta reads them. */
static void an_unpublished_delta_frees_only_its_own_shards(void) {
    dp_table *base = fixture_table(1);
    size_t names = dp_table_name_count(base);
    dp_table_free(fixture_delta(base, 2));
    dp_table *again = fixture_delta(base, 3);
    if (dp_table_name_count(again) != names) fail("a second delta lost names of the base");
    dp_table_free(again);
    dp_table_free(base);
}

/* A zone of the reverse tree: non-authoritative (only the cluster's
 * addresses are ours), with an SOA naming a made-up server. */
static void add_reverse_zone(dp_table_builder *b, const uint8_t *apex, size_t apex_len) {
    static const uint8_t rdata[] = {2, 'n', 's', 0, 2, 'h', 'm', 0, 0, 0, 0, 1, 0, 0, 28, 32,
                                    0, 0, 7, 8, 0, 1, 81, 128, 0, 0, 0, 30};
    uint8_t soa[300];
    memcpy(soa, apex, apex_len);
    const uint8_t fields[] = {0, 6, 0, 1, 0, 0, 0, 30, 0, sizeof(rdata)};
    memcpy(soa + apex_len, fields, sizeof(fields));
    memcpy(soa + apex_len + sizeof(fields), rdata, sizeof(rdata));
    char err[256] = "";
    size_t soa_len = apex_len + sizeof(fields) + sizeof(rdata);
    if (dp_table_builder_add_zone(b, apex, apex_len, 0, soa, soa_len, err, sizeof(err)) != 0)
        fail(err);
}

/* The reply's rcode and answer count for (`name`, `qtype`). */
static void ask(const dp_table *t, const uint8_t *name, size_t len, uint16_t qtype, int *rcode,
                int *ancount) {
    uint8_t query[300] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(query + 12, name, len);
    const uint8_t tail[] = {(uint8_t)(qtype >> 8), (uint8_t)qtype, 0, 1};
    memcpy(query + 12 + len, tail, sizeof(tail));
    uint8_t reply[65535];
    if (dp_query_answer(t, query, 12 + len + sizeof(tail), reply, sizeof(reply), DP_TCP) < 12)
        fail("no reply");
    *rcode = reply[3] & 0x0F;
    *ancount = reply[6] << 8 | reply[7];
}

/* dp_table_builder_add_pointers writes the PTR name of an address (RFC
 * 1035 §3.5, RFC 3596 §2.5), and refuses what is not an address and its
 * targets. */
static void pointers_are_written_at_the_name_of_their_address(void) {
    static const uint8_t in_addr[] = "\7in-addr\4arpa";
    static const uint8_t ip6[] = "\3ip6\4arpa";
    static const uint8_t two[] = "\3web\2ns\0\2db\2ns";
    static const uint8_t v4[] = {10, 0, 1, 2};
    const uint8_t v6[16] = {0xfd, 0, [15] = 0xab};
    char err[256] = "";
    dp_table_builder *b = dp_table_builder_new();
    add_reverse_zone(b, in_addr, sizeof(in_addr));
    add_reverse_zone(b, ip6, sizeof(ip6));
    if (dp_table_builder_add_pointers(b, v4, 4, two, sizeof(two), 2, 30, err, sizeof(err)) != 0)
        fail(err);
    if (dp_table_builder_add_pointers(b, v6, 16, two, 8, 1, 30, err, sizeof(err)) != 0) fail(err);

    struct {
        size_t address_len, targets_len;
        const uint8_t *targets;
        uint16_t count;
        const char *reason;
    } refused[] = {
        {5, sizeof(two), two, 2, "an address of 5 bytes"},
        {4, sizeof(two), two, 3, "2 PTR targets, not 3"},
        {4, sizeof(two), two, 0, "without records"},
        {4, sizeof(two) - 1, two, 2, "PTR target 1 is not a wire name"},
        {4, 2, (const uint8_t *)"\100a", 1, "PTR target 0 is not a wire name"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        err[0] = 0;
        if (dp_table_builder_add_pointers(b, v4, refused[i].address_len, refused[i].targets,
                                          refused[i].targets_len, refused[i].count, 30, err,
                                          sizeof(err)) == 0 ||
            strstr(err, refused[i].reason) == NULL) {
            fprintf(stderr, "table_builder_test: wanted \"%s\", got \"%s\"\n", refused[i].reason,
                    err);
            exit(1);
        }
    }

    dp_table *t = dp_table_builder_finish(b, err, sizeof(err));
    if (t == NULL) fail(err);
    static const uint8_t v4_name[] = "\0012\0011\0010\00210\7in-addr\4arpa";
    uint8_t v6_name[64 + sizeof(ip6)];
    for (int i = 0; i < 32; i++) {
        uint8_t byte = v6[15 - i / 2];
        v6_name[2 * i] = 1;
        v6_name[2 * i + 1] = (uint8_t)"0123456789abcdef"[i % 2 == 0 ? byte & 0x0F : byte >> 4];
    }
    memcpy(v6_name + 64, ip6, sizeof(ip6));
    int rcode, ancount;
    ask(t, v4_name, sizeof(v4_name), 12, &rcode, &ancount);
    if (rcode != 0 || ancount != 2) fail("an IPv4 address's PTR name lacks its two records");
    ask(t, v4_name, sizeof(v4_name), 255, &rcode, &ancount);
    if (rcode != 0 || ancount != 2) fail("ANY at a PTR name is not its PTR records");
    ask(t, v4_name, sizeof(v4_name), 1, &rcode, &ancount);
    if (rcode != 0 || ancount != 0) fail("A at a PTR name is not NODATA");
    ask(t, v6_name, sizeof(v6_name), 12, &rcode, &ancount);
    if (rcode != 0 || ancount != 1) fail("an IPv6 address's PTR name lacks its record");
    dp_table_free(t);
}

int main(void) {
    a_name_in_two_builders_is_refused();
    a_delta_is_one_builder();
    an_unpublished_delta_frees_only_its_own_shards();
    pointers_are_written_at_the_name_of_their_address();
    printf("table_builder_test: passed\n");
    return 0;
}
