/*
 * table_delta.c — the C data plane alone making deltas: 23 names of the
 * base replaced at a time, each delta published in its base's place
 * (dp_table_retire frees the shards it replaced), into tables of 56,000
 * names (about what 10,000 Services make) and 500,000. Prints the
 * microseconds per delta, best of five rounds. Build: Benchmarks/README.md.
 */
#include "dp_internal.h"
#include "fixture_table.h"

#include <stdio.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void deltas_into(int names, int deltas) {
    dp_table *current = dp_table_builder_finish(fixture_fillers(0, names), NULL, 0);
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        double start = now();
        for (int i = 0; i < deltas; i++) {
            /* 23 names in a row: as many shards, scattered by their hashes. */
            dp_table *next = fixture_filler_delta(current, (i * 23 * 7) % (names - 30), 23, 0, 0);
            dp_table_retire(current, next);
            current = next;
        }
        double us = (now() - start) * 1e6 / deltas;
        if (us < best) best = us;
    }
    printf("%d names: %.1f us per delta of 23 names (best of 5 rounds of %d)\n", names, best,
           deltas);
    dp_table_free(current);
}

int main(void) {
    deltas_into(56000, 3000);
    deltas_into(500000, 1000);
    return 0;
}
