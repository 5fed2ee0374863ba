/*
 * rrset_records.c — a name with one RRset, given to a table builder from
 * the name and the rdatas alone (PTR targets, A or AAAA addresses): a
 * large cluster has hundreds of thousands of such names, and the control
 * plane hands over names and rdatas, not records (dataplane.h,
 * dp_table_builder_add_ptr_records and _add_address_records). The table
 * keeps the rdatas (a PTR target less its zone's apex: DP_TARGET_IN_ZONE),
 * and answer.c writes the reply per query.
 */
#include "dp_wire.h"

#include <stdlib.h>

/* The room for answer records in a TCP reply with OPT to `qname`: the
 * RRs beyond it are not kept, as for any other answer too large
 * (table_builder.c). Each RR is an owner pointer (2), type, class, TTL
 * and length (10), then its rdata. */
static size_t answer_room(size_t qname_len) {
    return DP_TCP_MAX_MESSAGE - DP_OPT_RR_SIZE - DP_HEADER_SIZE - qname_len - 4;
}

/* Writes a PTR target into `out` as a dp_rrset keeps it
 * (DP_TARGET_IN_ZONE); returns the bytes written, at most its length. */
static size_t keep_target(const dp_table *t, const uint8_t *target, size_t len, uint8_t *out) {
    uint8_t offsets[DP_MAX_LABELS];
    int labels = dp_name_labels(target, len, offsets);
    const dp_zone *z =
        labels < 0 ? NULL : dp_table_zone_of(t, target, len, offsets, (unsigned)labels);
    if (z == NULL) {
        memcpy(out, target, len);
        return len;
    }
    size_t above = len - z->apex_len;
    memcpy(out, target, above);
    out[above] = DP_TARGET_IN_ZONE | (uint8_t)(z - t->zones);
    return above + 1;
}

int dp_table_builder_add_ptr_records(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                     const uint8_t *targets, size_t targets_len, uint32_t ttl,
                                     char *err, size_t errlen) {
    size_t count = 0;
    for (size_t pos = 0, len; pos < targets_len; pos += len, count++) {
        len = dp_name_length(targets + pos, targets_len - pos);
        if (len == 0) return dp_fail(err, errlen, "PTR target %zu is not a wire name", count);
    }
    if (count == 0 || count > UINT16_MAX)
        return dp_fail(err, errlen, "%zu PTR records for one name", count);

    uint8_t small[2048];
    uint8_t *kept = targets_len <= sizeof(small) ? small : malloc(targets_len);
    if (kept == NULL) return dp_fail(err, errlen, "out of memory");
    size_t room = answer_room(qname_len);
    dp_rrset rrset = {.ttl = ttl};
    for (size_t used = 0, pos = 0, len; rrset.count < count;
         rrset.count++, used += 12 + len, pos += len) {
        len = dp_name_length(targets + pos, targets_len - pos);
        if (used + 12 + len > room) break;
        size_t kept_len =
            keep_target(dp_table_builder_table(b), targets + pos, len, kept + rrset.rdata_len);
        rrset.rdata_len = (uint16_t)(rrset.rdata_len + kept_len);
    }
    int status =
        dp_table_builder_add_rrset(b, qname, qname_len, DP_TYPE_PTR, &rrset, kept, err, errlen);
    if (kept != small) free(kept);
    return status;
}

int dp_table_builder_add_address_records(dp_table_builder *b, const uint8_t *qname,
                                         size_t qname_len, uint16_t type, const uint8_t *addresses,
                                         size_t count, uint32_t ttl, char *err, size_t errlen) {
    if (type != DP_TYPE_A && type != DP_TYPE_AAAA)
        return dp_fail(err, errlen, "type %u records are not addresses", type);
    if (count == 0) return dp_fail(err, errlen, "no addresses for one name");
    size_t size = type == DP_TYPE_A ? 4 : 16;
    size_t fit = answer_room(qname_len) / (12 + size);
    dp_rrset rrset = {.ttl = ttl, .count = (uint16_t)(count < fit ? count : fit)};
    rrset.rdata_len = (uint16_t)(rrset.count * size);
    return dp_table_builder_add_rrset(b, qname, qname_len, type, &rrset, addresses, err, errlen);
}
