/*
 * table_builder.c — building an answer table: every reply written once
 * per publication (wire.c), then laid out in shards that every worker
 * reads without locks (see dataplane.h, "Tables"). A delta builder starts
 * from a published table and rebuilds only the shards of the names it
 * changes. ldns prints names in errors.
 */
#include "dp_internal.h"
#include "dp_wire.h"

#include <ldns/ldns.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

/* A name while the table is built. Its answers are a run of the
 * builder's answer log: a name's answers come one after another (all its
 * types at once), so half a million names need no allocation each. */
typedef struct build_name {
    const uint8_t *name; /* in the builder's arena */
    uint32_t hash;
    uint8_t name_len;
    uint8_t apex_len;     /* of the zone it is in */
    bool removed : 1;     /* a delta drops the name */
    bool has_default : 1; /* a default answer given, or NODATA by add_name */
    uint8_t
        rrset_kind;    /* DP_RECORD_PTR, _A or _AAAA: the one answer's wire is a dp_rrset; else 0 */
    uint16_t any_type; /* the type whose answer ANY gets; 0: the default */
    uint16_t answer_count;
    uint32_t first_answer; /* in the builder's log */
} build_name;

struct dp_table_builder {
    dp_table *table;  /* zones, SOAs, flags; shards at finish */
    dp_arena staging; /* names and answer wires until laid out in shards */
    build_name *names;
    size_t name_count;
    size_t name_cap;
    dp_answer *log; /* every name's answers, each name's a run */
    size_t log_count;
    size_t log_cap;
    uint32_t *slots; /* open addressing: index into names + 1, 0 = empty */
    size_t slot_mask;
    uint8_t *scratch;     /* one reply being written */
    const dp_table *base; /* a delta's: read until finished */
};

