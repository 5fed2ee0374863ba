/*
 * ptr_records.c — a PTR name with its records, given to a table builder
 * from the name and the target names alone: a large cluster has hundreds
 * of thousands, and the control plane hands over names, not records
 * (dataplane.h, dp_table_builder_add_ptr_records). The table keeps the
 * targets, and answer.c writes the reply per query.
 */
#include "dp_wire.h"

int dp_table_builder_add_ptr_records(dp_table_builder *b, const uint8_t *qname, size_t qname_len,
                                     const uint8_t *targets, size_t targets_len, uint32_t ttl,
                                     char *err, size_t errlen) {
    size_t count = 0;
    for (size_t pos = 0, len; pos < targets_len; pos += len, count++) {
        len = dp_wire_name_length(targets + pos, targets_len - pos);
        if (len == 0) return dp_fail(err, errlen, "PTR target %zu is not a wire name", count);
    }
    if (count == 0 || count > UINT16_MAX)
        return dp_fail(err, errlen, "%zu PTR records for one name", count);

    /* The records a TCP reply with OPT holds, each an owner pointer (2),
     * type, class, TTL and length (10), and its target; the rest are not
     * kept, as for any other answer too large (table_builder.c). */
    size_t room = DP_TCP_MAX_MESSAGE - DP_OPT_RR_SIZE - DP_HEADER_SIZE - qname_len - 4;
    dp_pointers pointers = {.ttl = ttl};
    for (size_t used = 0, len; pointers.count < count; pointers.count++, used += 12 + len) {
        len = dp_wire_name_length(targets + pointers.targets_len, targets_len - pointers.targets_len);
        if (used + 12 + len > room) break;
        pointers.targets_len = (uint16_t)(pointers.targets_len + len);
    }
    return dp_table_builder_add_pointers(b, qname, qname_len, &pointers, targets, err, errlen);
}
