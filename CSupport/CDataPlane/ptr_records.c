/*
 * ptr_records.c — a PTR name with its records, written into a table
 * builder from the name and the target names alone: a large cluster has
 * hundreds of thousands, and the control plane hands over names, not
 * records (dataplane.h, dp_table_builder_add_ptr_records).
 */
#include "dp_internal.h"

#include <stdlib.h>

/* The length of the uncompressed wire name at `pos`, or 0 when there is none. */
static size_t wire_name_length(const uint8_t *wire, size_t len, size_t pos) {
    size_t start = pos;
    while (pos < len && wire[pos] != 0) {
        if (wire[pos] > 63) return 0;
        pos += 1 + wire[pos];
    }
    if (pos >= len || pos + 1 - start > DP_MAX_NAME) return 0;
    return pos + 1 - start;
}

/* Writes a record per target, uncompressed, as dp_table_builder_add_answer
 * takes them: the owner, type, class, TTL, the target's length and the
 * target. The targets are well formed. */
static void write_records(uint8_t *rrs, const uint8_t *owner, size_t owner_len,
                          const uint8_t *targets, size_t targets_len, uint32_t ttl) {
    for (size_t pos = 0, len; pos < targets_len; pos += len) {
        len = wire_name_length(targets, targets_len, pos);
        memcpy(rrs, owner, owner_len);
        rrs += owner_len;
        dp_write16(rrs, DP_TYPE_PTR);
        dp_write16(rrs + 2, DP_CLASS_IN);
        dp_write16(rrs + 4, (uint16_t)(ttl >> 16));
        dp_write16(rrs + 6, (uint16_t)ttl);
        dp_write16(rrs + 8, (uint16_t)len);
        memcpy(rrs + 10, targets + pos, len);
        rrs += 10 + len;
    }
}

int dp_table_builder_add_ptr_records(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                     const uint8_t *targets, size_t targets_len, uint32_t ttl,
                                     char *err, size_t errlen) {
    size_t count = 0;
    for (size_t pos = 0, len; pos < targets_len; pos += len, count++) {
        len = wire_name_length(targets, targets_len, pos);
        if (len == 0) return dp_fail(err, errlen, "PTR target %zu is not a wire name", count);
    }
    if (count == 0 || count > UINT16_MAX)
        return dp_fail(err, errlen, "%zu PTR records for one name", count);

    /* Most names have one record; a few have several. */
    uint8_t local[1024];
    size_t rrs_len = count * (qname_len + 10) + targets_len;
    uint8_t *rrs = rrs_len <= sizeof(local) ? local : malloc(rrs_len);
    if (rrs == NULL) return dp_fail(err, errlen, "out of memory");
    write_records(rrs, qname, qname_len, targets, targets_len, ttl);
    int status = dp_table_builder_add_answer(b, qname, qname_len, DP_TYPE_PTR, DP_RCODE_NOERROR,
                                             rrs, rrs_len, (uint16_t)count, 0, 0, err, errlen);
    if (rrs != local) free(rrs);
    if (status != 0 || dp_table_builder_add_name(b, qname, qname_len, err, errlen) != 0) return -1;
    return dp_table_builder_answer_any_as(b, qname, qname_len, DP_TYPE_PTR, err, errlen);
}
