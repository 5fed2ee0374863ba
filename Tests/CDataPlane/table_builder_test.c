/*
 * table_builder_test.c — what the table builders refuse, who frees a
 * delta's shards, PTR names kept as their targets and addresses kept as
 * such (their replies' bytes and sizes too), and names kept without their zone's apex, under
 * AddressSanitizer (which also fails the run on a leak, a double free or
 * a read of freed memory).
 */
#include "dp_internal.h"
#include "fixture_table.h"

#include <stdbool.h>
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
    static const uint8_t rdata[] = {2,  'n', 's', 0, 2, 'h', 'm', 0, 0,  0,   0, 1, 0, 0,
                                    28, 32,  0,   0, 7, 8,   0,   1, 81, 128, 0, 0, 0, 30};
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

/* Gives `name` PTR records to `targets`, with a TTL of 30. */
static void add_ptr(dp_table_builder *b, const uint8_t *name, size_t len, const uint8_t *targets,
                    size_t targets_len) {
    char err[256] = "";
    if (dp_table_builder_add_ptr_records(b, name, len, targets, targets_len, 30, err,
                                         sizeof(err)) != 0)
        fail(err);
}

/* The table `b` makes, which must make one. */
static dp_table *finished(dp_table_builder *b) {
    char err[256] = "";
    dp_table *t = dp_table_builder_finish(b, err, sizeof(err));
    if (t == NULL) fail(err);
    return t;
}

/* The reply over `transport` to (`name`, `qtype`), without EDNS: its
 * length, rcode, answer count, and whether it is truncated. */
static size_t ask_over(const dp_table *t, int transport, const uint8_t *name, size_t len,
                       uint16_t qtype, int *rcode, int *ancount, bool *truncated) {
    uint8_t query[300] = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(query + 12, name, len);
    const uint8_t tail[] = {(uint8_t)(qtype >> 8), (uint8_t)qtype, 0, 1};
    memcpy(query + 12 + len, tail, sizeof(tail));
    static uint8_t reply[65535];
    size_t reply_len =
        dp_query_answer(t, query, 12 + len + sizeof(tail), reply, sizeof(reply), transport);
    if (reply_len < 12) fail("no reply");
    *rcode = reply[3] & 0x0F;
    *ancount = reply[6] << 8 | reply[7];
    *truncated = (reply[2] & 0x02) != 0;
    return reply_len;
}

/* The reply over `transport` to (`name`, `qtype`) with query ID `id`,
 * without EDNS, into `reply`; its length. */
