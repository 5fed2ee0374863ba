/*
 * table_layout.c — laying out a table's shards from its builders' names:
 * every shard for a new table, on two threads; for a delta, only the
 * shards its names fall in, sharing its base's others (see dataplane.h,
 * "Tables").
 */
#include "dp_table_builder.h"

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

/* A name to lay out: from the builder, or a record of a shard it replaces,
 * kept as it is. */
typedef struct source {
    const uint8_t *name; /* its labels above its zone's apex, as in dp_record */
    const dp_answer *answers;
    uint32_t hash;
    uint8_t answer_count;
    uint8_t any_answer; /* as in dp_record */
    uint8_t zone;
    uint8_t name_len;
    uint8_t whole_len;    /* the name's, apex included */
    const uint8_t *rrset; /* a dp_rrset and its rdatas, or NULL */
    size_t rrset_len;
    /* A kept record: copied as it is, and its wires as the one span they
     * make in its shard (lay_out_shard writes a record's wires in a row). */
    const dp_record *kept;
    const uint8_t *span;
    size_t span_len;
} source;

static size_t source_bytes(const source *s) {
    if (s->kept != NULL) return dp_record_bytes(s->kept);
    return dp_record_size(s->answer_count, s->rrset_len, s->name_len);
}

/* The index of an earlier answer with the same wire (see
 * dp_table_builder_add_answer), or `i` when the wire is its own. */
static uint16_t first_with_wire(const source *s, uint16_t i) {
    for (uint16_t k = 0; k < i; k++)
        if (s->answers[k].wire == s->answers[i].wire) return k;
    return i;
}

/* The bytes of a source's distinct wires. */
static size_t wire_bytes(const source *s) {
    if (s->kept != NULL) return s->span_len;
    size_t total = 0;
    for (uint16_t i = 0; i < s->answer_count; i++) {
        const dp_answer *a = &s->answers[i];
        if (a->wire != NULL && first_with_wire(s, i) == i)
            total += (dp_answer_wire_size(a, s->whole_len) + 7) & ~(size_t)7;
    }
    return total;
}

/* Copies a kept record to `r`, and its wires to `wires`, where its answers
 * now point; returns where the next record's wires go. */
static uint8_t *copy_kept(dp_record *r, const source *s, uint8_t *wires) {
    memcpy(r, s->kept, dp_record_bytes(s->kept));
    if (s->span_len == 0) return wires; /* no wires: NODATA, or an RRset */
    memcpy(wires, s->span, s->span_len);
    for (uint8_t j = 0; j < r->answer_count; j++)
        if (r->answers[j].wire != NULL) r->answers[j].wire = wires + (r->answers[j].wire - s->span);
    return wires + s->span_len;
}

/* Writes a builder's name to `r`, and its distinct wires to `wires`;
 * returns where the next record's wires go. */
static uint8_t *write_source(dp_record *r, const source *s, uint8_t *wires) {
    memset(r, 0, source_bytes(s));
    r->answer_count = s->answer_count;
    r->any_answer = s->any_answer;
    r->zone = s->zone;
    r->name_len = s->name_len;
    r->hash = s->hash;
    for (uint16_t j = 0; j < s->answer_count; j++) {
        dp_answer a = s->answers[j];
        uint16_t first = first_with_wire(s, j);
        if (a.wire != NULL && first == j) {
            size_t size = dp_answer_wire_size(&a, s->whole_len);
            memcpy(wires, a.wire, size);
            a.wire = wires;
            wires += (size + 7) & ~(size_t)7;
        } else if (a.wire != NULL) {
            a.wire = r->answers[first].wire; /* shared, as in the source */
        }
        r->answers[j] = a;
    }
    if (s->rrset != NULL) memcpy((uint8_t *)r->answers, s->rrset, s->rrset_len);
    memcpy((uint8_t *)dp_record_name(r), s->name, s->name_len);
    return wires;
}

/* Puts the record at `offset` in the first free slot from its hash's start. */
static void add_slot(dp_shard *shard, uint32_t hash, size_t offset) {
    size_t slot = dp_slot_start(shard->slot_count, hash);
    while (shard->slots[slot].offset != 0) slot = slot + 1 == shard->slot_count ? 0 : slot + 1;
    shard->slots[slot].hash = hash;
    shard->slots[slot].offset = (uint32_t)(offset + 1);
}

