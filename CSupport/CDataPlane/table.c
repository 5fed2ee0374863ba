/*
 * table.c — the answer table: every reply written once per publication
 * (wire.c), then read by every worker without locks (see dataplane.h,
 * "Tables"). ldns checks the zone SOAs and prints names in errors.
 */
#include "dp_internal.h"
#include "dp_wire.h"

#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* A name while the table is built: its answers grow as they are added. */
typedef struct build_name {
    const uint8_t *name; /* in the table's arena */
    uint32_t hash;
    uint8_t name_len;
    uint16_t answer_count;
    uint16_t answer_cap;
    dp_answer *answers; /* on the heap until finish */
} build_name;

struct dp_table_builder {
    dp_table *table; /* zones, arena, flags; records and slots at finish */
    build_name *names;
    size_t name_count;
    size_t name_cap;
    uint32_t *slots; /* open addressing: index into names + 1, 0 = empty */
    size_t slot_mask;
    uint8_t *scratch; /* one reply being written */
};

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

/* Checks a wire name (lower case, well formed, at most 255 bytes) and
 * records where its labels start. Returns the label count, or -1. */
static int name_labels(const uint8_t *name, size_t len, uint8_t *offsets) {
    if (len == 0 || len > DP_MAX_NAME) return -1;
    size_t pos = 0;
    int labels = 0;
    while (pos < len) {
        uint8_t label = name[pos];
        if (label == 0) return pos + 1 == len ? labels : -1;
        if (label > 63 || pos + 1 + label >= len) return -1;
        for (size_t i = pos + 1; i <= pos + label; i++)
            if (name[i] >= 'A' && name[i] <= 'Z') return -1;
        offsets[labels++] = (uint8_t)pos;
        pos += 1 + label;
    }
    return -1;
}

static void name_to_text(const uint8_t *name, size_t len, char *text, size_t cap) {
    ldns_rdf *rdf = ldns_dname_new_frm_data(len, name);
    char *s = rdf ? ldns_rdf2str(rdf) : NULL;
    snprintf(text, cap, "%s", s ? s : "(malformed name)");
    free(s);
    ldns_rdf_deep_free(rdf);
}

const dp_slot *dp_table_probe(const dp_table *t, size_t start, uint32_t hash) {
    if (t->slots == NULL) return NULL;
    for (size_t i = start & t->slot_mask;; i = (i + 1) & t->slot_mask) {
        const dp_slot *slot = &t->slots[i];
        if (slot->offset == 0) return NULL;
        if (slot->hash == hash) return slot;
    }
}

const dp_record *dp_table_find(const dp_table *t, const uint8_t *name, size_t len, uint32_t hash) {
    for (const dp_slot *slot = dp_table_probe(t, hash, hash); slot != NULL;
         slot = dp_table_probe(t, (size_t)(slot - t->slots) + 1, hash)) {
        const dp_record *r = (const dp_record *)(t->records + slot->offset - 1);
        if (r->name_len == len && memcmp(dp_record_name(r), name, len) == 0) return r;
    }
    return NULL;
}

const dp_zone *dp_table_zone_of(const dp_table *t, const uint8_t *name, size_t len,
                                const uint8_t *label_offsets, unsigned labels) {
    for (unsigned i = 0; i < t->zone_count; i++) {
        const dp_zone *z = &t->zones[i];
        if (labels < z->apex_labels) continue;
        size_t start = z->apex_labels == 0 ? len - 1 : label_offsets[labels - z->apex_labels];
        if (len - start == z->apex_len && memcmp(name + start, z->apex, z->apex_len) == 0)
            return z;
    }
    return NULL;
}

/* ---- Building -------------------------------------------------------- */

dp_table_builder *dp_table_builder_new(void) {
    dp_table_builder *b = calloc(1, sizeof(*b));
    if (b == NULL) return NULL;
    b->table = calloc(1, sizeof(dp_table));
    b->scratch = malloc(DP_TCP_MAX_MESSAGE);
    if (b->table == NULL || b->scratch == NULL) {
        free(b->table);
        free(b->scratch);
        free(b);
        return NULL;
    }
    return b;
}

void dp_table_builder_mark_unsynced(dp_table_builder *b) { b->table->unsynced = true; }

