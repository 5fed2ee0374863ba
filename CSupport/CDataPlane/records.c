/*
 * records.c — walks the resource records of a message we did not write
 * (a client's query, an upstream's reply) without reading them into
 * anything.
 */
#include "dp_internal.h"

size_t dp_skip_name(const uint8_t *wire, size_t len, size_t pos) {
    while (pos < len) {
        uint8_t label = wire[pos];
        if ((label & 0xC0) == 0xC0) return pos + 2 <= len ? pos + 2 : 0;
        if (label & 0xC0) return 0;
        if (label == 0) return pos + 1;
        pos += 1 + (size_t)label;
    }
    return 0;
}

bool dp_meta_record_in_place(uint16_t type, unsigned index, unsigned first_additional,
                             unsigned count, bool *opt_seen) {
    if (type == DP_TYPE_OPT) {
        /* In the additional section, at most once (RFC 6891 §6.1.1). */
        if (index < first_additional || *opt_seen) return false;
        *opt_seen = true;
    }
    /* The last record of the message (RFC 8945 §5.1). */
    return type != DP_TYPE_TSIG || index + 1 == count;
}

size_t dp_records_end(const uint8_t *wire, size_t len, size_t pos) {
    unsigned first_additional = (unsigned)dp_read16(wire + 6) + dp_read16(wire + 8);
    unsigned count = first_additional + dp_read16(wire + 10);
    bool opt_seen = false;
    for (unsigned i = 0; i < count; i++) {
        pos = dp_skip_name(wire, len, pos);
        if (pos == 0 || pos + 10 > len) return 0;
        if (!dp_meta_record_in_place(dp_read16(wire + pos), i, first_additional, count, &opt_seen))
            return 0;
        pos += 10 + (size_t)dp_read16(wire + pos + 8);
        if (pos > len) return 0;
    }
    return pos;
}