/* One block: the shard header, its slots (at most three quarters full), its records
 * (answers in the builder's order, the default last), then their wires. */
static dp_shard *lay_out_shard(const source *sources, size_t count) {
    /* Room to spare, so a probe for a name not there ends at an empty slot. */
    size_t slot_count = count * 4 / 3 + 1;
    size_t records_len = 0, wires_len = 0;
    for (size_t i = 0; i < count; i++) {
        records_len += source_bytes(&sources[i]);
        wires_len += wire_bytes(&sources[i]);
    }
    size_t header = (sizeof(dp_shard) + 7) & ~(size_t)7;
    size_t bytes = header + slot_count * sizeof(dp_slot) + records_len + wires_len;
    dp_shard *shard = malloc(bytes);
    if (shard == NULL) return NULL;
    shard->bytes = bytes;
    shard->name_count = (uint32_t)count;
    shard->answer_count = 0;
    shard->slot_count = (uint32_t)slot_count;
    shard->records_len = records_len;
    shard->slots = (dp_slot *)((uint8_t *)shard + header);
    shard->records = (uint8_t *)(shard->slots + slot_count);
    memset(shard->slots, 0, slot_count * sizeof(dp_slot));
    uint8_t *wires = shard->records + records_len;
    size_t offset = 0;
    for (size_t i = 0; i < count; i++) {
        const source *s = &sources[i];
        dp_record *r = (dp_record *)(shard->records + offset);
        wires = s->kept != NULL ? copy_kept(r, s, wires) : write_source(r, s, wires);
        shard->answer_count += dp_record_has_rrset(r) ? 1 : r->answer_count;
        add_slot(shard, s->hash, offset);
        offset += source_bytes(s);
    }
    return shard;
}

/* The index in `t`'s zones of the zone a builder's name is in (the
 * builders of a table have the same zones: same_zones). */
static uint8_t zone_index(const dp_table *t, const build_name *n) {
    const uint8_t *apex = n->name + n->name_len - n->apex_len;
    unsigned i = 0;
    while (t->zones[i].apex_len != n->apex_len || memcmp(t->zones[i].apex, apex, n->apex_len) != 0)
        i++;
    return (uint8_t)i;
}

static source source_of_name(const dp_table *t, const dp_table_builder *b, const build_name *n) {
    const dp_answer *answers = dp_builder_answers_of(b, n);
    source s = {.name = n->name,
                .answers = answers,
                .hash = n->hash,
                .answer_count = (uint8_t)n->answer_count,
                .zone = zone_index(t, n),
                .name_len = (uint8_t)(n->name_len - n->apex_len),
                .whole_len = n->name_len};
    if (n->rrset_kind != 0) {
        s.answer_count = 0;
        s.any_answer = n->rrset_kind;
        s.rrset = answers[0].wire;
        s.rrset_len = answers[0].len;
        return s;
    }
    for (uint16_t i = 0; n->any_type != 0 && i < n->answer_count; i++)
        if (answers[i].qtype == n->any_type) s.any_answer = (uint8_t)(i + 1);
    return s;
}

/* A base record kept as it is. Its distinct wires lie in a row, each
 * padded to 8 bytes, so they span from the lowest to the end of the
 * highest. */
static source kept_record(const dp_table *base, const dp_record *r) {
    source s = {.hash = r->hash, .kept = r};
    size_t whole_len = r->name_len + base->zones[r->zone].apex_len;
    const uint8_t *end = NULL;
    for (uint8_t j = 0; j < r->answer_count; j++) {
        const dp_answer *a = &r->answers[j];
        if (a->wire == NULL) continue;
        if (s.span == NULL || a->wire < s.span) s.span = a->wire;
        const uint8_t *after = a->wire + ((dp_answer_wire_size(a, whole_len) + 7) & ~(size_t)7);
        if (after > end) end = after;
    }
    s.span_len = s.span != NULL ? (size_t)(end - s.span) : 0;
    return s;
}

static uint32_t shard_of(uint32_t hash, uint32_t shard_count) {
    return (uint32_t)(((uint64_t)hash * shard_count) >> 32);
}

