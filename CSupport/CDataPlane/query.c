/*
 * query.c — early sanity checks and the parse of one query.
 *
 * The usual query (one question, no answer or authority records, at most
 * one OPT record) is parsed here without allocating. Any other shape is
 * handed to ldns, which validates the whole message (every RR, every name,
 * compression pointers) before we answer it.
 */
#include "dp_internal.h"

#include <ldns/ldns.h>

/*
 * Reads the question name at offset 12 into q->name, lower-cased.
 * Returns the offset past the name, or 0 when the name is malformed: a
 * compression pointer (nothing precedes the question that it could point
 * to, so it is a loop or points into the header), an extended label type
 * (RFC 6891 §5), or a name over 255 bytes (RFC 1035 §3.1).
 */
static size_t parse_qname(const uint8_t *wire, size_t len, dp_query *q) {
    unsigned labels;
    size_t end;
    size_t name_len =
        dp_copy_name(wire, len, DP_HEADER_SIZE, false, q->name, q->label_offsets, &labels, &end);
    if (name_len == 0) return 0;
    q->name_len = (uint8_t)name_len;
    q->labels = (uint8_t)labels;
    return end;
}

/* Whether OPT RDATA is a sequence of whole options: code (2), length
 * (2), data (RFC 6891 §6.1.2). One running past the RDATA makes the
 * message malformed: FORMERR (§7). */
static bool opt_options_whole(const uint8_t *data, size_t len) {
    size_t opt = 0;
    while (opt < len) {
        if (opt + 4 > len) return false;
        size_t next = opt + 4 + dp_read16(data + opt + 2);
        if (next > len) return false;
        opt = next;
    }
    return true;
}

typedef enum { OPT_OK, OPT_OTHER_SHAPE, OPT_MALFORMED } opt_parse;

/* Reads an OPT record that must be the only RR after the question. */
static opt_parse parse_opt(const uint8_t *wire, size_t len, size_t pos, dp_query *q) {
    /* root owner (1) + type (2) + class (2) + TTL (4) + RDLENGTH (2) */
    if (pos + DP_OPT_RR_SIZE > len) return OPT_OTHER_SHAPE;
    if (wire[pos] != 0 || dp_read16(wire + pos + 1) != DP_TYPE_OPT) return OPT_OTHER_SHAPE;
    uint16_t rdlen = dp_read16(wire + pos + 9);
    if (pos + DP_OPT_RR_SIZE + rdlen > len) return OPT_OTHER_SHAPE;
    if (!opt_options_whole(wire + pos + DP_OPT_RR_SIZE, rdlen)) return OPT_MALFORMED;
    q->edns = true;
    q->edns_udp_size = dp_read16(wire + pos + 3);
    q->edns_version = wire[pos + 6];
    q->edns_do = (wire[pos + 7] & 0x80) != 0;
    return OPT_OK;
}

/* Validates an unusual query with ldns; takes its OPT record from there. */
static bool validate_with_ldns(const uint8_t *wire, size_t len, dp_query *q) {
    if (dp_message_records_end(wire, len, q->question_end) == 0) return false;
    ldns_pkt *pkt = NULL;
    if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK) return false;
    bool whole = true;
    if (ldns_pkt_edns(pkt)) {
        q->edns = true;
        q->edns_udp_size = ldns_pkt_edns_udp_size(pkt);
        q->edns_version = ldns_pkt_edns_version(pkt);
        q->edns_do = ldns_pkt_edns_do(pkt);
        const ldns_rdf *data = ldns_pkt_edns_data(pkt);
        if (data) whole = opt_options_whole(ldns_rdf_data(data), ldns_rdf_size(data));
    }
    ldns_pkt_free(pkt);
    return whole;
}

dp_parse_result dp_query_parse(const uint8_t *wire, size_t len, dp_query *q) {
    q->wire = wire;
    q->len = len;
    q->edns = false;
    q->edns_version = 0;
    q->edns_do = false;
    q->edns_udp_size = 0;

    /* Shorter than a header: nothing to reply to (RFC 1035 §4.1.1). */
    if (len < DP_HEADER_SIZE) return DP_PARSE_DROP;
    /* QR=1: a response; replying could start a loop between servers. */
    if (wire[2] & 0x80) return DP_PARSE_DROP;
    if (len > DP_MAX_QUERY_SIZE) return DP_PARSE_FORMERR;
    /* Only QUERY is implemented (RFC 1035 §4.1.1 OPCODE). */
    if ((wire[2] >> 3) & 0x0F) return DP_PARSE_NOTIMP;
    /* Exactly one question: other counts are undefined for QUERY. */
    if (dp_read16(wire + 4) != 1) return DP_PARSE_FORMERR;

    size_t pos = parse_qname(wire, len, q);
    if (pos == 0 || pos + 4 > len) return DP_PARSE_FORMERR;
    q->qtype = dp_read16(wire + pos);
    q->qclass = dp_read16(wire + pos + 2);
    q->question_end = pos + 4;
    q->hash = dp_name_hash(q->name, q->name_len);

    uint16_t ancount = dp_read16(wire + 6);
    uint16_t nscount = dp_read16(wire + 8);
    uint16_t arcount = dp_read16(wire + 10);
    if (ancount == 0 && nscount == 0) {
        if (arcount == 0) return DP_PARSE_OK;
        if (arcount == 1) {
            opt_parse opt = parse_opt(wire, len, q->question_end, q);
            if (opt == OPT_OK) return DP_PARSE_OK;
            if (opt == OPT_MALFORMED) return DP_PARSE_FORMERR;
        }
    }
    return validate_with_ldns(wire, len, q) ? DP_PARSE_OK : DP_PARSE_FORMERR;
}