static size_t reply_to(const dp_table *t, int transport, const uint8_t *name, size_t len,
                       uint16_t qtype, uint16_t id, uint8_t *reply, size_t cap) {
    uint8_t query[300] = {(uint8_t)(id >> 8), (uint8_t)id, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(query + 12, name, len);
    const uint8_t tail[] = {(uint8_t)(qtype >> 8), (uint8_t)qtype, 0, 1};
    memcpy(query + 12 + len, tail, sizeof(tail));
    return dp_query_answer(t, query, 12 + len + sizeof(tail), reply, cap, transport);
}

/* The reply's rcode and answer count for (`name`, `qtype`), over TCP. */
static void ask(const dp_table *t, const uint8_t *name, size_t len, uint16_t qtype, int *rcode,
                int *ancount) {
    bool truncated;
    ask_over(t, DP_TCP, name, len, qtype, rcode, ancount, &truncated);
}

/* Whether filler n<i> answers its A query in `t`. */
static bool has_filler(const dp_table *t, int i) {
    uint8_t name[256];
    int rcode, ancount;
    ask(t, name, fixture_filler_name(i, name), 1, &rcode, &ancount);
    if (rcode != 0 && rcode != 3) fail("a filler got neither an answer nor NXDOMAIN");
    return rcode == 0 && ancount == 1;
}

/* A delta that leaves its base's shards crowded is laid out in more of
 * them, and one that leaves them sparse in fewer, every shard its own (a
 * table grown by deltas would otherwise rebuild thousands of names for
 * each shard a delta touches): every name is still found, and publishing
 * it frees its base whole. A delta within bounds shares its base's shards. */
static void a_delta_that_grows_or_shrinks_the_table_lays_it_out_anew(void) {
    dp_table *small = finished(fixture_fillers(0, 100));
    if (small->shard_count != 16) fail("100 names are not in 16 shards");
    dp_table *grown = fixture_filler_delta(small, 100, 4000, 0, 0);
    if (grown->shard_count != 64 || grown->fresh != NULL)
        fail("4,100 names were not laid out in 64 shards anew");
    if (dp_table_name_count(grown) != 4100) fail("a grown table lost names");
    if (!has_filler(grown, 0) || !has_filler(grown, 99) || !has_filler(grown, 4099) ||
        has_filler(grown, 4100))
        fail("a grown table answers other names than its own");
    dp_table *touched = fixture_filler_delta(grown, 5000, 1, 0, 0);
    if (touched->shard_count != 64 || touched->fresh == NULL)
        fail("a small delta did not share its base's shards");
    dp_table_free(touched);
    dp_table_retire(small, grown);

    dp_table *shrunk = fixture_filler_delta(grown, 0, 0, 0, 4000);
    if (shrunk->shard_count != 16 || shrunk->fresh != NULL)
        fail("100 names left were not laid out in 16 shards anew");
    if (dp_table_name_count(shrunk) != 100) fail("a shrunk table has other names than those left");
    if (has_filler(shrunk, 0) || has_filler(shrunk, 3999) || !has_filler(shrunk, 4000) ||
        !has_filler(shrunk, 4099))
        fail("a shrunk table answers other names than those left");
    dp_table_retire(grown, shrunk);
    dp_table_free(shrunk);
}

/* A delta of many names, several in each shard it touches and given in
 * no shard's order, still in its base's shards: each of those shards is
 * laid out once with all of its names, and the others are shared. */
static void a_delta_lays_out_each_shard_it_touches_once_with_all_its_names(void) {
    dp_table *base = finished(fixture_fillers(0, 2000));
    dp_table *delta = fixture_filler_delta(base, 2000, 300, 0, 100);
    if (delta->shard_count != base->shard_count || delta->fresh == NULL)
        fail("a delta of 400 names in 2,000 did not stay in its base's shards");
    if (dp_table_name_count(delta) != 2200) fail("a delta of many names miscounted them");
    for (int i = 0; i < 100; i++)
        if (has_filler(delta, i)) fail("a name a delta of many names removed still answers");
    for (int i = 100; i < 2300; i++)
        if (!has_filler(delta, i)) fail("a name is missing after a delta of many names");
    dp_table_retire(base, delta);
    dp_table_free(delta);
}

/* Whether every reply of `names` (given as n<i>) to `types` is the same
 * from `a` and `b`, byte for byte. */
static bool same_replies(const dp_table *a, const dp_table *b, const uint8_t *const names[],
                         const size_t lens[], size_t count) {
    static const uint16_t types[] = {1, 6, 12, 16, 28, 33, 99, 255};
    static uint8_t from_a[65535], from_b[65535];
    for (size_t i = 0; i < count; i++)
        for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++) {
            size_t want =
                reply_to(a, DP_TCP, names[i], lens[i], types[k], 7, from_a, sizeof(from_a));
            size_t got =
                reply_to(b, DP_TCP, names[i], lens[i], types[k], 7, from_b, sizeof(from_b));
            if (want == 0 || got != want || memcmp(from_a, from_b, want) != 0) return false;
        }
    return true;
}

/* A TXT RR of `name` holding "n<i>". */
static size_t txt_rr(uint8_t *rr, const uint8_t *name, size_t len, int i) {
    memcpy(rr, name, len);
    char text[16];
    int text_len = snprintf(text, sizeof(text), "n%d", i);
    const uint8_t fields[] = {
        0, 16, 0, 1, 0, 0, 0, 30, 0, (uint8_t)(text_len + 1), (uint8_t)text_len};
    memcpy(rr + len, fields, sizeof(fields));
    memcpy(rr + len + sizeof(fields), text, (size_t)text_len);
    return len + sizeof(fields) + (size_t)text_len;
}

/* fixture_fillers(0, 600), with TXT and type 99 sharing one reply for
 * every third name. */
