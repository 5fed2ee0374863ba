/*
 * answer.c — one query in, one reply out: table lookup, EDNS0, truncation.
 *
 * Replies are copies of precomputed wire answers; per query we only patch
 * the ID and flags, put the client's question between the kept header and
 * sections (so the reply echoes its case), and append OPT. Compression pointers in the answers
 * point at offset 12 or later, where the question always is, with the
 * same length whatever its case.
 */
#include "dp_internal.h"
#include "dp_wire.h"
#include "stages.h"

#include <arpa/inet.h>

/* QDCOUNT, ANCOUNT, NSCOUNT, ARCOUNT. */
static inline void set_counts(uint8_t *out, uint16_t qd, uint16_t an, uint16_t ns, uint16_t ar) {
    dp_write16(out + 4, qd);
    dp_write16(out + 6, an);
    dp_write16(out + 8, ns);
    dp_write16(out + 10, ar);
}

/* Flags: QR and our AA/RA/RCODE from the template, RD and CD from the query. */
static inline void patch_header(uint8_t *out, const uint8_t *query, uint8_t flags1,
                                uint8_t flags2) {
    out[0] = query[0];
    out[1] = query[1];
    out[2] = (uint8_t)(flags1 | 0x80 | (query[2] & 0x01));
    out[3] = (uint8_t)(flags2 | (query[3] & 0x10));
}

/* RFC 6891 §6.1: our OPT; the DO bit is copied (RFC 3225 §3). */
size_t dp_append_opt(uint8_t *out, size_t len, const dp_query *q, uint8_t extended_rcode) {
    uint8_t *p = out + len;
    p[0] = 0;
    dp_write16(p + 1, DP_TYPE_OPT);
    dp_write16(p + 3, DP_EDNS_UDP_SIZE);
    p[5] = extended_rcode;
    p[6] = 0;
    p[7] = q->edns_do ? 0x80 : 0;
    p[8] = 0;
    dp_write16(p + 9, 0);
    dp_write16(out + 10, (uint16_t)(dp_read16(out + 10) + 1));
    return len + DP_OPT_RR_SIZE;
}

/* The size a reply may have: 512 without EDNS (RFC 1035 §4.2.1), else the
 * client's buffer (at least 512, RFC 6891 §6.2.5), at most what we advertise. */
size_t dp_reply_limit(const dp_query *q, size_t cap, int transport) {
    size_t limit = DP_TCP_MAX_MESSAGE;
    if (transport == DP_UDP) {
        limit = 512;
        if (q->edns && q->edns_udp_size > 512)
            limit = q->edns_udp_size < DP_EDNS_UDP_SIZE ? q->edns_udp_size : DP_EDNS_UDP_SIZE;
    }
    return limit < cap ? limit : cap;
}

/* Header and question only, with `rcode`; TC when `truncated`. */
size_t dp_reply_question_only(const dp_query *q, uint8_t rcode, bool authoritative, bool truncated,
                              uint8_t extended_rcode, uint8_t *out, size_t cap) {
    size_t qlen = q->question_end;
    if (qlen + DP_OPT_RR_SIZE > cap) return 0;
    memcpy(out, q->wire, qlen);
    patch_header(out, q->wire, (uint8_t)((authoritative ? 0x04 : 0) | (truncated ? 0x02 : 0)),
                 rcode);
    set_counts(out, 1, 0, 0, 0);
    return q->edns ? dp_append_opt(out, qlen, q, extended_rcode) : qlen;
}

size_t dp_reply_header_only(const uint8_t *query, size_t query_len, uint8_t rcode, uint8_t *out,
                            size_t cap) {
    if (query_len < DP_HEADER_SIZE || cap < DP_HEADER_SIZE) return 0;
    out[0] = query[0];
    out[1] = query[1];
    out[2] = (uint8_t)(0x80 | (query[2] & 0x79)); /* QR, the opcode and RD echoed */
    out[3] = rcode;
    memset(out + 4, 0, 8);
    return DP_HEADER_SIZE;
}

