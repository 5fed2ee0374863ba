/*
 * table_directory.c — a table's shard directory (its shard pointers and
 * the views lookups read) in one block, and the one spare directory kept
 * for the next delta.
 *
 * Every delta starts as a copy of its base's directory: 512 KiB at 16,384
 * shards (100,000 Services). A block that large is mapped on its own
 * (dp_tune_malloc), and a fresh mapping costs a page fault for every
 * 4 KiB written: 140 faults and about 0.3 ms an update. The directory of
 * the table a delta replaced is freed just before the next delta is built,
 * and has the size that delta needs: it is kept for it instead.
 */
#include "dp_internal.h"

#include <stddef.h>
#include <stdlib.h>

typedef struct directory {
    uint32_t shard_count;
    dp_shard *shards[]; /* then shard_count views */
} directory;

/* Any thread may free a table; the next delta takes what the last left. */
static _Atomic(directory *) spare;

static directory *directory_of(const dp_table *t) {
    return (directory *)((uint8_t *)t->shards - offsetof(directory, shards));
}

static size_t directory_bytes(uint32_t shard_count) {
    return sizeof(directory) + shard_count * (sizeof(dp_shard *) + sizeof(dp_shard_view));
}

bool dp_table_directory_new(dp_table *t, uint32_t shard_count, const dp_table *base) {
    directory *d = atomic_exchange(&spare, NULL);
    if (d != NULL && d->shard_count != shard_count) {
        free(d);
        d = NULL;
    }
    if (d == NULL) d = malloc(directory_bytes(shard_count));
    if (d == NULL) return false;
    d->shard_count = shard_count;
    t->shards = d->shards;
    t->views = (dp_shard_view *)(d->shards + shard_count);
    t->shard_count = shard_count;
    if (base != NULL) {
        memcpy(t->shards, base->shards, shard_count * sizeof(dp_shard *));
        memcpy(t->views, base->views, shard_count * sizeof(dp_shard_view));
    } else {
        memset(t->shards, 0, shard_count * sizeof(dp_shard *));
        memset(t->views, 0, shard_count * sizeof(dp_shard_view));
    }
    return true;
}

void dp_table_directory_free(dp_table *t) {
    if (t->shards == NULL) return;
    free(atomic_exchange(&spare, directory_of(t)));
    t->shards = NULL;
    t->views = NULL;
}