int dp_table_builder_add_zone(dp_table_builder *b, const uint8_t *apex, size_t apex_len,
                              int authoritative, const uint8_t *soa_rr, size_t soa_len,
                              char *err, size_t errlen) {
    dp_table *t = b->table;
    uint8_t offsets[DP_MAX_LABELS];
    int labels = name_labels(apex, apex_len, offsets);
    if (labels < 0) return dp_fail(err, errlen, "zone apex is not a lower-case wire name");
    if (t->zone_count == DP_MAX_ZONES) return dp_fail(err, errlen, "too many zones (at most %d)", DP_MAX_ZONES);
    ldns_rr *soa = NULL;
    size_t pos = 0;
    if (ldns_wire2rr(&soa, soa_rr, soa_len, &pos, LDNS_SECTION_AUTHORITY) != LDNS_STATUS_OK ||
        pos != soa_len || ldns_rr_get_type(soa) != LDNS_RR_TYPE_SOA) {
        ldns_rr_free(soa);
        return dp_fail(err, errlen, "zone SOA is not one wire SOA record");
    }
    ldns_rr_free(soa);

    /* Keep the longest apex first so the most specific zone matches. */
    unsigned at = t->zone_count;
    while (at > 0 && t->zones[at - 1].apex_len < apex_len) {
        t->zones[at] = t->zones[at - 1];
        at--;
    }
    dp_zone *z = &t->zones[at];
    memset(z, 0, sizeof(*z));
    memcpy(z->apex, apex, apex_len);
    z->apex_len = (uint8_t)apex_len;
    z->apex_labels = (uint8_t)labels;
    z->authoritative = authoritative != 0;
    z->soa_rr = dp_arena_copy(&t->arena, soa_rr, soa_len);
    z->soa_len = (uint16_t)soa_len;
    t->zone_count++;
    return z->soa_rr ? 0 : dp_fail(err, errlen, "out of memory");
}

static dp_zone *zone_for_builder(dp_table *t, const uint8_t *name, size_t len) {
    uint8_t offsets[DP_MAX_LABELS];
    int labels = name_labels(name, len, offsets);
    if (labels < 0) return NULL;
    return (dp_zone *)dp_table_zone_of(t, name, len, offsets, (unsigned)labels);
}

int dp_table_builder_add_pod_synthesis(dp_table_builder *b, const uint8_t *suffix,
                                       size_t suffix_len, uint32_t ttl, char *err,
                                       size_t errlen) {
    uint8_t offsets[DP_MAX_LABELS];
    int labels = name_labels(suffix, suffix_len, offsets);
    if (labels < 0) return dp_fail(err, errlen, "pod suffix is not a lower-case wire name");
    dp_zone *z = zone_for_builder(b->table, suffix, suffix_len);
    if (z == NULL) return dp_fail(err, errlen, "pod suffix is in no zone");
    z->pod_synthesis = true;
    memcpy(z->pod_suffix, suffix, suffix_len);
    z->pod_suffix_len = (uint8_t)suffix_len;
    z->pod_suffix_labels = (uint8_t)labels;
    z->pod_ttl = ttl;
    return 0;
}

static build_name *builder_find(const dp_table_builder *b, const uint8_t *name, size_t len,
                                uint32_t hash) {
    if (b->slots == NULL) return NULL;
    for (size_t i = hash & b->slot_mask;; i = (i + 1) & b->slot_mask) {
        uint32_t slot = b->slots[i];
        if (slot == 0) return NULL;
        build_name *n = &b->names[slot - 1];
        if (n->hash == hash && n->name_len == len && memcmp(n->name, name, len) == 0) return n;
    }
}

static int grow_slots(dp_table_builder *b) {
    size_t count = b->slots ? (b->slot_mask + 1) * 2 : 1024;
    uint32_t *slots = calloc(count, sizeof(uint32_t));
    if (slots == NULL) return -1;
    for (size_t n = 0; n < b->name_count; n++) {
        size_t i = b->names[n].hash & (count - 1);
        while (slots[i] != 0) i = (i + 1) & (count - 1);
        slots[i] = (uint32_t)(n + 1);
    }
    free(b->slots);
    b->slots = slots;
    b->slot_mask = count - 1;
    return 0;
}

/* Adds a name that is not there yet, with no answers. */
static build_name *add_name_entry(dp_table_builder *b, const uint8_t *name, size_t len,
                                  uint32_t hash) {
    /* Keep the load under one half, so probes stay short. */
    if (b->slots == NULL || (b->name_count + 1) * 2 > b->slot_mask + 1) {
        if (grow_slots(b) != 0) return NULL;
    }
    if (b->name_count == b->name_cap) {
        size_t cap = b->name_cap ? b->name_cap * 2 : 1024;
        build_name *names = realloc(b->names, cap * sizeof(build_name));
        if (names == NULL) return NULL;
        b->names = names;
        b->name_cap = cap;
    }
    build_name *n = &b->names[b->name_count];
    memset(n, 0, sizeof(*n));
    n->name = dp_arena_copy(&b->table->arena, name, len);
    if (n->name == NULL) return NULL;
    n->name_len = (uint8_t)len;
    n->hash = hash;
    size_t i = hash & b->slot_mask;
    while (b->slots[i] != 0) i = (i + 1) & b->slot_mask;
    b->slots[i] = (uint32_t)(b->name_count + 1);
    b->name_count++;
    return n;
}

