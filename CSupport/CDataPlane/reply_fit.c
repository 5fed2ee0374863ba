/*
 * reply_fit.c — the replies a table keeps: each written once with name
 * compression (wire.c), cut to what a message holds, told apart from the
 * name's other answers, and kept without its question.
 */
#include "dp_table_builder.h"
#include "dp_wire.h"

#include <string.h>

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

bool dp_fit_reply(uint8_t *wire, const uint8_t *qname, size_t qname_len, uint16_t qtype,
                  uint8_t rcode, const uint8_t *rrs, size_t rrs_len, const uint16_t counts[3],
                  dp_answer *answer) {
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

bool dp_reply_ends_outside(const dp_table *t, const uint8_t *rrs, size_t len, uint16_t ancount) {
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

bool dp_same_reply(const dp_answer *a, const uint8_t *wire, size_t len, size_t qname_len) {
    if (a->wire == NULL || a->len != len) return false;
    size_t after_question = DP_HEADER_SIZE + qname_len + 4;
    return memcmp(a->wire, wire, DP_HEADER_SIZE) == 0 &&
           memcmp(a->wire + DP_HEADER_SIZE, wire + after_question, len - after_question) == 0;
}

const uint8_t *dp_keep_reply(dp_arena *arena, const uint8_t *wire, size_t len, size_t qname_len) {
    size_t after_question = DP_HEADER_SIZE + qname_len + 4;
    uint8_t *kept = dp_arena_alloc(arena, len - qname_len - 4);
    if (kept == NULL) return NULL;
    memcpy(kept, wire, DP_HEADER_SIZE);
    memcpy(kept + DP_HEADER_SIZE, wire + after_question, len - after_question);
    return kept;
}