/*
 * The builders' names grouped by the shards to lay out, and the table
 * they are laid out in: for builder k, the names of the i-th shard laid
 * out are order[k][starts[k][i]] up to order[k][starts[k][i + 1]]. A new
 * table lays out every shard, the i-th being shard i; a delta in its
 * base's shards lays out only those it gives names (touched, ascending),
 * so that neither grouping nor laying out passes over every shard.
 * Threads take the shards to lay out in turn; each writes only its own
 * shards and sums.
 */
typedef struct layout {
    dp_table_builder **builders;
    size_t count;
    const dp_table *base; /* a delta's (then one builder) */
    bool shares_base;     /* a delta in its base's shards, sharing those it leaves alone */
    dp_table *table;
    uint32_t **starts;
    uint32_t **order;
    uint32_t *touched; /* a delta in its base's shards: the shards to lay out */
    uint32_t touched_count;
    size_t scratch_len; /* sources of the largest shard */
} layout;

/* The base's shards whose names may fall in the table's shard `s`: a
 * shard is a range of hashes (shard_of), so with twice the shards each
 * base shard splits in two, and with half, two base shards make one. */
static void base_shards_of(const layout *l, uint32_t s, uint32_t *first, uint32_t *last) {
    uint32_t from = l->base->shard_count, to = l->table->shard_count;
    *first = to >= from ? s / (to / from) : s * (from / to);
    *last = to >= from ? *first : *first + from / to - 1;
}

/* What one thread laid out, and how it ended. */
typedef struct layout_share {
    const layout *l;
    unsigned index, of;
    ptrdiff_t names, answers, bytes; /* added less replaced */
    bool out_of_memory;
    const build_name *twice; /* a name an earlier builder gave too */
} layout_share;

/* The i-th shard to lay out, shard s: the base's records the builder
 * leaves alone, then the builders' names, checked to be in no earlier
 * builder. */
static dp_shard *lay_out_one(layout_share *share, uint32_t i, uint32_t s, source *scratch) {
    const layout *l = share->l;
    size_t count = 0;
    uint32_t first = 1, last = 0;
    if (l->base != NULL) base_shards_of(l, s, &first, &last);
    for (uint32_t b = first; b <= last; b++) {
        const dp_shard *old = l->base->shards[b];
        for (size_t offset = 0; offset < old->records_len;) {
            const dp_record *r = (const dp_record *)(old->records + offset);
            offset += dp_record_bytes(r);
            if (shard_of(r->hash, l->table->shard_count) != s) continue;
            const dp_zone *z = &l->base->zones[r->zone];
            if (dp_builder_find_split(l->builders[0], dp_record_name(r), r->name_len, z->apex,
                                      z->apex_len, r->hash) == NULL)
                scratch[count++] = kept_record(l->base, r);
        }
    }
    for (size_t k = 0; k < l->count; k++) {
        const dp_table_builder *b = l->builders[k];
        for (uint32_t at = l->starts[k][i]; at < l->starts[k][i + 1]; at++) {
            const build_name *n = &b->names[l->order[k][at]];
            for (size_t j = 0; j < k; j++) {
                if (dp_builder_find(l->builders[j], n->name, n->name_len, n->hash) == NULL)
                    continue;
                share->twice = n;
                return NULL;
            }
            if (!n->removed) scratch[count++] = source_of_name(l->table, b, n);
        }
    }
    dp_shard *shard = lay_out_shard(scratch, count);
    share->out_of_memory = shard == NULL;
    return shard;
}

static void *lay_out_share(void *arg) {
    layout_share *share = arg;
    const layout *l = share->l;
    dp_table *t = l->table;
    source *scratch = malloc((l->scratch_len + 1) * sizeof(source));
    share->out_of_memory = scratch == NULL;
    /* A delta in its base's shards shares those it gives no name with it. */
    uint32_t shards = l->shares_base ? l->touched_count : t->shard_count;
    for (uint32_t i = share->index; scratch != NULL && i < shards; i += share->of) {
        uint32_t s = l->shares_base ? l->touched[i] : i;
        dp_shard *shard = lay_out_one(share, i, s, scratch);
        if (shard == NULL) break;
        if (l->shares_base) {
            const dp_shard *old = l->base->shards[s];
            share->names -= old->name_count;
            share->answers -= old->answer_count;
            share->bytes -= (ptrdiff_t)old->bytes;
            t->fresh[s] = 1;
        }
        t->shards[s] = shard;
        t->views[s] = (dp_shard_view){shard->slots, shard->records, shard->slot_count, 0};
        share->names += shard->name_count;
        share->answers += shard->answer_count;
        share->bytes += (ptrdiff_t)shard->bytes;
    }
    free(scratch);
    return NULL;
}