static dp_table *fillers_with_shared_replies(void) {
    char err[256] = "";
    dp_table_builder *b = fixture_fillers(0, 600);
    uint8_t name[256], rr[300];
    for (int i = 0; i < 600; i += 3) {
        size_t len = fixture_filler_name(i, name), rr_len = txt_rr(rr, name, len, i);
        if (dp_table_builder_add_answer(b, name, len, 16, 0, rr, rr_len, 1, 0, 0, err,
                                        sizeof(err)) != 0 ||
            dp_table_builder_add_answer(b, name, len, 99, 0, rr, rr_len, 1, 0, 0, err,
                                        sizeof(err)) != 0)
            fail(err);
    }
    return finished(b);
}

/* A delta copies the records of the shards it lays out again that it
 * leaves alone, with the replies they keep: once it is published and the
 * shards it replaced are freed, every reply of the base's names is the
 * same from it as from a copy of the base, byte for byte. Among them,
 * names with two types sharing one kept reply, an RRset of PTR targets or
 * addresses, NODATA, and 40 A records. */
static void a_delta_keeps_the_replies_of_the_names_it_leaves_alone(void) {
    static uint8_t filler_names[600][32];
    const uint8_t *names[600];
    size_t lens[600];
    for (int i = 0; i < 600; i++) {
        lens[i] = fixture_filler_name(i, filler_names[i]);
        names[i] = filler_names[i];
    }
    static const uint8_t web[] = "\3web\2ns\3svc\7cluster\5local",
                         ptr[] = "\3ptr\2ns\3svc\7cluster\5local",
                         addr[] = "\4addr\2ns\3svc\7cluster\5local",
                         addr6[] = "\5addr6\2ns\3svc\7cluster\5local", apex[] = "\7cluster\5local";
    const uint8_t *const fixed[] = {web, ptr, addr, addr6, apex};
    const size_t fixed_lens[] = {sizeof(web), sizeof(ptr), sizeof(addr), sizeof(addr6),
                                 sizeof(apex)};
    for (int k = 0; k < 2; k++) {
        dp_table *copy = k == 0 ? fillers_with_shared_replies() : fixture_table(1);
        dp_table *base = k == 0 ? fillers_with_shared_replies() : fixture_table(1);
        dp_table *delta = fixture_filler_delta(base, 1000, 600, 0, 0);
        for (uint32_t s = 0; s < delta->shard_count; s++)
            if (delta->fresh == NULL || !delta->fresh[s])
                fail("a delta of 600 names left one of 16 shards alone");
        dp_table_retire(base, delta);
        if (!same_replies(copy, delta, names, lens, 600) ||
            !same_replies(copy, delta, fixed, fixed_lens, 5))
            fail("a name a delta left alone answers otherwise after it");
        dp_table_free(delta);
        dp_table_free(copy);
    }
}

/* Deltas published one after another: each takes the directory its base's
 * base let go when the base was published (table_directory.c), a copy of
 * its own base's; and the last answers every name any of them added. */
static void each_delta_takes_the_directory_the_last_publication_let_go(void) {
    dp_table *current = finished(fixture_fillers(0, 2000));
    dp_table *next = fixture_filler_delta(current, 2000, 1, 0, 0);
    for (int i = 1; i <= 20; i++) {
        dp_shard **freed = current->shards;
        dp_table_retire(current, next);
        current = next;
        next = fixture_filler_delta(current, 2000 + i, 1, 0, 0);
        if (next->shards != freed)
            fail("a delta did not take the directory its base's base let go");
    }
    dp_table_retire(current, next);
    if (dp_table_name_count(next) != 2021) fail("deltas in a row lost or doubled names");
    for (int i = 0; i < 2021; i += 101)
        if (!has_filler(next, i)) fail("a name of the base is gone after deltas in a row");
    for (int i = 2000; i < 2021; i++)
        if (!has_filler(next, i)) fail("a name a delta added is gone after later deltas");
    if (has_filler(next, 2021)) fail("deltas in a row answer a name never added");
    dp_table_free(next);
}

/* dp_table_builder_add_ptr_records gives a PTR name its records, ANY
 * their answer and other types NODATA, and refuses malformed targets and
 * a name outside the zones. */