/* Where the answers to `q` start in a set of `count` addresses: at a
 * place chosen by the query's ID (random, RFC 5452), so clients of a
 * headless service spread over its endpoints, as kube-dns's round robin did. */
static size_t first_address(const dp_query *q, size_t count) {
    return (size_t)dp_read16(q->wire) % count;
}

/* Writes the first `len` bytes of an answer's reply: its header, the
 * query's question, then its sections, a set of addresses turned to
 * start at first_address. */
static void copy_answer(uint8_t *out, const dp_answer *a, size_t len, const dp_query *q) {
    size_t start = q->question_end;
    const uint8_t *sections = a->wire + DP_HEADER_SIZE;
    memcpy(out, a->wire, DP_HEADER_SIZE);
    memcpy(out + DP_HEADER_SIZE, q->wire + DP_HEADER_SIZE, start - DP_HEADER_SIZE);
    if (!dp_answer_rotates(a)) {
        memcpy(out + start, sections, len - start);
        return;
    }
    size_t size = sections[3] == DP_TYPE_A ? DP_ROTATE_A_SIZE : DP_ROTATE_AAAA_SIZE;
    /* Only the answer section turns; its records all precede `len`. */
    size_t all = size * a->rotate_count;
    size_t first = size * first_address(q, a->rotate_count);
    memcpy(out + start, sections + first, all - first);
    memcpy(out + start + all - first, sections, first);
    memcpy(out + start + all, sections + all, len - start - all);
}

/* An answer too long for the limit even without its additional section:
 * TC, with as many whole answer records as fit (RFC 2181 §9), as skydns
 * and CoreDNS (miekg/dns Truncate) reply, so a client that cannot retry
 * over TCP still gets some. Each record's names only point backwards,
 * so a prefix of the records stands alone. A set of addresses is cut
 * after its turn (copy_answer), so clients get different subsets. */
static size_t reply_truncated(const dp_answer *a, const dp_query *q, uint8_t *out, size_t room) {
    size_t start = q->question_end;
    const uint8_t *sections = a->wire + DP_HEADER_SIZE;
    size_t kept = 0;
    unsigned records = 0;
    memcpy(out, a->wire, DP_HEADER_SIZE);
    memcpy(out + DP_HEADER_SIZE, q->wire + DP_HEADER_SIZE, start - DP_HEADER_SIZE);
    if (dp_answer_rotates(a)) {
        size_t size = sections[3] == DP_TYPE_A ? DP_ROTATE_A_SIZE : DP_ROTATE_AAAA_SIZE;
        size_t count = a->rotate_count;
        size_t first = first_address(q, count);
        records = (unsigned)((room - start) / size);
        if (records > count) records = (unsigned)count;
        for (unsigned i = 0; i < records; i++)
            memcpy(out + start + i * size, sections + ((first + i) % count) * size, size);
        kept = records * size;
    } else {
        size_t available = a->len - start;
        unsigned ancount = dp_read16(a->wire + 6);
        while (records < ancount) {
            size_t next = dp_skip_name(sections, available, kept);
            if (next == 0 || next + 10 > available) break;
            next += 10 + (size_t)dp_read16(sections + next + 8);
            if (next > available || start + next > room) break;
            kept = next;
            records++;
        }
        memcpy(out + start, sections, kept);
    }
    patch_header(out, q->wire, (uint8_t)(a->wire[2] | 0x02), a->wire[3]);
    set_counts(out, 1, (uint16_t)records, 0, 0);
    return start + kept;
}

/* A precomputed answer, made to fit the limit (RFC 2181 §9: drop the
 * additional section first, then truncate with TC). */
