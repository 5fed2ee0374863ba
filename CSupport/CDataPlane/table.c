/*
 * table.c — the answer table: built once per publication with ldns, then
 * read by every worker without locks (see dataplane.h, "Tables").
 */
#include "dp_internal.h"

#include <ldns/ldns.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

struct dp_table_builder {
    dp_table *table;
    size_t name_cap;
    uint16_t *answer_caps; /* per name, while building */
};

static int fail(char *err, size_t errlen, const char *format, ...) {
    if (err != NULL && errlen > 0) {
        va_list args;
        va_start(args, format);
        vsnprintf(err, errlen, format, args);
        va_end(args);
    }
    return -1;
}

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

const dp_name *dp_table_find(const dp_table *t, const uint8_t *name, size_t len, uint32_t hash) {
    if (t->slots == NULL) return NULL;
    for (size_t i = hash & t->slot_mask;; i = (i + 1) & t->slot_mask) {
        uint32_t slot = t->slots[i];
        if (slot == 0) return NULL;
        const dp_name *n = &t->names[slot - 1];
        if (n->hash == hash && n->name_len == len && memcmp(n->name, name, len) == 0) return n;
    }
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
    if (b->table == NULL) {
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
    if (labels < 0) return fail(err, errlen, "zone apex is not a lower-case wire name");
    if (t->zone_count == DP_MAX_ZONES) return fail(err, errlen, "too many zones (at most %d)", DP_MAX_ZONES);
    ldns_rr *soa = NULL;
    size_t pos = 0;
    if (ldns_wire2rr(&soa, soa_rr, soa_len, &pos, LDNS_SECTION_AUTHORITY) != LDNS_STATUS_OK ||
        pos != soa_len || ldns_rr_get_type(soa) != LDNS_RR_TYPE_SOA) {
        ldns_rr_free(soa);
        return fail(err, errlen, "zone SOA is not one wire SOA record");
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
    return z->soa_rr ? 0 : fail(err, errlen, "out of memory");
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
    if (labels < 0) return fail(err, errlen, "pod suffix is not a lower-case wire name");
    dp_zone *z = zone_for_builder(b->table, suffix, suffix_len);
    if (z == NULL) return fail(err, errlen, "pod suffix is in no zone");
    z->pod_synthesis = true;
    memcpy(z->pod_suffix, suffix, suffix_len);
    z->pod_suffix_len = (uint8_t)suffix_len;
    z->pod_suffix_labels = (uint8_t)labels;
    z->pod_ttl = ttl;
    return 0;
}

static int grow_slots(dp_table *t) {
    size_t count = t->slots ? (t->slot_mask + 1) * 2 : 1024;
    uint32_t *slots = calloc(count, sizeof(uint32_t));
    if (slots == NULL) return -1;
    for (size_t n = 0; n < t->name_count; n++) {
        size_t i = t->names[n].hash & (count - 1);
        while (slots[i] != 0) i = (i + 1) & (count - 1);
        slots[i] = (uint32_t)(n + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->slot_mask = count - 1;
    return 0;
}

/* Finds the name, or adds it with no answers yet. */
static dp_name *name_entry(dp_table_builder *b, const uint8_t *name, size_t len) {
    dp_table *t = b->table;
    uint32_t hash = dp_name_hash(name, len);
    dp_name *found = (dp_name *)dp_table_find(t, name, len, hash);
    if (found != NULL) return found;
    /* Keep the load under one half, so probes stay short. */
    if (t->slots == NULL || (t->name_count + 1) * 2 > t->slot_mask + 1) {
        if (grow_slots(t) != 0) return NULL;
    }
    if (t->name_count == b->name_cap) {
        size_t cap = b->name_cap ? b->name_cap * 2 : 1024;
        dp_name *names = realloc(t->names, cap * sizeof(dp_name));
        if (names == NULL) return NULL;
        t->names = names;
        uint16_t *caps = realloc(b->answer_caps, cap * sizeof(uint16_t));
        if (caps == NULL) return NULL;
        b->answer_caps = caps;
        b->name_cap = cap;
    }
    dp_name *n = &t->names[t->name_count];
    memset(n, 0, sizeof(*n));
    n->name = dp_arena_copy(&t->arena, name, len);
    if (n->name == NULL) return NULL;
    n->name_len = (uint8_t)len;
    n->hash = hash;
    b->answer_caps[t->name_count] = 0;
    size_t i = hash & t->slot_mask;
    while (t->slots[i] != 0) i = (i + 1) & t->slot_mask;
    t->slots[i] = (uint32_t)(t->name_count + 1);
    t->name_count++;
    return n;
}

/* Builds the reply with ldns: header, question, then the RRs as given,
 * with name compression. */
static ldns_status build_wire(const uint8_t *qname, size_t qname_len, uint16_t qtype,
                              uint8_t rcode, const uint8_t *rrs, size_t rrs_len,
                              const uint16_t counts[3], bool with_additional, uint8_t **wire,
                              size_t *wire_len) {
    ldns_pkt *pkt = ldns_pkt_new();
    if (pkt == NULL) return LDNS_STATUS_MEM_ERR;
    ldns_pkt_set_qr(pkt, true);
    ldns_pkt_set_aa(pkt, true);
    ldns_pkt_set_rcode(pkt, rcode);
    ldns_rr *question = ldns_rr_new();
    ldns_rr_set_owner(question, ldns_dname_new_frm_data(qname_len, qname));
    ldns_rr_set_type(question, qtype ? qtype : DP_TYPE_A);
    ldns_rr_set_class(question, LDNS_RR_CLASS_IN);
    ldns_rr_set_question(question, true);
    ldns_pkt_push_rr(pkt, LDNS_SECTION_QUESTION, question);

    static const ldns_pkt_section sections[3] = {LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY,
                                                 LDNS_SECTION_ADDITIONAL};
    ldns_status status = LDNS_STATUS_OK;
    size_t pos = 0;
    for (int s = 0; s < 3 && status == LDNS_STATUS_OK; s++) {
        for (uint16_t i = 0; i < counts[s] && status == LDNS_STATUS_OK; i++) {
            ldns_rr *rr = NULL;
            status = ldns_wire2rr(&rr, rrs, rrs_len, &pos, sections[s]);
            if (status != LDNS_STATUS_OK) break;
            if (s < 2 || with_additional)
                ldns_pkt_push_rr(pkt, sections[s], rr);
            else
                ldns_rr_free(rr);
        }
    }
    if (status == LDNS_STATUS_OK && pos != rrs_len) status = LDNS_STATUS_PACKET_OVERFLOW;
    if (status == LDNS_STATUS_OK) status = ldns_pkt2wire(wire, pkt, wire_len);
    ldns_pkt_free(pkt);
    return status;
}

int dp_table_builder_add_answer(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                uint16_t qtype, uint8_t rcode, const uint8_t *rrs,
                                size_t rrs_len, uint16_t ancount, uint16_t nscount,
                                uint16_t arcount, char *err, size_t errlen) {
    dp_table *t = b->table;
    char text[1024];
    if (zone_for_builder(t, qname, qname_len) == NULL) {
        name_to_text(qname, qname_len, text, sizeof(text));
        return fail(err, errlen, "%s is not a lower-case name in any zone", text);
    }
    dp_name *n = name_entry(b, qname, qname_len);
    if (n == NULL) return fail(err, errlen, "out of memory");
    for (uint16_t i = 0; i < n->answer_count; i++) {
        if (n->answers[i].qtype == qtype) {
            name_to_text(qname, qname_len, text, sizeof(text));
            return fail(err, errlen, "%s has two answers for type %u", text, qtype);
        }
    }

    const uint16_t counts[3] = {ancount, nscount, arcount};
    uint8_t *wire = NULL;
    size_t len = 0;
    ldns_status status = build_wire(qname, qname_len, qtype, rcode, rrs, rrs_len, counts, true, &wire, &len);
    size_t len_without_additional = len;
    if (status == LDNS_STATUS_OK && arcount > 0) {
        uint8_t *prefix = NULL;
        status = build_wire(qname, qname_len, qtype, rcode, rrs, rrs_len, counts, false, &prefix,
                            &len_without_additional);
        free(prefix);
    }
    if (status != LDNS_STATUS_OK) {
        free(wire);
        name_to_text(qname, qname_len, text, sizeof(text));
        return fail(err, errlen, "answer for %s type %u: %s", text, qtype,
                    ldns_get_errorstr_by_id(status));
    }
    /* Room for OPT within a TCP message. */
    if (len + DP_OPT_RR_SIZE > DP_TCP_MAX_MESSAGE) {
        free(wire);
        name_to_text(qname, qname_len, text, sizeof(text));
        return fail(err, errlen, "answer for %s type %u is %zu bytes, over 64 KiB", text, qtype, len);
    }

    size_t index = (size_t)(n - t->names);
    if (n->answer_count == b->answer_caps[index]) {
        uint16_t cap = b->answer_caps[index] ? (uint16_t)(b->answer_caps[index] * 2) : 4;
        dp_answer *answers = realloc(n->answers, cap * sizeof(dp_answer));
        if (answers == NULL) {
            free(wire);
            return fail(err, errlen, "out of memory");
        }
        n->answers = answers;
        b->answer_caps[index] = cap;
    }
    dp_answer *a = &n->answers[n->answer_count++];
    a->wire = dp_arena_copy(&t->arena, wire, len);
    a->len = (uint16_t)len;
    a->len_without_additional = (uint16_t)len_without_additional;
    a->qtype = qtype;
    free(wire);
    t->answer_count++;
    return a->wire ? 0 : fail(err, errlen, "out of memory");
}

/* Moves each name's answers into the arena, the default one last. */
dp_table *dp_table_builder_finish(dp_table_builder *b, char *err, size_t errlen) {
    dp_table *t = b->table;
    for (size_t i = 0; i < t->name_count; i++) {
        const dp_name *n = &t->names[i];
        bool has_default = false;
        for (uint16_t j = 0; j < n->answer_count; j++) has_default |= n->answers[j].qtype == 0;
        if (!has_default) {
            char text[1024];
            name_to_text(n->name, n->name_len, text, sizeof(text));
            fail(err, errlen, "%s has no default answer", text);
            dp_table_builder_free(b);
            return NULL;
        }
    }
    for (size_t i = 0; i < t->name_count; i++) {
        dp_name *n = &t->names[i];
        dp_answer *answers = dp_arena_alloc(&t->arena, n->answer_count * sizeof(dp_answer));
        if (answers == NULL) {
            /* Names before i already live in the arena; free the rest. */
            for (size_t j = i; j < t->name_count; j++) free(t->names[j].answers);
            free(b->answer_caps);
            free(b);
            dp_table_free(t);
            fail(err, errlen, "out of memory");
            return NULL;
        }
        uint16_t k = 0;
        for (uint16_t j = 0; j < n->answer_count; j++)
            if (n->answers[j].qtype != 0) answers[k++] = n->answers[j];
        for (uint16_t j = 0; j < n->answer_count; j++)
            if (n->answers[j].qtype == 0) answers[k++] = n->answers[j];
        free(n->answers);
        n->answers = answers;
    }
    free(b->answer_caps);
    free(b);
    return t;
}

void dp_table_builder_free(dp_table_builder *b) {
    if (b == NULL) return;
    dp_table *t = b->table;
    /* While building, answer arrays are on the heap; the finished ones are in the arena. */
    for (size_t i = 0; i < t->name_count; i++) free(t->names[i].answers);
    t->name_count = 0;
    free(b->answer_caps);
    free(b);
    dp_table_free(t);
}

void dp_table_free(dp_table *t) {
    if (t == NULL) return;
    free(t->names);
    free(t->slots);
    dp_arena_free(&t->arena);
    free(t);
}

size_t dp_table_name_count(const dp_table *t) { return t->name_count; }
size_t dp_table_answer_count(const dp_table *t) { return t->answer_count; }