static void ptr_records_are_written_from_their_targets(void) {
    static const uint8_t in_addr[] = "\7in-addr\4arpa";
    static const uint8_t two[] = "\3web\2ns\0\2db\2ns";
    static const uint8_t name[] = "\0012\0011\0010\00210\7in-addr\4arpa";
    static const uint8_t outside[] = "\0012\0011\0010\00210\7example";
    char err[256] = "";
    dp_table_builder *b = dp_table_builder_new();
    add_reverse_zone(b, in_addr, sizeof(in_addr));
    add_ptr(b, name, sizeof(name), two, sizeof(two));

    struct {
        const uint8_t *name;
        size_t name_len, targets_len;
        const uint8_t *targets;
        const char *reason;
    } refused[] = {
        {name, sizeof(name), 0, two, "0 PTR records for one name"},
        {name, sizeof(name), sizeof(two) - 1, two, "PTR target 1 is not a wire name"},
        {name, sizeof(name), 2, (const uint8_t *)"\100a", "PTR target 0 is not a wire name"},
        {outside, sizeof(outside), sizeof(two), two, "is not a lower-case name in any zone"},
    };
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        err[0] = 0;
        if (dp_table_builder_add_ptr_records(b, refused[i].name, refused[i].name_len,
                                             refused[i].targets, refused[i].targets_len, 30, err,
                                             sizeof(err)) == 0 ||
            strstr(err, refused[i].reason) == NULL) {
            fprintf(stderr, "table_builder_test: wanted \"%s\", got \"%s\"\n", refused[i].reason,
                    err);
            exit(1);
        }
    }

    dp_table *t = finished(b);
    int rcode, ancount;
    ask(t, name, sizeof(name), 12, &rcode, &ancount);
    if (rcode != 0 || ancount != 2) fail("a PTR name lacks its two records");
    ask(t, name, sizeof(name), 255, &rcode, &ancount);
    if (rcode != 0 || ancount != 2) fail("ANY at a PTR name is not its PTR records");
    ask(t, name, sizeof(name), 1, &rcode, &ancount);
    if (rcode != 0 || ancount != 0) fail("A at a PTR name is not NODATA");
    dp_table_free(t);
}

/* A target that ends with a zone's apex is kept less that apex, and a
 * reply writes it whole again, as it writes one outside the zones. */
static void ptr_targets_in_a_zone_are_written_whole(void) {
    static const uint8_t in_addr[] = "\7in-addr\4arpa";
    static const uint8_t cluster[] = "\7cluster\5local";
    static const uint8_t targets[] = "\3web\2ns\3svc\7cluster\5local\0\1x\7example";
    static const uint8_t name[] = "\0014\0013\0012\00210\7in-addr\4arpa";
    dp_table_builder *b = dp_table_builder_new();
    add_reverse_zone(b, cluster, sizeof(cluster));
    add_reverse_zone(b, in_addr, sizeof(in_addr));
    add_ptr(b, name, sizeof(name), targets, sizeof(targets));
    dp_table *t = finished(b);
    static uint8_t reply[65535];
    size_t len = reply_to(t, DP_TCP, name, sizeof(name), 12, 1, reply, sizeof(reply));
    size_t at = 12 + sizeof(name) + 4, first = sizeof(cluster) + 11,
           second = sizeof(targets) - first;
    if (len != at + 12 + first + 12 + second ||
        (size_t)(reply[at + 10] << 8 | reply[at + 11]) != first ||
        memcmp(reply + at + 12, targets, first) != 0 ||
        memcmp(reply + at + 12 + first + 12, targets + first, second) != 0)
        fail("PTR targets were not written whole");
    dp_table_free(t);
}

/* PTR records kept as targets make replies of any size as kept replies
 * do: over UDP without EDNS, more than 512 bytes is truncated (TC, the
 * whole records that fit: 39 bytes of header and question, 112 a record,
 * 4 of them); over TCP, all of them, unless they exceed a TCP message,
 * when only those that fit are kept. */