static size_t reply_from_answer(const dp_answer *a, const dp_query *q, uint8_t *out, size_t cap,
                                int transport) {
    size_t limit = dp_reply_limit(q, cap, transport);
    size_t opt = q->edns ? DP_OPT_RR_SIZE : 0;
    size_t len = a->len;
    bool drop_additional = false;
    if (len + opt > limit) {
        if (a->len_without_additional + opt > limit) {
            if (q->question_end + opt > limit)
                return dp_reply_question_only(q, DP_RCODE_NOERROR, true, true, 0, out, cap);
            len = reply_truncated(a, q, out, limit - opt);
            return opt ? dp_append_opt(out, len, q, 0) : len;
        }
        len = a->len_without_additional;
        drop_additional = true;
    }
    copy_answer(out, a, len, q);
    patch_header(out, q->wire, a->wire[2], a->wire[3]);
    if (drop_additional) dp_write16(out + 10, 0);
    return opt ? dp_append_opt(out, len, q, 0) : len;
}

/* Question, then one uncompressed RR in the authority section (NXDOMAIN,
 * NODATA: RFC 2308 §2). */
static size_t reply_negative(const dp_query *q, const dp_zone *z, uint8_t rcode, uint8_t *out,
                             size_t cap, int transport) {
    size_t limit = dp_reply_limit(q, cap, transport);
    size_t opt = q->edns ? DP_OPT_RR_SIZE : 0;
    size_t len = q->question_end + z->soa_len;
    if (len + opt > limit) return dp_reply_question_only(q, rcode, true, true, 0, out, cap);
    memcpy(out, q->wire, q->question_end);
    patch_header(out, q->wire, 0x04, rcode);
    set_counts(out, 1, 0, 1, 0);
    memcpy(out + q->question_end, z->soa_rr, z->soa_len);
    return opt ? dp_append_opt(out, len, q, 0) : len;
}

/* Writes the header and question of an authoritative NOERROR reply with
 * `ancount` answer records, which follow; returns where they go. */
static uint8_t *start_answer(uint8_t *out, const dp_query *q, uint16_t ancount) {
    memcpy(out, q->wire, q->question_end);
    patch_header(out, q->wire, 0x04, DP_RCODE_NOERROR);
    set_counts(out, 1, ancount, 0, 0);
    return out + q->question_end;
}

/* Writes the fixed fields of an answer record whose owner is the
 * question's name; its rdata, `rdlen` bytes, follows them. Returns their size. */
static size_t put_answer_fields(uint8_t *rr, uint16_t type, uint32_t ttl, size_t rdlen) {
    dp_write16(rr, 0xC000 | DP_HEADER_SIZE);
    dp_write16(rr + 2, type);
    dp_write16(rr + 4, DP_CLASS_IN);
    dp_write16(rr + 6, (uint16_t)(ttl >> 16));
    dp_write16(rr + 8, (uint16_t)ttl);
    dp_write16(rr + 10, (uint16_t)rdlen);
    return 12;
}

/* Writes an answer record whose owner is the question's name; returns
 * its size. */
static size_t put_answer_rr(uint8_t *rr, uint16_t type, uint32_t ttl, const uint8_t *rdata,
                            size_t rdlen) {
    put_answer_fields(rr, type, ttl, rdlen);
    memcpy(rr + 12, rdata, rdlen);
    return 12 + rdlen;
}

/* A PTR target as a dp_rrset keeps it (DP_TARGET_IN_ZONE): the bytes of
 * its labels there; `zone` is the zone whose apex follows them, or NULL
 * when they are the whole name. */
typedef struct kept_target {
    size_t labels_len;
    const dp_zone *zone;
} kept_target;

static kept_target read_target(const dp_table *t, const uint8_t *target) {
    size_t at = 0;
    while (target[at] != 0 && target[at] < DP_TARGET_IN_ZONE) at += 1 + (size_t)target[at];
    if (target[at] == 0) return (kept_target){.labels_len = at + 1, .zone = NULL};
    return (kept_target){.labels_len = at, .zone = &t->zones[target[at] & (DP_TARGET_IN_ZONE - 1)]};
}

/* Its bytes in the table, and in a reply. */
static size_t target_kept_len(kept_target k) { return k.labels_len + (k.zone != NULL); }
static size_t target_wire_len(kept_target k) {
    return k.labels_len + (k.zone ? k.zone->apex_len : 0);
}