static int by_shard_then_index(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Groups a delta's names by the shards they touch, sorted, and finds the
 * scratch the largest of those shards needs: work that grows with the
 * delta, not with the table. */
static bool group_delta(layout *l) {
    const dp_table_builder *b = l->builders[0];
    size_t count = b->name_count;
    uint64_t *keys = malloc((count + 1) * sizeof(uint64_t));
    uint32_t *order = l->order[0] = malloc((count + 1) * sizeof(uint32_t));
    uint32_t *starts = l->starts[0] = malloc((count + 1) * sizeof(uint32_t));
    l->touched = malloc((count + 1) * sizeof(uint32_t));
    bool ok = keys != NULL && order != NULL && starts != NULL && l->touched != NULL;
    for (size_t i = 0; ok && i < count; i++)
        keys[i] = (uint64_t)shard_of(b->names[i].hash, l->table->shard_count) << 32 | i;
    if (ok) qsort(keys, count, sizeof(uint64_t), by_shard_then_index);
    for (size_t i = 0; ok && i < count; i++) {
        uint32_t s = (uint32_t)(keys[i] >> 32);
        if (l->touched_count == 0 || l->touched[l->touched_count - 1] != s) {
            l->touched[l->touched_count] = s;
            starts[l->touched_count++] = (uint32_t)i;
        }
        order[i] = (uint32_t)keys[i];
    }
    if (ok) starts[l->touched_count] = (uint32_t)count;
    for (uint32_t i = 0; ok && i < l->touched_count; i++) {
        size_t size = starts[i + 1] - starts[i] + l->base->shards[l->touched[i]]->name_count;
        if (size > l->scratch_len) l->scratch_len = size;
    }
    free(keys);
    return ok;
}

/* Groups each builder's names by shard (a counting sort), and finds the
 * scratch the largest shard needs. */
static bool group_by_shard(layout *l) {
    if (l->shares_base) return group_delta(l);
    uint32_t shard_count = l->table->shard_count;
    size_t *sizes = calloc(shard_count, sizeof(size_t));
    if (sizes == NULL) return false;
    bool ok = true;
    for (size_t k = 0; k < l->count && ok; k++) {
        const dp_table_builder *b = l->builders[k];
        uint32_t *starts = l->starts[k] = calloc(shard_count + 1, sizeof(uint32_t));
        uint32_t *order = l->order[k] = malloc((b->name_count + 1) * sizeof(uint32_t));
        uint32_t *fill = calloc(shard_count, sizeof(uint32_t));
        ok = starts != NULL && order != NULL && fill != NULL;
        for (size_t i = 0; ok && i < b->name_count; i++)
            starts[shard_of(b->names[i].hash, shard_count) + 1]++;
        for (uint32_t s = 0; ok && s < shard_count; s++) {
            sizes[s] += starts[s + 1];
            starts[s + 1] += starts[s];
        }
        for (size_t i = 0; ok && i < b->name_count; i++) {
            uint32_t s = shard_of(b->names[i].hash, shard_count);
            order[starts[s] + fill[s]++] = (uint32_t)i;
        }
        free(fill);
    }
    for (uint32_t s = 0; ok && s < shard_count; s++) {
        uint32_t first = 1, last = 0;
        if (l->base != NULL) base_shards_of(l, s, &first, &last);
        for (uint32_t b = first; b <= last; b++) sizes[s] += l->base->shards[b]->name_count;
        if (sizes[s] > l->scratch_len) l->scratch_len = sizes[s];
    }
    free(sizes);
    return ok;
}

/* A new table's names per shard, at most (and more than half that): what
 * a delta lays out again for each shard its names fall in. */
#define SHARD_NAMES 64

/* Shards for a table of `names`: SHARD_NAMES each at most, at least 16 shards. */
static uint32_t shards_for(size_t names) {
    uint32_t shard_count = 16;
    while (shard_count < names / SHARD_NAMES && shard_count < (1u << 16)) shard_count *= 2;
    return shard_count;
}

/* The names a delta's table will have: its base's, less those it
 * removes, plus those it adds. */
static size_t delta_name_count(const layout *l) {
    const dp_table_builder *b = l->builders[0];
    size_t names = l->base->name_count;
    for (size_t i = 0; i < b->name_count; i++) {
        const build_name *n = &b->names[i];
        bool in_base = dp_table_find(l->base, n->name, n->name_len, n->hash) != NULL;
        names = names + !n->removed - in_base;
    }
    return names;
}

/* Lays the names out in shards: a new table's SHARD_NAMES each at most.
 * A delta keeps its base's shards while they hold from a quarter of that
 * to twice that on average: it starts from copies of its base's shard
 * arrays and sums, and rebuilds only the shards its names fall in, so its
 * work does not grow with the table. A delta that leaves them fuller or
 * emptier is laid out in shards as a new table is, every shard its own: a
 * table that grew by deltas from a few names to many would otherwise
 * rebuild thousands of names per shard a delta touched. Growing or
 * shrinking by half again first, that costs each name a constant amortized. */
static int lay_out_shards(layout *l, char *err, size_t errlen) {
    dp_table *t = l->table;
    const dp_table *base = l->base;
    size_t names = 0;
    if (base != NULL)
        names = delta_name_count(l);
    else
        for (size_t k = 0; k < l->count; k++) names += l->builders[k]->name_count;
    uint32_t shard_count = shards_for(names);
    if (base != NULL) {
        bool crowded =
            names > (size_t)base->shard_count * SHARD_NAMES * 2 && base->shard_count < (1u << 16);
        bool sparse = names < (size_t)base->shard_count * SHARD_NAMES / 4 && base->shard_count > 16;
        l->shares_base = !crowded && !sparse;
        if (l->shares_base) shard_count = base->shard_count;
    }
    if (l->shares_base) t->fresh = calloc(shard_count, 1);
    l->starts = calloc(l->count, sizeof(uint32_t *));
    l->order = calloc(l->count, sizeof(uint32_t *));
    if ((l->shares_base && t->fresh == NULL) || l->starts == NULL || l->order == NULL ||
        !dp_table_directory_new(t, shard_count, l->shares_base ? base : NULL))
        return dp_fail(err, errlen, "out of memory");
    if (l->shares_base) t->base = base;
    if (!group_by_shard(l)) return dp_fail(err, errlen, "out of memory");
    if (l->shares_base) {
        t->name_count = base->name_count;
        t->answer_count = base->answer_count;
        t->bytes = base->bytes;
    }
    /* One thread per builder: as many as filled them. */
    layout_share shares[l->count];
    pthread_t threads[l->count];
    bool started[l->count];
    for (unsigned i = 0; i < l->count; i++) {
        shares[i] = (layout_share){.l = l, .index = i, .of = (unsigned)l->count};
        started[i] = i > 0 && pthread_create(&threads[i], NULL, lay_out_share, &shares[i]) == 0;
    }
    for (unsigned i = 0; i < l->count; i++) {
        if (started[i])
            pthread_join(threads[i], NULL);
        else
            lay_out_share(&shares[i]);
    }
    for (unsigned i = 0; i < l->count; i++) {
        const layout_share *share = &shares[i];
        if (share->twice != NULL) {
            char text[1024];
            dp_builder_name_text(share->twice->name, share->twice->name_len, text, sizeof(text));
            return dp_fail(err, errlen, "%s is in two builders", text);
        }
        if (share->out_of_memory) return dp_fail(err, errlen, "out of memory");
        t->name_count += share->names;
        t->answer_count += share->answers;
        t->bytes += share->bytes;
    }
    return 0;
}

int dp_lay_out(dp_table_builder **builders, size_t count, char *err, size_t errlen) {
    layout l = {.builders = builders,
                .count = count,
                .base = builders[0]->base,
                .table = builders[0]->table};
    int status = lay_out_shards(&l, err, errlen);
    for (size_t k = 0; k < count; k++) {
        if (l.starts != NULL) free(l.starts[k]);
        if (l.order != NULL) free(l.order[k]);
    }
    free(l.starts);
    free(l.order);
    free(l.touched);
    return status;
}