static void many_ptr_records_are_truncated_and_cut(void) {
    static const uint8_t in_addr[] = "\7in-addr\4arpa";
    static const uint8_t few_name[] = "\0011\0010\0010\00210\7in-addr\4arpa";
    static const uint8_t all_name[] = "\0012\0010\0010\00210\7in-addr\4arpa";
    /* 700 targets of 100 bytes: 78,400 bytes of records. */
    static uint8_t targets[700 * 100];
    for (size_t i = 0; i < 700; i++) {
        uint8_t *target = targets + i * 100;
        target[0] = 63;
        memset(target + 1, 'a' + (int)(i % 26), 63);
        target[64] = 34;
        snprintf((char *)target + 65, 35, "%034zu", i);
        target[99] = 0;
    }
    dp_table_builder *b = dp_table_builder_new();
    add_reverse_zone(b, in_addr, sizeof(in_addr));
    add_ptr(b, few_name, sizeof(few_name), targets, 600);
    add_ptr(b, all_name, sizeof(all_name), targets, sizeof(targets));
    dp_table *t = finished(b);
    int rcode, ancount;
    bool truncated;
    size_t udp = ask_over(t, DP_UDP, few_name, sizeof(few_name), 12, &rcode, &ancount, &truncated);
    if (rcode != 0 || ancount != 4 || !truncated || udp != 39 + 4 * 112)
        fail("6 PTR records (711 bytes) were not cut to the 4 a UDP reply holds, with TC");
    ask_over(t, DP_TCP, few_name, sizeof(few_name), 12, &rcode, &ancount, &truncated);
    if (rcode != 0 || ancount != 6 || truncated) fail("6 PTR records are not all in a TCP reply");
    /* 39 bytes of header and question, 112 a record: 584 fit with room for OPT. */
    size_t len = ask_over(t, DP_TCP, all_name, sizeof(all_name), 255, &rcode, &ancount, &truncated);
    if (rcode != 0 || ancount != 584 || truncated || len != 39 + 584 * 112)
        fail("700 PTR records were not cut to the 584 a TCP message holds");
    dp_table_free(t);
}

/* A table of `name` in zone `apex` with `count` A records of TTL 30 and
 * nothing else: kept as a reply (add_answer, add_name, answer_any_as), or
 * as addresses (add_address_records). */
static dp_table *addresses_table(const uint8_t *apex, size_t apex_len, const uint8_t *name,
                                 size_t len, size_t count, bool as_addresses) {
    char err[256] = "";
    static uint8_t addresses[4096 * 4], rrs[4096 * (255 + 14)];
    size_t rrs_len = 0;
    for (size_t i = 0; i < count; i++) {
        const uint8_t address[] = {10, 100, (uint8_t)(i >> 8), (uint8_t)i};
        memcpy(addresses + 4 * i, address, 4);
        const uint8_t fields[] = {0, 1, 0, 1, 0, 0, 0, 30, 0, 4};
        memcpy(rrs + rrs_len, name, len);
        memcpy(rrs + rrs_len + len, fields, sizeof(fields));
        memcpy(rrs + rrs_len + len + sizeof(fields), address, 4);
        rrs_len += len + sizeof(fields) + 4;
    }
    dp_table_builder *b = dp_table_builder_new();
    add_reverse_zone(b, apex, apex_len);
    int status = as_addresses
                     ? dp_table_builder_add_address_records(b, name, len, 1, addresses, count, 30,
                                                            err, sizeof(err))
                     : dp_table_builder_add_answer(b, name, len, 1, 0, rrs, rrs_len,
                                                   (uint16_t)count, 0, 0, err, sizeof(err)) |
                           dp_table_builder_add_name(b, name, len, err, sizeof(err)) |
                           dp_table_builder_answer_any_as(b, name, len, 1, err, sizeof(err));
    if (status != 0) fail(err);
    return finished(b);
}

/* A name's A records kept as addresses answer byte for byte as the same
 * records kept as a reply do: every type, both transports, the records
 * turned by the query's ID. Wrong types and no addresses are refused. */
