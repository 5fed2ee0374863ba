/*
 * wire_format.c — names and records in wire form: walked, checked and
 * copied without reading them into anything.
 */
#include "dp_wire_format.h"

size_t dp_name_length(const uint8_t *name, size_t available) {
    size_t pos = 0;
    while (pos < available) {
        uint8_t label = name[pos];
        if (label == 0) return pos + 1 <= DP_MAX_NAME ? pos + 1 : 0;
        if (label > 63) return 0;
        pos += 1 + (size_t)label;
    }
    return 0;
}

int dp_name_labels(const uint8_t *name, size_t len, uint8_t *offsets) {
    if (len == 0 || len > DP_MAX_NAME || dp_name_length(name, len) != len) return -1;
    int labels = 0;
    for (size_t pos = 0; name[pos] != 0; pos += 1 + name[pos]) {
        for (size_t i = pos + 1; i <= pos + name[pos]; i++)
            if (name[i] >= 'A' && name[i] <= 'Z') return -1;
        offsets[labels++] = (uint8_t)pos;
    }
    return labels;
}

bool dp_name_equals_at(const uint8_t *wire, size_t len, size_t pos, const uint8_t *name,
                       size_t name_len) {
    if (pos + name_len > len) return false;
    for (size_t i = 0; i < name_len; i++)
        if (dp_lower(wire[pos + i]) != name[i]) return false;
    return true;
}

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

size_t dp_copy_name(const uint8_t *wire, size_t len, size_t pos, bool pointers, uint8_t *out,
                    uint8_t *offsets, unsigned *labels, size_t *end) {
    size_t written = 0;
    unsigned count = 0;
    *end = 0;
    for (int jumps = 0; pos < len && jumps < 64;) {
        uint8_t label = wire[pos];
        if ((label & 0xC0) == 0xC0 && pointers) {
            if (pos + 1 >= len) return 0;
            if (*end == 0) *end = pos + 2;
            pos = (size_t)(label & 0x3F) << 8 | wire[pos + 1];
            jumps++;
            continue;
        }
        if (label & 0xC0) return 0;
        if (written + 1 + label > DP_MAX_NAME) return 0;
        if (label == 0) {
            out[written++] = 0;
            if (*end == 0) *end = pos + 1;
            if (labels != NULL) *labels = count;
            return written;
        }
        if (pos + 1 + label > len || count == DP_MAX_LABELS) return 0;
        if (offsets != NULL) offsets[count] = (uint8_t)written;
        count++;
        out[written++] = label;
        for (unsigned i = 1; i <= label; i++) out[written++] = dp_lower(wire[pos + i]);
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

size_t dp_message_records_end(const uint8_t *wire, size_t len, size_t pos) {
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

size_t dp_rr_fields(const uint8_t *rrs, size_t len, size_t pos) {
    while (pos < len && rrs[pos] != 0) pos += 1 + rrs[pos];
    pos++;
    return pos + 10 <= len ? pos : 0;
}

size_t dp_rrs_end(const uint8_t *rrs, size_t len, unsigned count) {
    size_t pos = 0;
    for (unsigned i = 0; i < count; i++) {
        pos = dp_rr_fields(rrs, len, pos);
        if (pos == 0) return 0;
        pos += 10 + (size_t)dp_read16(rrs + pos + 8);
        if (pos > len) return 0;
    }
    return pos;
}