/* A record's RRset, written from its rdatas (dp_rrset): each owner a
 * pointer to the question; PTR targets uncompressed, in their order;
 * addresses from first_address on, as a kept reply of them turns. Past
 * the limit, the records that fit and TC (RFC 2181 §9, reply_truncated). */
static size_t reply_rrset(const dp_table *t, const dp_record *r, const dp_query *q, uint8_t *out,
                          size_t cap, int transport) {
    const dp_rrset *s = dp_record_rrset(r);
    uint16_t type = dp_record_rrset_type(r);
    const uint8_t *rdata = (const uint8_t *)(s + 1);
    size_t opt = q->edns ? DP_OPT_RR_SIZE : 0;
    size_t limit = dp_reply_limit(q, cap, transport);
    if (q->question_end + opt > limit)
        return dp_reply_question_only(q, DP_RCODE_NOERROR, true, true, 0, out, cap);
    size_t room = limit - opt;
    size_t len = q->question_end;
    uint16_t written = 0;
    uint8_t *rr = start_answer(out, q, 0);
    if (type == DP_TYPE_PTR) {
        for (; written < s->count; written++) {
            kept_target k = read_target(t, rdata);
            size_t target_len = target_wire_len(k);
            if (len + 12 + target_len > room) break;
            len += 12 + target_len;
            rr += put_answer_fields(rr, DP_TYPE_PTR, s->ttl, target_len);
            memcpy(rr, rdata, k.labels_len);
            if (k.zone != NULL) memcpy(rr + k.labels_len, k.zone->apex, k.zone->apex_len);
            rr += target_len;
            rdata += target_kept_len(k);
        }
    } else {
        size_t size = type == DP_TYPE_A ? 4 : 16, first = first_address(q, s->count);
        size_t fits = (room - len) / (12 + size);
        written = (uint16_t)(fits < s->count ? fits : s->count);
        for (size_t i = 0; i < written; i++)
            rr += put_answer_rr(rr, type, s->ttl, rdata + size * ((first + i) % s->count), size);
        len += written * (12 + size);
    }
    dp_write16(out + 6, written);
    if (written < s->count) out[2] |= 0x02;
    return opt ? dp_append_opt(out, len, q, 0) : len;
}

/* Parses the dashed address of a pod label (`10-1-2-3`, `fd00--1`). */
static int parse_dashed_address(const uint8_t *label, uint8_t *address) {
    uint8_t length = label[0];
    if (length == 0 || length > 45) return 0;
    char text[46];
    bool v6 = false;
    for (unsigned i = 0; i < length; i++) {
        char c = (char)label[1 + i];
        if (c == '-') {
            text[i] = '.';
        } else {
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
            if (c >= 'a') v6 = true;
            text[i] = c;
        }
    }
    text[length] = 0;
    if (!v6 && inet_pton(AF_INET, text, address) == 1) return 4;
    for (unsigned i = 0; i < length; i++)
        if (text[i] == '.') text[i] = ':';
    return inet_pton(AF_INET6, text, address) == 1 ? 16 : 0;
}

/*
 * kube-dns "pods insecure": `<a-b-c-d>.<ns>.pod.<zone>` has the A record
 * of the address in its first label, when `<ns>.pod.<zone>` exists.
 * Returns 0 when the name is not such a name.
 */