static void address_records_answer_as_a_kept_reply_does(void) {
    static const uint8_t zone[] = "clusterlocal";
    static const uint8_t name[] = "webnssvcclusterlocal";
    char err[256] = "";
    static uint8_t kept_reply[65535], reply[65535];
    for (size_t count = 1; count <= 40; count += 13) {
        dp_table *kept = addresses_table(zone, sizeof(zone), name, sizeof(name), count, false);
        dp_table *made = addresses_table(zone, sizeof(zone), name, sizeof(name), count, true);
        const uint16_t types[] = {1, 28, 255, 16};
        for (size_t k = 0; k < sizeof(types) / sizeof(types[0]); k++)
            for (int transport = DP_UDP; transport <= DP_TCP; transport++)
                for (uint16_t id = 0; id < 50; id += 7) {
                    size_t want = reply_to(kept, transport, name, sizeof(name), types[k], id,
                                           kept_reply, sizeof(kept_reply));
                    size_t got = reply_to(made, transport, name, sizeof(name), types[k], id, reply,
                                          sizeof(reply));
                    if (want == 0 || got != want || memcmp(reply, kept_reply, want) != 0) {
                        fprintf(stderr,
                                "table_builder_test: %zu addresses, type %u, transport %d, ID %u: "
                                "the reply (%zu bytes) is not the kept reply (%zu bytes)\n",
                                count, types[k], transport, id, got, want);
                        exit(1);
                    }
                }
        dp_table_free(kept);
        dp_table_free(made);
    }

    dp_table_builder *b = dp_table_builder_new();
    add_reverse_zone(b, zone, sizeof(zone));
    static const uint8_t address[16] = {10, 0, 0, 1};
    if (dp_table_builder_add_address_records(b, name, sizeof(name), 16, address, 1, 30, err,
                                             sizeof(err)) == 0 ||
        strstr(err, "type 16 records are not addresses") == NULL)
        fail("TXT records were taken as addresses");
    if (dp_table_builder_add_address_records(b, name, sizeof(name), 1, address, 0, 30, err,
                                             sizeof(err)) == 0 ||
        strstr(err, "no addresses") == NULL)
        fail("a name was given no addresses");
    dp_table_builder_free(b);
}

/* Addresses beyond what a TCP reply holds are not kept: of 4,096 A
 * records, those that fit with OPT beside the header and question. */
static void many_address_records_are_cut(void) {
    static const uint8_t zone[] = "clusterlocal";
    static const uint8_t name[] = "webnssvcclusterlocal";
    dp_table *t = addresses_table(zone, sizeof(zone), name, sizeof(name), 4096, true);
    int rcode, ancount;
    bool truncated;
    size_t len = ask_over(t, DP_TCP, name, sizeof(name), 1, &rcode, &ancount, &truncated);
    size_t fit = (65535 - 11 - 12 - sizeof(name) - 4) / 16;
    if (rcode != 0 || (size_t)ancount != fit || truncated ||
        len != 12 + sizeof(name) + 4 + fit * 16)
        fail("4,096 A records were not cut to those a TCP message holds");
    /* Over UDP without EDNS: the 16-byte records that fit in 512, and TC. */
    ask_over(t, DP_UDP, name, sizeof(name), 1, &rcode, &ancount, &truncated);
    if (rcode != 0 || (size_t)ancount != (512 - 12 - sizeof(name) - 4) / 16 || !truncated)
        fail("4,096 A records were not cut to those a UDP reply holds, with TC");
    dp_table_free(t);
}

/* A record keeps its name less its zone's apex, and which zone: the same
 * labels in two zones are two names, each with its own answers. */
static void the_same_labels_in_two_zones_are_two_names(void) {
    static const uint8_t in_addr[] = "\7in-addr\4arpa";
    static const uint8_t ip6[] = "\3ip6\4arpa";
    static const uint8_t in_v4[] = "\0017\7in-addr\4arpa";
    static const uint8_t in_v6[] = "\0017\3ip6\4arpa";
    static const uint8_t one[] = "\3web\2ns";
    static const uint8_t two[] = "\3web\2ns\0\2db\2ns";
    dp_table_builder *b = dp_table_builder_new();
    add_reverse_zone(b, in_addr, sizeof(in_addr));
    add_reverse_zone(b, ip6, sizeof(ip6));
    add_ptr(b, in_v4, sizeof(in_v4), one, sizeof(one));
    add_ptr(b, in_v6, sizeof(in_v6), two, sizeof(two));
    dp_table *t = finished(b);
    int rcode, ancount;
    ask(t, in_v4, sizeof(in_v4), 12, &rcode, &ancount);
    if (rcode != 0 || ancount != 1) fail("7.in-addr.arpa lost its record");
    ask(t, in_v6, sizeof(in_v6), 12, &rcode, &ancount);
    if (rcode != 0 || ancount != 2) fail("7.ip6.arpa lost its records");
    dp_table_free(t);
}