/* The number of answer RRs a reply may rotate: all A, or all AAAA, each
 * with its owner compressed to a pointer, so they are records of equal
 * size one after another; 0 otherwise. */
static uint16_t rotatable(const uint8_t *buf, size_t start, size_t end, uint16_t count) {
    if (count < 2) return 0;
    size_t size = (end - start) / count;
    uint16_t type = size == DP_ROTATE_A_SIZE ? DP_TYPE_A : size == DP_ROTATE_AAAA_SIZE ? DP_TYPE_AAAA : 0;
    if (type == 0 || (end - start) % count != 0) return 0;
    for (size_t at = start; at < end; at += size)
        if ((buf[at] & 0xC0) != 0xC0 || (uint16_t)(buf[at + 2] << 8 | buf[at + 3]) != type) return 0;
    return count;
}

/* Writes the reply into `buf`: header, question, then the RRs as given,
 * with name compression. Fills the answer's lengths and rotation (not its
 * wire); false when the RRs are malformed or do not fit. */
static bool build_reply(uint8_t *buf, size_t cap, const uint8_t *qname, size_t qname_len,
                        uint16_t qtype, uint8_t rcode, const uint8_t *rrs, size_t rrs_len,
                        const uint16_t counts[3], dp_answer *shape) {
    dp_wire w;
    dp_wire_start(&w, buf, cap, qname, qname_len, qtype ? qtype : DP_TYPE_A, rcode);
    size_t pos = 0;
    size_t answers_at = w.len;
    for (int section = 0; section < 3; section++) {
        if (section == 2) shape->len_without_additional = (uint16_t)w.len;
        for (uint16_t i = 0; i < counts[section]; i++) {
            size_t used = dp_wire_put_rr(&w, rrs + pos, rrs_len - pos, section);
            if (used == 0) return false;
            pos += used;
        }
        if (section == 0) shape->rotate_count = rotatable(buf, answers_at, w.len, counts[0]);
    }
    shape->len = (uint16_t)w.len;
    return !w.failed && pos == rrs_len;
}

/* Whether a built reply has the same header and sections as an answer
 * already kept (the questions differ only in their type). */
static bool same_reply(const dp_answer *a, const uint8_t *wire, size_t len, size_t qname_len) {
    if (a->wire == NULL || a->len != len) return false;
    size_t after_question = DP_HEADER_SIZE + qname_len + 4;
    return memcmp(a->wire, wire, DP_HEADER_SIZE) == 0 &&
           memcmp(a->wire + after_question, wire + after_question, len - after_question) == 0;
}

static int append_answer(dp_table_builder *b, build_name *n, dp_answer answer, char *err,
                         size_t errlen) {
    if (n->answer_count == n->answer_cap) {
        uint16_t cap = n->answer_cap ? (uint16_t)(n->answer_cap * 2) : 4;
        dp_answer *answers = realloc(n->answers, cap * sizeof(dp_answer));
        if (answers == NULL) return dp_fail(err, errlen, "out of memory");
        n->answers = answers;
        n->answer_cap = cap;
    }
    n->answers[n->answer_count++] = answer;
    b->table->answer_count++;
    return 0;
}

/* The name an answer for `qtype` is added to: in a zone, without one yet. */
static build_name *entry_for_answer(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                    uint16_t qtype, char *err, size_t errlen) {
    char text[1024];
    uint32_t hash = dp_name_hash(qname, qname_len);
    build_name *n = builder_find(b, qname, qname_len, hash);
    if (n == NULL) {
        if (zone_for_builder(b->table, qname, qname_len) == NULL) {
            name_to_text(qname, qname_len, text, sizeof(text));
            dp_fail(err, errlen, "%s is not a lower-case name in any zone", text);
            return NULL;
        }
        n = add_name_entry(b, qname, qname_len, hash);
        if (n == NULL) {
            dp_fail(err, errlen, "out of memory");
            return NULL;
        }
    }
    for (uint16_t i = 0; i < n->answer_count; i++) {
        if (n->answers[i].qtype == qtype) {
            name_to_text(qname, qname_len, text, sizeof(text));
            dp_fail(err, errlen, "%s has two answers for type %u", text, qtype);
            return NULL;
        }
    }
    return n;
}

