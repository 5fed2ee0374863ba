/*
 * table_builder.c — building an answer table: a builder's zones, names and
 * answers, each reply written once per publication (reply_fit.c), then
 * laid out in shards that every worker reads without locks
 * (table_layout.c; see dataplane.h, "Tables"). A delta builder starts
 * from a published table and rebuilds only the shards of the names it
 * changes. ldns prints names in errors.
 */
#include "dp_table_builder.h"

#include <ldns/ldns.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

void dp_builder_name_text(const uint8_t *name, size_t len, char *text, size_t cap) {
    ldns_rdf *rdf = ldns_dname_new_frm_data(len, name);
    char *s = rdf ? ldns_rdf2str(rdf) : NULL;
    snprintf(text, cap, "%s", s ? s : "(malformed name)");
    free(s);
    ldns_rdf_deep_free(rdf);
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
    b->table->internal_zone = DP_NO_INTERNAL_ZONE;
    static _Atomic uint64_t tables;
    b->table->serial = atomic_fetch_add(&tables, 1) + 1;
    return b;
}

dp_table_builder *dp_table_builder_new_delta(const dp_table *base) {
    dp_table_builder *b = dp_table_builder_new();
    if (b != NULL) b->base = base;
    return b;
}

void dp_table_builder_mark_unsynced(dp_table_builder *b) { b->table->unsynced = true; }

const dp_table *dp_table_builder_table(const dp_table_builder *b) { return b->table; }

/* Whether `rr` is exactly one uncompressed wire SOA record: owner, type,
 * class, TTL, RDLENGTH, then MNAME, RNAME and five 32-bit fields (RFC 1035
 * section 3.3.13). Checked by hand: every delta adds its zones again, and
 * ldns took about a sixth of a delta's publication parsing them. */
static bool is_wire_soa(const uint8_t *rr, size_t len) {
    size_t owner = dp_name_length(rr, len);
    if (owner == 0 || len < owner + 10) return false;
    const uint8_t *fixed = rr + owner;
    size_t rdlen = dp_read16(fixed + 8);
    if (dp_read16(fixed) != DP_TYPE_SOA || owner + 10 + rdlen != len) return false;
    const uint8_t *rdata = fixed + 10;
    size_t mname = dp_name_length(rdata, rdlen);
    size_t rname = mname == 0 ? 0 : dp_name_length(rdata + mname, rdlen - mname);
    return rname != 0 && mname + rname + 20 == rdlen;
}

int dp_table_builder_add_zone(dp_table_builder *b, const uint8_t *apex, size_t apex_len,
                              int authoritative, const uint8_t *soa_rr, size_t soa_len, char *err,
                              size_t errlen) {
    dp_table *t = b->table;
    uint8_t offsets[DP_MAX_LABELS];
    int labels = dp_name_labels(apex, apex_len, offsets);
    if (labels < 0) return dp_fail(err, errlen, "zone apex is not a lower-case wire name");
    if (t->zone_count == DP_MAX_ZONES)
        return dp_fail(err, errlen, "too many zones (at most %d)", DP_MAX_ZONES);
    if (!is_wire_soa(soa_rr, soa_len))
        return dp_fail(err, errlen, "zone SOA is not one wire SOA record");

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
    z->authoritative = authoritative == 1;
    z->internal = authoritative == DP_ZONE_INTERNAL;
    z->soa_rr = dp_arena_copy(&t->arena, soa_rr, soa_len);
    z->soa_len = (uint16_t)soa_len;
    t->zone_count++;
    t->internal_zone = DP_NO_INTERNAL_ZONE;
    for (unsigned i = 0; i < t->zone_count; i++)
        if (t->zones[i].internal) t->internal_zone = (uint8_t)i;
    return z->soa_rr ? 0 : dp_fail(err, errlen, "out of memory");
}

static dp_zone *zone_for_builder(dp_table *t, const uint8_t *name, size_t len) {
    uint8_t offsets[DP_MAX_LABELS];
    int labels = dp_name_labels(name, len, offsets);
    if (labels < 0) return NULL;
    return (dp_zone *)dp_table_zone_of(t, name, len, offsets, (unsigned)labels);
}