static size_t reply_pod(const dp_table *t, const dp_zone *z, const dp_query *q, uint8_t *out,
                        size_t cap, int transport) {
    if (!z->pod_synthesis || q->labels != z->pod_suffix_labels + 2) return 0;
    size_t suffix_at = q->name_len - z->pod_suffix_len;
    if (memcmp(q->name + suffix_at, z->pod_suffix, z->pod_suffix_len) != 0) return 0;
    const uint8_t *ns = q->name + q->label_offsets[1];
    size_t ns_len = q->name_len - q->label_offsets[1];
    if (dp_table_find(t, ns, ns_len, dp_name_hash(ns, ns_len)) == NULL) return 0;

    uint8_t address[16];
    int size = parse_dashed_address(q->name, address);
    if (size == 0) return reply_negative(q, z, DP_RCODE_NXDOMAIN, out, cap, transport);
    uint16_t type = size == 4 ? DP_TYPE_A : DP_TYPE_AAAA;
    if (q->qtype != type && q->qtype != DP_TYPE_ANY)
        return reply_negative(q, z, DP_RCODE_NOERROR, out, cap, transport);

    size_t opt = q->edns ? DP_OPT_RR_SIZE : 0;
    size_t len = q->question_end + 12 + (size_t)size;
    if (len + opt > dp_reply_limit(q, cap, transport))
        return dp_reply_question_only(q, DP_RCODE_NOERROR, true, true, 0, out, cap);
    put_answer_rr(start_answer(out, q, 1), type, z->pod_ttl, address, (size_t)size);
    return opt ? dp_append_opt(out, len, q, 0) : len;
}

/* NODATA from the zone's SOA: the default answer of a record keeping none. */
static const dp_answer nodata = {.wire = NULL};

static const dp_answer *default_answer(const dp_record *r) {
    if (r->answer_count == 0 || r->answers[r->answer_count - 1].qtype != 0) return &nodata;
    return &r->answers[r->answer_count - 1];
}

static const dp_answer *answer_for(const dp_record *r, uint16_t qtype) {
    if (qtype == DP_TYPE_ANY)
        return r->any_answer ? &r->answers[r->any_answer - 1] : default_answer(r);
    for (uint16_t i = 0; i < r->answer_count; i++)
        if (r->answers[i].qtype == qtype) return &r->answers[i];
    return default_answer(r);
}

size_t dp_record_text(const dp_record *r, uint8_t *out) {
    if (dp_record_has_rrset(r)) return 0;
    const dp_answer *a = answer_for(r, DP_TYPE_TXT);
    if (a->wire == NULL || a->qtype != DP_TYPE_TXT || dp_read16(a->wire + 6) == 0) return 0;
    /* The first answer RR, after the header: its owner (a pointer to the
     * question, which the kept wire does not hold), fixed fields, RDATA. */
    size_t len = dp_answer_wire_size(a, 0);
    size_t pos = dp_skip_name(a->wire, len, DP_HEADER_SIZE);
    if (pos == 0 || pos + 11 > len || dp_read16(a->wire + pos) != DP_TYPE_TXT) return 0;
    size_t text = pos + 10;
    size_t text_len = a->wire[text];
    if (text + 1 + text_len > len) return 0;
    memcpy(out, a->wire + text + 1, text_len);
    return text_len;
}

void dp_query_prepare(const dp_table *t, const uint8_t *wire, size_t len, dp_parsed *p) {
    p->answer = NULL;
    p->rrset = NULL;
    p->staged = NULL;
    p->rules = 0;
    p->templated = false;
    p->autopath = false;
    p->result = dp_query_parse(wire, len, &p->query);
    if (p->result == DP_PARSE_OK) dp_table_prefetch(t, p->query.hash);
}

void dp_query_probe(const dp_table *t, const dp_parsed *p) {
    if (p->result != DP_PARSE_OK || p->templated) return;
    const dp_shard_view *v = dp_table_view(t, p->query.hash);
    const dp_slot *slot =
        dp_shard_probe(v, dp_slot_start(v->slot_count, p->query.hash), p->query.hash);
    if (slot != NULL) __builtin_prefetch(v->records + slot->offset - 1);
}

void dp_query_locate(const dp_table *t, dp_parsed *p) {
    if (p->result != DP_PARSE_OK || p->templated) return;
    const dp_record *r = dp_table_find(t, p->query.name, p->query.name_len, p->query.hash);
    if (r == NULL || r->zone == t->internal_zone) return;
    if (dp_record_has_rrset(r)) {
        /* The RRset answers its type and ANY (RFC 8482 §4.1); other types are NODATA. */
        bool asked = p->query.qtype == dp_record_rrset_type(r) || p->query.qtype == DP_TYPE_ANY;
        p->rrset = asked ? r : NULL;
        p->answer = &nodata;
        return;
    }
    p->answer = answer_for(r, p->query.qtype);
    if (p->answer->wire != NULL) __builtin_prefetch(p->answer->wire);
}