/* Records name their zone by its index in the table, so a delta keeps its
 * base's zones, and builders laid out together have the same zones. */
static void a_table_s_zones_are_those_of_its_records(void) {
    static const uint8_t in_addr[] = "\7in-addr\4arpa";
    char err[256] = "";
    dp_table *base = fixture_table(1);
    dp_table_builder *delta = dp_table_builder_new_delta(base);
    add_reverse_zone(delta, in_addr, sizeof(in_addr));
    if (dp_table_builder_finish(delta, err, sizeof(err)) != NULL)
        fail("a delta with zones other than its base's made a table");
    if (strstr(err, "zones other than its base's") == NULL) fail(err);
    dp_table_free(base);

    dp_table_builder *other = fixture_fillers(10, 1);
    add_reverse_zone(other, in_addr, sizeof(in_addr));
    dp_table_builder *two[] = {fixture_fillers(0, 1), other};
    if (dp_table_builders_finish(two, 2, err, sizeof(err)) != NULL)
        fail("builders with different zones made a table");
    if (strstr(err, "different zones") == NULL) fail(err);
}

/* Whether a builder refuses `soa` (of `len` bytes) as a zone's SOA. */
static bool soa_is_refused(const uint8_t *soa, size_t len) {
    static const uint8_t apex[] = {3, 's', 'v', 'c', 0};
    char err[256] = "";
    dp_table_builder *b = dp_table_builder_new();
    int status = dp_table_builder_add_zone(b, apex, sizeof(apex), 1, soa, len, err, sizeof(err));
    dp_table_builder_free(b);
    if (status != 0 && strstr(err, "not one wire SOA record") == NULL) fail(err);
    return status != 0;
}

/* A zone's SOA is one uncompressed wire SOA record, or refused: every
 * cut of a good one, another type, an RDLENGTH one off, a byte after it,
 * a compression pointer or a label over 63 bytes in MNAME. */
static void a_zone_s_soa_is_checked(void) {
    static const uint8_t good[] = {3,  's', 'v', 'c', 0, 0,   6,   0,  1,   0, 0, 0, 30, 0, 28,
                                   2,  'n', 's', 0,   2, 'h', 'm', 0,  0,   0, 0, 1, 0,  0, 28,
                                   32, 0,   0,   7,   8, 0,   1,   81, 128, 0, 0, 0, 30};
    if (soa_is_refused(good, sizeof(good))) fail("a good SOA was refused");
    for (size_t len = 0; len < sizeof(good); len++)
        if (!soa_is_refused(good, len)) fail("a cut SOA was taken");
    /* Offset and value of each change: type NS, RDLENGTH 27, a pointer, a 64-byte label. */
    static const struct {
        size_t at;
        uint8_t value;
    } changes[] = {{6, 2}, {14, 27}, {15, 0xC0}, {15, 64}};
    uint8_t bad[sizeof(good) + 1];
    for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
        memcpy(bad, good, sizeof(good));
        bad[changes[i].at] = changes[i].value;
        if (!soa_is_refused(bad, sizeof(good))) fail("a malformed SOA was taken");
    }
    memcpy(bad, good, sizeof(good));
    bad[sizeof(good)] = 0;
    if (!soa_is_refused(bad, sizeof(good) + 1)) fail("an SOA with a byte after it was taken");
}

int main(void) {
    a_name_in_two_builders_is_refused();
    a_delta_is_one_builder();
    an_unpublished_delta_frees_only_its_own_shards();
    a_delta_that_grows_or_shrinks_the_table_lays_it_out_anew();
    a_delta_lays_out_each_shard_it_touches_once_with_all_its_names();
    a_delta_keeps_the_replies_of_the_names_it_leaves_alone();
    each_delta_takes_the_directory_the_last_publication_let_go();
    ptr_records_are_written_from_their_targets();
    many_ptr_records_are_truncated_and_cut();
    ptr_targets_in_a_zone_are_written_whole();
    the_same_labels_in_two_zones_are_two_names();
    address_records_answer_as_a_kept_reply_does();
    many_address_records_are_cut();
    a_table_s_zones_are_those_of_its_records();
    a_zone_s_soa_is_checked();
    printf("table_builder_test: passed\n");
    return 0;
}