int dp_table_builder_add_answer(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                uint16_t qtype, uint8_t rcode, const uint8_t *rrs,
                                size_t rrs_len, uint16_t ancount, uint16_t nscount,
                                uint16_t arcount, char *err, size_t errlen) {
    dp_table *t = b->table;
    char text[1024];
    build_name *n = entry_for_answer(b, qname, qname_len, qtype, err, errlen);
    if (n == NULL) return -1;

    const uint16_t counts[3] = {ancount, nscount, arcount};
    /* Room for OPT within a TCP message. */
    uint8_t *wire = b->scratch;
    dp_answer answer = {.qtype = qtype};
    if (!build_reply(wire, DP_TCP_MAX_MESSAGE - DP_OPT_RR_SIZE, qname, qname_len, qtype, rcode, rrs,
                     rrs_len, counts, &answer)) {
        name_to_text(qname, qname_len, text, sizeof(text));
        return dp_fail(err, errlen, "answer for %s type %u: malformed records, or over 64 KiB", text,
                       qtype);
    }

    /* Answers with the same sections share one wire (ANY and its RRset). */
    for (uint16_t i = 0; i < n->answer_count; i++) {
        if (same_reply(&n->answers[i], wire, answer.len, qname_len)) {
            answer.wire = n->answers[i].wire;
            return append_answer(b, n, answer, err, errlen);
        }
    }
    answer.wire = dp_arena_copy(&t->arena, wire, answer.len);
    if (answer.wire == NULL) return dp_fail(err, errlen, "out of memory");
    return append_answer(b, n, answer, err, errlen);
}

int dp_table_builder_add_name(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                              char *err, size_t errlen) {
    build_name *n = entry_for_answer(b, qname, qname_len, 0, err, errlen);
    dp_answer nodata = {.wire = NULL};
    return n ? append_answer(b, n, nodata, err, errlen) : -1;
}


static size_t record_size(const build_name *n) {
    size_t size = sizeof(dp_record) + n->answer_count * sizeof(dp_answer) + n->name_len;
    return (size + 7) & ~(size_t)7;
}

/* Lays the names out as records, each with its answers (the default one
 * last) and its name, and indexes them by hash. */
static int lay_out_records(dp_table_builder *b) {
    dp_table *t = b->table;
    size_t total = 0;
    for (size_t i = 0; i < b->name_count; i++) total += record_size(&b->names[i]);
    if (total >= UINT32_MAX) return -1;
    size_t slot_count = 16;
    while (slot_count < b->name_count * 2) slot_count *= 2;
    t->records = malloc(total ? total : 1);
    t->slots = calloc(slot_count, sizeof(dp_slot));
    if (t->records == NULL || t->slots == NULL) return -1;
    t->slot_mask = slot_count - 1;
    size_t offset = 0;
    for (size_t i = 0; i < b->name_count; i++) {
        const build_name *n = &b->names[i];
        dp_record *r = (dp_record *)(t->records + offset);
        memset(r, 0, record_size(n));
        r->answer_count = n->answer_count;
        r->name_len = n->name_len;
        uint16_t k = 0;
        for (uint16_t j = 0; j < n->answer_count; j++)
            if (n->answers[j].qtype != 0) r->answers[k++] = n->answers[j];
        for (uint16_t j = 0; j < n->answer_count; j++)
            if (n->answers[j].qtype == 0) r->answers[k++] = n->answers[j];
        memcpy((uint8_t *)dp_record_name(r), n->name, n->name_len);
        size_t s = n->hash & t->slot_mask;
        while (t->slots[s].offset != 0) s = (s + 1) & t->slot_mask;
        t->slots[s].hash = n->hash;
        t->slots[s].offset = (uint32_t)(offset + 1);
        offset += record_size(n);
    }
    t->name_count = b->name_count;
    return 0;
}

dp_table *dp_table_builder_finish(dp_table_builder *b, char *err, size_t errlen) {
    for (size_t i = 0; i < b->name_count; i++) {
        const build_name *n = &b->names[i];
        bool has_default = false;
        for (uint16_t j = 0; j < n->answer_count; j++) has_default |= n->answers[j].qtype == 0;
        if (!has_default) {
            char text[1024];
            name_to_text(n->name, n->name_len, text, sizeof(text));
            dp_fail(err, errlen, "%s has no default answer", text);
            dp_table_builder_free(b);
            return NULL;
        }
    }
    if (lay_out_records(b) != 0) {
        dp_fail(err, errlen, "out of memory");
        dp_table_builder_free(b);
        return NULL;
    }
    dp_table *t = b->table;
    b->table = NULL;
    dp_table_builder_free(b);
    return t;
}

void dp_table_builder_free(dp_table_builder *b) {
    if (b == NULL) return;
    for (size_t i = 0; i < b->name_count; i++) free(b->names[i].answers);
    free(b->names);
    free(b->slots);
    free(b->scratch);
    dp_table_free(b->table);
    free(b);
}

void dp_table_free(dp_table *t) {
    if (t == NULL) return;
    free(t->records);
    free(t->slots);
    dp_arena_free(&t->arena);
    free(t);
}

size_t dp_table_name_count(const dp_table *t) { return t->name_count; }
size_t dp_table_answer_count(const dp_table *t) { return t->answer_count; }
