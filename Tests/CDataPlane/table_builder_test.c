/*
 * table_builder_test.c — what the table builders refuse, and who frees a
 * delta's shards, under AddressSanitizer (which also fails the run on a
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

int main(void) {
    a_name_in_two_builders_is_refused();
    a_delta_is_one_builder();
    an_unpublished_delta_frees_only_its_own_shards();
    printf("table_builder_test: passed\n");
    return 0;
}
