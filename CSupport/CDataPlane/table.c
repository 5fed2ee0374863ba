/*
 * table.c — reading the answer table: name hashes, lookups through the
 * shards, the zone of a name; and freeing a table with its hold on its
 * shards. Building is in table_builder.c.
 */
#include "dp_internal.h"

#include <stdlib.h>

/* ---- Names --------------------------------------------------------- */

uint32_t dp_name_hash(const uint8_t *name, size_t len) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, name + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    if (i < len) {
        uint64_t w = 0;
        memcpy(&w, name + i, len - i);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

const dp_slot *dp_shard_probe(const dp_shard_view *v, size_t start, uint32_t hash) {
    for (size_t i = start == v->slot_count ? 0 : start;; i = i + 1 == v->slot_count ? 0 : i + 1) {
        const dp_slot *slot = &v->slots[i];
        if (slot->offset == 0) return NULL;
        if (slot->hash == hash) return slot;
    }
}

bool dp_record_is(const dp_table *t, const dp_record *r, const uint8_t *name, size_t len) {
    const dp_zone *z = &t->zones[r->zone];
    return r->name_len + z->apex_len == len && memcmp(dp_record_name(r), name, r->name_len) == 0 &&
           memcmp(name + r->name_len, z->apex, z->apex_len) == 0;
}

const dp_record *dp_table_find(const dp_table *t, const uint8_t *name, size_t len, uint32_t hash) {
    const dp_shard_view *v = dp_table_view(t, hash);
    for (const dp_slot *slot = dp_shard_probe(v, dp_slot_start(v->slot_count, hash), hash);
         slot != NULL; slot = dp_shard_probe(v, (size_t)(slot - v->slots) + 1, hash)) {
        const dp_record *r = (const dp_record *)(v->records + slot->offset - 1);
        if (dp_record_is(t, r, name, len)) return r;
    }
    return NULL;
}

const dp_zone *dp_table_zone_of(const dp_table *t, const uint8_t *name, size_t len,
                                const uint8_t *label_offsets, unsigned labels) {
    for (unsigned i = 0; i < t->zone_count; i++) {
        const dp_zone *z = &t->zones[i];
        if (labels < z->apex_labels) continue;
        size_t start = z->apex_labels == 0 ? len - 1 : label_offsets[labels - z->apex_labels];
        if (len - start == z->apex_len && memcmp(name + start, z->apex, z->apex_len) == 0) return z;
    }
    return NULL;
}

void dp_table_free(dp_table *t) {
    if (t == NULL) return;
    for (uint32_t i = 0; t->shards != NULL && i < t->shard_count; i++)
        if (t->fresh == NULL || t->fresh[i]) free(t->shards[i]);
    free(t->fresh);
    dp_table_directory_free(t);
    dp_arena_free(&t->arena);
    free(t);
}

void dp_table_retire(dp_table *old, dp_table *next) {
    if (old == NULL) return;
    if (next->fresh != NULL) {
        /* A delta of another table would share shards this frees. */
        if (next->base != old || old->fresh != NULL) abort();
        for (uint32_t i = 0; i < old->shard_count; i++)
            if (old->shards[i] == next->shards[i]) old->shards[i] = NULL;
        free(next->fresh);
        next->fresh = NULL;
        next->base = NULL;
    }
    dp_table_free(old);
}

size_t dp_table_name_count(const dp_table *t) { return t->name_count; }
size_t dp_table_answer_count(const dp_table *t) { return t->answer_count; }
size_t dp_table_bytes(const dp_table *t) { return t->bytes; }
