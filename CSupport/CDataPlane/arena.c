/*
 * arena.c — the memory of one table: many small allocations, freed at once
 * when the table is reclaimed.
 */
#include "dp_internal.h"

#include <stdio.h>
#include <stdlib.h>

/* A delta's arenas hold a few names and answers, a whole table's many
 * megabytes: blocks start small and double, up to the largest. */
#define DP_ARENA_FIRST_BLOCK (4 * 1024)
#define DP_ARENA_LARGEST_BLOCK (1024 * 1024)

struct dp_arena_block {
    dp_arena_block *next;
    size_t used;
    size_t cap;
    _Alignas(16) uint8_t data[];
};

void *dp_arena_alloc(dp_arena *a, size_t size) {
    size = (size + 15) & ~(size_t)15;
    dp_arena_block *b = a->head;
    if (b == NULL || b->cap - b->used < size) {
        size_t cap = b == NULL ? DP_ARENA_FIRST_BLOCK : b->cap * 2;
        if (cap > DP_ARENA_LARGEST_BLOCK) cap = DP_ARENA_LARGEST_BLOCK;
        if (cap < size) cap = size;
        b = malloc(sizeof(dp_arena_block) + cap);
        if (b == NULL) return NULL;
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += size;
    return p;
}

void *dp_arena_copy(dp_arena *a, const void *data, size_t size) {
    void *p = dp_arena_alloc(a, size);
    if (p != NULL) memcpy(p, data, size);
    return p;
}

void dp_arena_free(dp_arena *a) {
    dp_arena_block *b = a->head;
    while (b != NULL) {
        dp_arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
}