static void name_to_text(const uint8_t *name, size_t len, char *text, size_t cap) {
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
    z->authoritative = authoritative != 0;
    z->soa_rr = dp_arena_copy(&t->arena, soa_rr, soa_len);
    z->soa_len = (uint16_t)soa_len;
    t->zone_count++;
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
static build_name *builder_find_split(const dp_table_builder *b, const uint8_t *head,
                                      size_t head_len, const uint8_t *tail, size_t tail_len,
                                      uint32_t hash) {
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

static build_name *builder_find(const dp_table_builder *b, const uint8_t *name, size_t len,
                                uint32_t hash) {
    return builder_find_split(b, name, len, name + len, 0, hash);
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

/* The number of answer RRs a reply may rotate: all A, or all AAAA, each
 * with its owner compressed to a pointer, so they are records of equal
 * size one after another; 0 otherwise. */
static uint16_t rotatable(const uint8_t *buf, size_t start, size_t end, uint16_t count) {
    if (count < 2) return 0;
    size_t size = (end - start) / count;
    uint16_t type = size == DP_ROTATE_A_SIZE      ? DP_TYPE_A
                    : size == DP_ROTATE_AAAA_SIZE ? DP_TYPE_AAAA
                                                  : 0;
    if (type == 0 || (end - start) % count != 0) return 0;
    for (size_t at = start; at < end; at += size)
        if ((buf[at] & 0xC0) != 0xC0 || dp_read16(buf + at + 2) != type) return 0;
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

/*
 * The reply, within a TCP message with room for OPT. One that cannot fit
 * (a headless service of thousands of endpoints; skydns's answer for a
 * name above every service) keeps what fits, as CoreDNS does: its
 * additional section goes first (RFC 2181 §9), then answer records from
 * the end; over UDP such a reply is truncated further, with TC, as any
 * other. False when the records are malformed.
 */
static bool build_fitting_reply(uint8_t *wire, const uint8_t *qname, size_t qname_len,
                                uint16_t qtype, uint8_t rcode, const uint8_t *rrs, size_t rrs_len,
                                const uint16_t counts[3], dp_answer *answer) {
    const size_t cap = DP_TCP_MAX_MESSAGE - DP_OPT_RR_SIZE;
    if (build_reply(wire, cap, qname, qname_len, qtype, rcode, rrs, rrs_len, counts, answer))
        return true;
    if (dp_rrs_end(rrs, rrs_len, (unsigned)counts[0] + counts[1] + counts[2]) != rrs_len)
        return false;
    uint16_t without_additional[3] = {counts[0], counts[1], 0};
    size_t len = dp_rrs_end(rrs, rrs_len, (unsigned)counts[0] + counts[1]);
    if (build_reply(wire, cap, qname, qname_len, qtype, rcode, rrs, len, without_additional,
                    answer))
        return true;
    /* Answers can be cut short only where no authority records follow them. */
    if (counts[1] != 0) return false;
    /* The most answer records that fit: at least none do. */
    uint16_t fits = 0, fails = counts[0];
    while (fails - fits > 1) {
        uint16_t mid = (uint16_t)(fits + (fails - fits) / 2);
        uint16_t trial[3] = {mid, 0, 0};
        if (build_reply(wire, cap, qname, qname_len, qtype, rcode, rrs,
                        dp_rrs_end(rrs, rrs_len, mid), trial, answer))
            fits = mid;
        else
            fails = mid;
    }
    uint16_t kept[3] = {fits, 0, 0};
    return build_reply(wire, cap, qname, qname_len, qtype, rcode, rrs,
                       dp_rrs_end(rrs, rrs_len, fits), kept, answer);
}

/* Whether the last of `ancount` uncompressed answer RRs is a CNAME to a
 * name under none of the table's authoritative zones. */
static bool ends_outside(const dp_table *t, const uint8_t *rrs, size_t len, uint16_t ancount) {
    /* The last answer RR starts where the ones before it end. */
    size_t start = dp_rrs_end(rrs, len, (unsigned)ancount - 1);
    if (ancount > 1 && start == 0) return false;
    size_t pos = dp_rr_fields(rrs, len, start);
    if (pos == 0) return false;
    uint16_t type = dp_read16(rrs + pos);
    size_t rdlen = (size_t)dp_read16(rrs + pos + 8);
    size_t rdata = pos + 10;
    if (type != DP_TYPE_CNAME || rdlen == 0 || rdlen > DP_MAX_NAME || rdata + rdlen > len)
        return false;
    uint8_t target[DP_MAX_NAME];
    for (size_t i = 0; i < rdlen; i++) target[i] = dp_lower(rrs[rdata + i]);
    for (size_t at = 0; at < rdlen; at += 1 + target[at]) {
        for (unsigned z = 0; z < t->zone_count; z++) {
            const dp_zone *zone = &t->zones[z];
            if (zone->authoritative && zone->apex_len == rdlen - at &&
                memcmp(zone->apex, target + at, zone->apex_len) == 0)
                return false;
        }
        if (target[at] == 0) break;
    }
    return true;
}

/* Whether a built reply has the same header and sections as an answer
 * already kept (the questions differ only in their type). */
static bool same_reply(const dp_answer *a, const uint8_t *wire, size_t len, size_t qname_len) {
    if (a->wire == NULL || a->len != len) return false;
    size_t after_question = DP_HEADER_SIZE + qname_len + 4;
    return memcmp(a->wire, wire, DP_HEADER_SIZE) == 0 &&
           memcmp(a->wire + DP_HEADER_SIZE, wire + after_question, len - after_question) == 0;
}

/* Keeps a built reply without its question (see dp_answer). */
static const uint8_t *keep_wire(dp_arena *arena, const uint8_t *wire, size_t len,
                                size_t qname_len) {
    size_t after_question = DP_HEADER_SIZE + qname_len + 4;
    uint8_t *kept = dp_arena_alloc(arena, len - qname_len - 4);
    if (kept == NULL) return NULL;
    memcpy(kept, wire, DP_HEADER_SIZE);
    memcpy(kept + DP_HEADER_SIZE, wire + after_question, len - after_question);
    return kept;
}

static dp_answer *answers_of(const dp_table_builder *b, const build_name *n) {
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
        memcpy(b->log + b->log_count, answers_of(b, n), n->answer_count * sizeof(dp_answer));
        n->first_answer = (uint32_t)b->log_count;
        b->log_count += n->answer_count;
    }
    dp_answer *answers = answers_of(b, n);
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
    build_name *n = builder_find(b, qname, qname_len, hash);
    if (n == NULL || n->removed) {
        /* A name a delta removes may be in no zone; one answered must be. */
        const dp_zone *zone = zone_for_builder(b->table, qname, qname_len);
        if (zone == NULL) {
            name_to_text(qname, qname_len, text, sizeof(text));
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
        name_to_text(qname, qname_len, text, sizeof(text));
        dp_fail(err, errlen, "%s has an RRset kept as rdatas, and no other answers", text);
        return NULL;
    }
    bool given = qtype == 0 && n->has_default;
    for (uint16_t i = 0; i < n->answer_count; i++) given |= answers_of(b, n)[i].qtype == qtype;
    if (given) {
        name_to_text(qname, qname_len, text, sizeof(text));
        dp_fail(err, errlen, "%s has two answers for type %u", text, qtype);
        return NULL;
    }
    /* A record keeps the index of ANY's answer in one byte. */
    if (n->answer_count == DP_MAX_ANSWERS) {
        name_to_text(qname, qname_len, text, sizeof(text));
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
    if (!build_fitting_reply(wire, qname, qname_len, qtype, rcode, rrs, rrs_len, counts, &answer)) {
        name_to_text(qname, qname_len, text, sizeof(text));
        return dp_fail(err, errlen, "answer for %s type %u: malformed records", text, qtype);
    }

    if (rcode == DP_RCODE_NOERROR && qtype != DP_TYPE_CNAME && ancount > 0 &&
        ends_outside(t, rrs, rrs_len, ancount))
        answer.rotate_count = DP_ANSWER_CHASE;

    /* Answers with the same sections share one wire (a CNAME's answers for
     * types its target lacks). */
    for (uint16_t i = 0; i < n->answer_count; i++) {
        if (same_reply(&answers_of(b, n)[i], wire, answer.len, qname_len)) {
            answer.wire = answers_of(b, n)[i].wire;
            return append_answer(b, n, answer, err, errlen);
        }
    }
    answer.wire = keep_wire(&b->staging, wire, answer.len, qname_len);
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
    build_name *n = builder_find(b, qname, qname_len, dp_name_hash(qname, qname_len));
    for (uint16_t i = 0; n != NULL && !n->removed && i < n->answer_count; i++) {
        if (answers_of(b, n)[i].qtype != qtype) continue;
        n->any_type = qtype;
        return 0;
    }
    char text[1024];
    name_to_text(qname, qname_len, text, sizeof(text));
    return dp_fail(err, errlen, "ANY for %s: it has no answer for type %u", text, qtype);
}

int dp_table_builder_remove_name(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                 char *err, size_t errlen) {
    uint8_t offsets[DP_MAX_LABELS];
    if (dp_name_labels(qname, qname_len, offsets) < 0)
        return dp_fail(err, errlen, "a removed name is not a lower-case wire name");
    uint32_t hash = dp_name_hash(qname, qname_len);
    build_name *n = builder_find(b, qname, qname_len, hash);
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
        name_to_text(qname, qname_len, text, sizeof(text));
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

/* ---- Laying out shards ------------------------------------------------ */

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
    const dp_answer *answers = answers_of(b, n);
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
            if (builder_find_split(l->builders[0], dp_record_name(r), r->name_len, z->apex,
                                   z->apex_len, r->hash) == NULL)
                scratch[count++] = kept_record(l->base, r);
        }
    }
    for (size_t k = 0; k < l->count; k++) {
        const dp_table_builder *b = l->builders[k];
        for (uint32_t at = l->starts[k][i]; at < l->starts[k][i + 1]; at++) {
            const build_name *n = &b->names[l->order[k][at]];
            for (size_t j = 0; j < k; j++) {
                if (builder_find(l->builders[j], n->name, n->name_len, n->hash) == NULL) continue;
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
            name_to_text(share->twice->name, share->twice->name_len, text, sizeof(text));
            return dp_fail(err, errlen, "%s is in two builders", text);
        }
        if (share->out_of_memory) return dp_fail(err, errlen, "out of memory");
        t->name_count += share->names;
        t->answer_count += share->answers;
        t->bytes += share->bytes;
    }
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
        name_to_text(n->name, n->name_len, text, sizeof(text));
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
    layout l = {.builders = builders,
                .count = count,
                .base = builders[0]->base,
                .table = builders[0]->table};
    int status = 0;
    if (count > 1 && l.base != NULL)
        status = dp_fail(err, errlen, "a delta is built by one builder");
    for (size_t k = 1; k < count && status == 0; k++)
        if (!same_zones(l.table, builders[k]->table))
            status = dp_fail(err, errlen, "the builders of a table have different zones");
    if (status == 0 && l.base != NULL && !same_zones(l.table, l.base))
        status = dp_fail(err, errlen, "a delta has zones other than its base's");
    for (size_t k = 0; k < count && status == 0; k++)
        status = check_defaults(builders[k], err, errlen);
    if (status == 0) status = lay_out_shards(&l, err, errlen);
    for (size_t k = 0; k < count; k++) {
        if (l.starts != NULL) free(l.starts[k]);
        if (l.order != NULL) free(l.order[k]);
    }
    free(l.starts);
    free(l.order);
    free(l.touched);
    if (status == 0) builders[0]->table = NULL;
    for (size_t k = 0; k < count; k++) dp_table_builder_free(builders[k]);
    return status == 0 ? l.table : NULL;
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