int dp_table_builder_add_pod_synthesis(dp_table_builder *b, const uint8_t *suffix,
                                       size_t suffix_len, uint32_t ttl, char *err, size_t errlen) {
    uint8_t offsets[DP_MAX_LABELS];
    int labels = dp_name_labels(suffix, suffix_len, offsets);
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

/* The builder's name that is `head` then `tail`, or NULL: a table's record
 * keeps its name without its zone's apex, so a delta asks with the two. */
build_name *dp_builder_find_split(const dp_table_builder *b, const uint8_t *head, size_t head_len,
                                  const uint8_t *tail, size_t tail_len, uint32_t hash) {
    if (b->slots == NULL) return NULL;
    for (size_t i = hash & b->slot_mask;; i = (i + 1) & b->slot_mask) {
        uint32_t slot = b->slots[i];
        if (slot == 0) return NULL;
        build_name *n = &b->names[slot - 1];
        if (n->hash == hash && n->name_len == head_len + tail_len &&
            memcmp(n->name, head, head_len) == 0 && memcmp(n->name + head_len, tail, tail_len) == 0)
            return n;
    }
}

build_name *dp_builder_find(const dp_table_builder *b, const uint8_t *name, size_t len,
                            uint32_t hash) {
    return dp_builder_find_split(b, name, len, name + len, 0, hash);
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
    n->name = dp_arena_copy(&b->staging, name, len);
    if (n->name == NULL) return NULL;
    n->name_len = (uint8_t)len;
    n->hash = hash;
    size_t i = hash & b->slot_mask;
    while (b->slots[i] != 0) i = (i + 1) & b->slot_mask;
    b->slots[i] = (uint32_t)(b->name_count + 1);
    b->name_count++;
    return n;
}

dp_answer *dp_builder_answers_of(const dp_table_builder *b, const build_name *n) {
    return b->log + n->first_answer;
}

/* Makes room for `more` answers at the end of the log. */
static bool reserve_log(dp_table_builder *b, size_t more) {
    if (b->log_count + more <= b->log_cap) return true;
    size_t cap = b->log_cap ? b->log_cap * 2 : 4096;
    while (cap < b->log_count + more) cap *= 2;
    if (cap > UINT32_MAX) return false;
    dp_answer *log = realloc(b->log, cap * sizeof(dp_answer));
    if (log == NULL) return false;
    b->log = log;
    b->log_cap = cap;
    return true;
}

static int append_answer(dp_table_builder *b, build_name *n, dp_answer answer, char *err,
                         size_t errlen) {
    if (!reserve_log(b, (size_t)n->answer_count + 1)) return dp_fail(err, errlen, "out of memory");
    /* A run not at the end of the log (a delta answering a name again)
     * moves there; its old place is left unused. */
    if (n->answer_count == 0 || n->first_answer + n->answer_count != b->log_count) {
        memcpy(b->log + b->log_count, dp_builder_answers_of(b, n),
               n->answer_count * sizeof(dp_answer));
        n->first_answer = (uint32_t)b->log_count;
        b->log_count += n->answer_count;
    }
    dp_answer *answers = dp_builder_answers_of(b, n);
    answers[n->answer_count++] = answer;
    b->log_count++;
    /* The default answer stays last, where a record keeps it (answer.c). */
    if (answer.qtype != 0 && n->answer_count > 1 && answers[n->answer_count - 2].qtype == 0) {
        answers[n->answer_count - 1] = answers[n->answer_count - 2];
        answers[n->answer_count - 2] = answer;
    }
    return 0;
}

/* The name an answer for `qtype` is added to: in a zone, without one yet. */
static build_name *entry_for_answer(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                    uint16_t qtype, char *err, size_t errlen) {
    char text[1024];
    uint32_t hash = dp_name_hash(qname, qname_len);
    build_name *n = dp_builder_find(b, qname, qname_len, hash);
    if (n == NULL || n->removed) {
        /* A name a delta removes may be in no zone; one answered must be. */
        const dp_zone *zone = zone_for_builder(b->table, qname, qname_len);
        if (zone == NULL) {
            dp_builder_name_text(qname, qname_len, text, sizeof(text));
            dp_fail(err, errlen, "%s is not a lower-case name in any zone", text);
            return NULL;
        }
        if (n == NULL) n = add_name_entry(b, qname, qname_len, hash);
        if (n == NULL) {
            dp_fail(err, errlen, "out of memory");
            return NULL;
        }
        n->removed = false;
        n->answer_count = 0;
        n->has_default = false;
        n->rrset_kind = 0;
        n->any_type = 0;
        n->apex_len = zone->apex_len;
    }
    if (n->rrset_kind != 0) {
        dp_builder_name_text(qname, qname_len, text, sizeof(text));
        dp_fail(err, errlen, "%s has an RRset kept as rdatas, and no other answers", text);
        return NULL;
    }
    bool given = qtype == 0 && n->has_default;
    for (uint16_t i = 0; i < n->answer_count; i++)
        given |= dp_builder_answers_of(b, n)[i].qtype == qtype;
    if (given) {
        dp_builder_name_text(qname, qname_len, text, sizeof(text));
        dp_fail(err, errlen, "%s has two answers for type %u", text, qtype);
        return NULL;
    }
    /* A record keeps the index of ANY's answer in one byte. */
    if (n->answer_count == DP_MAX_ANSWERS) {
        dp_builder_name_text(qname, qname_len, text, sizeof(text));
        dp_fail(err, errlen, "%s has more than %d answers", text, DP_MAX_ANSWERS);
        return NULL;
    }
    return n;
}

int dp_table_builder_add_answer(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                uint16_t qtype, uint8_t rcode, const uint8_t *rrs, size_t rrs_len,
                                uint16_t ancount, uint16_t nscount, uint16_t arcount, char *err,
                                size_t errlen) {
    dp_table *t = b->table;
    char text[1024];
    if (qtype == DP_TYPE_ANY)
        return dp_fail(err, errlen,
                       "ANY takes the answer of a type: dp_table_builder_answer_any_as");
    build_name *n = entry_for_answer(b, qname, qname_len, qtype, err, errlen);
    if (n == NULL) return -1;
    if (qtype == 0) n->has_default = true;

    const uint16_t counts[3] = {ancount, nscount, arcount};
    uint8_t *wire = b->scratch;
    dp_answer answer = {.qtype = qtype};
    if (!dp_fit_reply(wire, qname, qname_len, qtype, rcode, rrs, rrs_len, counts, &answer)) {
        dp_builder_name_text(qname, qname_len, text, sizeof(text));
        return dp_fail(err, errlen, "answer for %s type %u: malformed records", text, qtype);
    }

    if (rcode == DP_RCODE_NOERROR && qtype != DP_TYPE_CNAME && ancount > 0 &&
        dp_reply_ends_outside(t, rrs, rrs_len, ancount))
        answer.rotate_count = DP_ANSWER_CHASE;

    /* Answers with the same sections share one wire (a CNAME's answers for
     * types its target lacks). */
    for (uint16_t i = 0; i < n->answer_count; i++) {
        if (dp_same_reply(&dp_builder_answers_of(b, n)[i], wire, answer.len, qname_len)) {
            answer.wire = dp_builder_answers_of(b, n)[i].wire;
            return append_answer(b, n, answer, err, errlen);
        }
    }
    answer.wire = dp_keep_reply(&b->staging, wire, answer.len, qname_len);
    if (answer.wire == NULL) return dp_fail(err, errlen, "out of memory");
    return append_answer(b, n, answer, err, errlen);
}

int dp_table_builder_add_name(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                              char *err, size_t errlen) {
    build_name *n = entry_for_answer(b, qname, qname_len, 0, err, errlen);
    if (n == NULL) return -1;
    n->has_default = true; /* NODATA: kept as no answer at all (answer.c) */
    return 0;
}

int dp_table_builder_answer_any_as(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                   uint16_t qtype, char *err, size_t errlen) {
    build_name *n = dp_builder_find(b, qname, qname_len, dp_name_hash(qname, qname_len));
    for (uint16_t i = 0; n != NULL && !n->removed && i < n->answer_count; i++) {
        if (dp_builder_answers_of(b, n)[i].qtype != qtype) continue;
        n->any_type = qtype;
        return 0;
    }
    char text[1024];
    dp_builder_name_text(qname, qname_len, text, sizeof(text));
    return dp_fail(err, errlen, "ANY for %s: it has no answer for type %u", text, qtype);
}

int dp_table_builder_remove_name(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                 char *err, size_t errlen) {
    uint8_t offsets[DP_MAX_LABELS];
    if (dp_name_labels(qname, qname_len, offsets) < 0)
        return dp_fail(err, errlen, "a removed name is not a lower-case wire name");
    uint32_t hash = dp_name_hash(qname, qname_len);
    build_name *n = dp_builder_find(b, qname, qname_len, hash);
    if (n == NULL) n = add_name_entry(b, qname, qname_len, hash);
    if (n == NULL) return dp_fail(err, errlen, "out of memory");
    n->answer_count = 0;
    n->has_default = false;
    n->rrset_kind = 0;
    n->any_type = 0;
    n->removed = true;
    return 0;
}

int dp_table_builder_add_rrset(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                               uint16_t type, const dp_rrset *rrset, const uint8_t *rdatas,
                               char *err, size_t errlen) {
    build_name *n = entry_for_answer(b, qname, qname_len, type, err, errlen);
    if (n == NULL) return -1;
    if (n->answer_count != 0 || n->has_default) {
        char text[1024];
        dp_builder_name_text(qname, qname_len, text, sizeof(text));
        return dp_fail(err, errlen, "%s has answers besides its type %u records", text, type);
    }
    size_t len = sizeof(dp_rrset) + rrset->rdata_len;
    uint8_t *kept = dp_arena_alloc(&b->staging, len);
    if (kept == NULL) return dp_fail(err, errlen, "out of memory");
    memcpy(kept, rrset, sizeof(dp_rrset));
    memcpy(kept + sizeof(dp_rrset), rdatas, rrset->rdata_len);
    dp_answer answer = {.wire = kept, .len = (uint16_t)len, .qtype = type};
    if (append_answer(b, n, answer, err, errlen) != 0) return -1;
    n->rrset_kind = type == DP_TYPE_PTR ? DP_RECORD_PTR
                    : type == DP_TYPE_A ? DP_RECORD_A
                                        : DP_RECORD_AAAA;
    n->has_default = true;
    return 0;
}

/* Whether two tables have the same zones, in the same order: a record
 * names its zone by its index (dp_record). */
static bool same_zones(const dp_table *a, const dp_table *b) {
    if (a->zone_count != b->zone_count) return false;
    for (unsigned i = 0; i < a->zone_count; i++) {
        const dp_zone *x = &a->zones[i], *y = &b->zones[i];
        if (x->apex_len != y->apex_len || memcmp(x->apex, y->apex, x->apex_len) != 0) return false;
    }
    return true;
}

/* A builder's error: a name without a default answer. */
static int check_defaults(const dp_table_builder *b, char *err, size_t errlen) {
    for (size_t i = 0; i < b->name_count; i++) {
        const build_name *n = &b->names[i];
        if (n->has_default || n->removed) continue;
        char text[1024];
        dp_builder_name_text(n->name, n->name_len, text, sizeof(text));
        return dp_fail(err, errlen, "%s has no default answer", text);
    }
    return 0;
}

dp_table *dp_table_builders_finish(dp_table_builder **builders, size_t count, char *err,
                                   size_t errlen) {
    if (count == 0 || count > DP_MAX_BUILDERS) {
        for (size_t k = 0; k < count; k++) dp_table_builder_free(builders[k]);
        dp_fail(err, errlen, "from 1 to %d builders make a table", DP_MAX_BUILDERS);
        return NULL;
    }
    dp_table *table = builders[0]->table;
    int status = 0;
    if (count > 1 && builders[0]->base != NULL)
        status = dp_fail(err, errlen, "a delta is built by one builder");
    for (size_t k = 1; k < count && status == 0; k++)
        if (!same_zones(table, builders[k]->table))
            status = dp_fail(err, errlen, "the builders of a table have different zones");
    if (status == 0 && builders[0]->base != NULL && !same_zones(table, builders[0]->base))
        status = dp_fail(err, errlen, "a delta has zones other than its base's");
    for (size_t k = 0; k < count && status == 0; k++)
        status = check_defaults(builders[k], err, errlen);
    if (status == 0) status = dp_lay_out(builders, count, err, errlen);
    if (status == 0) builders[0]->table = NULL;
    for (size_t k = 0; k < count; k++) dp_table_builder_free(builders[k]);
    return status == 0 ? table : NULL;
}

dp_table *dp_table_builder_finish(dp_table_builder *b, char *err, size_t errlen) {
    return dp_table_builders_finish(&b, 1, err, errlen);
}

void dp_table_builder_free(dp_table_builder *b) {
    if (b == NULL) return;
    free(b->log);
    free(b->names);
    free(b->slots);
    free(b->scratch);
    dp_arena_free(&b->staging);
    dp_table_free(b->table);
    free(b);
}
