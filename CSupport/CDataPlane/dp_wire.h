/*
 * dp_wire.h — the reply writer of the table builder (wire.c).
 */
#ifndef KUBEDNS_DP_WIRE_H
#define KUBEDNS_DP_WIRE_H

#include "dp_internal.h"

/* Names remembered for compression; a reply with more names compresses
 * only against the first ones. */
#define DP_WIRE_NAMES 128

typedef struct dp_wire {
    uint8_t *buf;
    size_t len;
    size_t cap;
    bool failed; /* a malformed record, or the reply outgrew cap */
    unsigned name_count;
    struct {
        const uint8_t *name; /* the caller's bytes, valid while writing */
        uint8_t len;
        uint16_t offset;
    } names[DP_WIRE_NAMES];
} dp_wire;

/* Starts a reply in `buf`: header (ID 0, QR, AA, `rcode`) and question. */
void dp_wire_start(dp_wire *w, uint8_t *buf, size_t cap, const uint8_t *qname, size_t qname_len,
                   uint16_t qtype, uint8_t rcode);

/* Appends one uncompressed RR from `rr` to `section` (0 answer, 1
 * authority, 2 additional), compressed. Returns the bytes of `rr` read, or
 * 0 with w->failed set. */
size_t dp_wire_put_rr(dp_wire *w, const uint8_t *rr, size_t available, int section);

#endif