size_t dp_query_answer(const dp_table *t, const uint8_t *wire, size_t len, uint8_t *out, size_t cap,
                       int transport) {
    dp_parsed p;
    dp_query_prepare(t, wire, len, &p);
    dp_query_locate(t, &p);
    return dp_query_reply(t, &p, out, cap, transport);
}

size_t dp_query_reply(const dp_table *t, dp_parsed *p, uint8_t *out, size_t cap, int transport) {
    const dp_query *q = &p->query;
    p->outside = false;
    p->chase = false;
    switch (p->result) {
    case DP_PARSE_DROP:
        return 0;
    case DP_PARSE_FORMERR:
        return dp_reply_header_only(q->wire, q->len, DP_RCODE_FORMERR, out, cap);
    case DP_PARSE_NOTIMP:
        return dp_reply_header_only(q->wire, q->len, DP_RCODE_NOTIMP, out, cap);
    case DP_PARSE_SERVFAIL:
        return dp_reply_question_only(q, DP_RCODE_SERVFAIL, false, false, 0, out, cap);
    case DP_PARSE_OK:
        break;
    }
    if (p->templated) return dp_template_reply(p, out, cap, transport);

    /* RFC 6891 §6.1.3: we speak EDNS version 0 only; BADVERS is 16, whose
     * upper 8 bits (1) go into the OPT record. */
    if (q->edns && q->edns_version != 0)
        return dp_reply_question_only(q, DP_RCODE_NOERROR, false, false, 1, out, cap);
    /* OPT is a pseudo-RR; it is no question (RFC 6891 §6.1.1). */
    if (q->qtype == DP_TYPE_OPT)
        return dp_reply_question_only(q, DP_RCODE_FORMERR, false, false, 0, out, cap);
    /* Only class IN is served. Zone transfers are not offered. */
    if (q->qclass != DP_CLASS_IN || q->qtype == DP_TYPE_AXFR || q->qtype == DP_TYPE_IXFR)
        return dp_reply_question_only(q, DP_RCODE_REFUSED, false, false, 0, out, cap);
    /* MAILA and MAILB (RFC 1035 §3.2.3) are obsolete; no server offers them. */
    if (q->qtype == DP_TYPE_MAILA || q->qtype == DP_TYPE_MAILB)
        return dp_reply_question_only(q, DP_RCODE_NOTIMP, false, false, 0, out, cap);

    /* The usual case: a reply of the table's. (Names are only in the table
     * under its zones, and an unsynced table has none.) */
    if (p->rrset != NULL) return reply_rrset(t, p->rrset, q, out, cap, transport);
    if (p->answer != NULL && p->answer->wire != NULL) {
        p->chase = p->answer->rotate_count == DP_ANSWER_CHASE && q->qtype != DP_TYPE_ANY;
        return reply_from_answer(p->answer, q, out, cap, transport);
    }

    const dp_zone *zone = dp_table_zone_of(t, q->name, q->name_len, q->label_offsets, q->labels);
    if (zone == NULL || zone->internal) {
        p->outside = true;
        return dp_reply_question_only(q, DP_RCODE_REFUSED, false, false, 0, out, cap);
    }
    /* Before the first load, say "try again", never "no such name". */
    if (t->unsynced) return dp_reply_question_only(q, DP_RCODE_SERVFAIL, false, false, 0, out, cap);
    /* A name without a reply of its own for this type: NODATA from its zone. */
    if (p->answer != NULL) return reply_negative(q, zone, DP_RCODE_NOERROR, out, cap, transport);

    size_t pod = reply_pod(t, zone, q, out, cap, transport);
    if (pod) return pod;
    if (!zone->authoritative) {
        p->outside = true;
        return dp_reply_question_only(q, DP_RCODE_REFUSED, false, false, 0, out, cap);
    }
    return reply_negative(q, zone, DP_RCODE_NXDOMAIN, out, cap, transport);
}
