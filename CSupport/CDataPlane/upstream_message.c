/*
 * upstream_message.c — the query we send upstream, and the checks of
 * what comes back before anyone sees it.
 */
#include "forward.h"

size_t dp_upstream_query(const dp_query *q, uint16_t id, uint8_t *out, size_t cap) {
    size_t len = q->question_end + DP_OPT_RR_SIZE;
    if (len > cap) return 0;
    memcpy(out, q->wire, q->question_end);
    dp_write16(out, id);
    out[2] = 0x01;              /* QUERY, RD */
    out[3] = q->wire[3] & 0x10; /* the client's CD */
    dp_write16(out + 4, 1);
    dp_write16(out + 6, 0);
    dp_write16(out + 8, 0);
    dp_write16(out + 10, 1);
    uint8_t *opt = out + q->question_end;
    opt[0] = 0;
    dp_write16(opt + 1, DP_TYPE_OPT);
    dp_write16(opt + 3, DP_EDNS_UDP_SIZE);
    opt[5] = 0;
    opt[6] = 0;
    opt[7] = q->edns_do ? 0x80 : 0;
    opt[8] = 0;
    dp_write16(opt + 9, 0);
    return len;
}

bool dp_upstream_reply_check(const uint8_t *wire, size_t len, uint16_t id, const dp_query *q,
                             uint32_t max_ttl, uint32_t max_negative_ttl, dp_upstream_reply *out) {
    if (len < DP_HEADER_SIZE || dp_read16(wire) != id) return false;
    if (!(wire[2] & 0x80) || ((wire[2] >> 3) & 0x0F) != 0) return false;
    if (dp_read16(wire + 4) != 1) return false;
    size_t pos = DP_HEADER_SIZE;
    if (!dp_name_equals_at(wire, len, pos, q->name, q->name_len)) return false;
    pos += q->name_len;
    if (pos + 4 > len || dp_read16(wire + pos) != q->qtype ||
        dp_read16(wire + pos + 2) != q->qclass)
        return false;
    pos += 4;

    out->rcode = wire[3] & 0x0F;
    out->truncated = (wire[2] & 0x02) != 0;
    out->cacheable = false;
    out->ttl = 0;
    unsigned ancount = dp_read16(wire + 6);
    unsigned nscount = dp_read16(wire + 8);
    unsigned arcount = dp_read16(wire + 10);
    /* Every RR must be whole before the reply is used or kept. On the way:
     * the least TTL of the answer and authority sections, and the first
     * SOA of the authority section, whose lesser of TTL and MINIMUM is how
     * long a negative answer is kept (RFC 2308 §5; without one, not kept). */
    uint32_t min_ttl = UINT32_MAX;
    bool has_soa = false;
    uint32_t negative_ttl = 0;
    size_t rr = pos;
    bool opt_seen = false;
    for (unsigned i = 0; i < ancount + nscount + arcount; i++) {
        rr = dp_skip_name(wire, len, rr);
        if (rr == 0 || rr + 10 > len) return out->truncated;
        uint16_t type = dp_read16(wire + rr);
        uint32_t ttl = dp_read32(wire + rr + 4);
        uint16_t rdlen = dp_read16(wire + rr + 8);
        if (rr + 10 + rdlen > len) return out->truncated;
        if (!dp_meta_record_in_place(type, i, ancount + nscount, ancount + nscount + arcount,
                                     &opt_seen))
            return false;
        if (i < ancount + nscount && ttl < min_ttl) min_ttl = ttl;
        if (i >= ancount && i < ancount + nscount && type == DP_TYPE_SOA && rdlen >= 20 &&
            !has_soa) {
            uint32_t minimum = dp_read32(wire + rr + 10 + rdlen - 4);
            negative_ttl = ttl < minimum ? ttl : minimum;
            has_soa = true;
        }
        rr += 10 + (size_t)rdlen;
    }
    if (out->truncated) return true;

    if (out->rcode == DP_RCODE_NOERROR && ancount > 0) {
        out->ttl = min_ttl < max_ttl ? min_ttl : max_ttl;
    } else if ((out->rcode == DP_RCODE_NOERROR || out->rcode == DP_RCODE_NXDOMAIN) && has_soa) {
        out->ttl = negative_ttl < max_negative_ttl ? negative_ttl : max_negative_ttl;
    }
    out->cacheable = out->ttl > 0;
    return true;
}

size_t dp_upstream_reply_layout(const uint8_t *wire, size_t len, size_t question_end,
                                dp_reply_layout *out) {
    unsigned ancount = dp_read16(wire + 6);
    unsigned nscount = dp_read16(wire + 8);
    unsigned arcount = dp_read16(wire + 10);
    size_t pos = question_end;
    out->ttl_count = 0;
    out->arcount = arcount;
    out->len_without_additional = 0;
    out->ttls_without_additional = 0;
    for (unsigned i = 0; i < ancount + nscount + arcount; i++) {
        if (i == ancount + nscount) {
            out->len_without_additional = pos;
            out->ttls_without_additional = out->ttl_count;
        }
        size_t start = pos;
        pos = dp_skip_name(wire, len, pos);
        if (pos == 0 || pos + 10 > len) return 0;
        if (dp_read16(wire + pos) == DP_TYPE_OPT) {
            /* OPT belongs in the additional section only (RFC 6891 §6.1.1). */
            if (i < ancount + nscount) return 0;
            /* The kept message ends before the OPT record; RRs after it
             * (rare) go with it, as additional data may (RFC 2181 §9). */
            out->arcount = i - ancount - nscount;
            return start;
        }
        out->ttl_offsets[out->ttl_count++] = (uint16_t)(pos + 4);
        pos += 10 + (size_t)dp_read16(wire + pos + 8);
    }
    if (arcount == 0) {
        out->len_without_additional = pos;
        out->ttls_without_additional = out->ttl_count;
    }
    return pos;
}
