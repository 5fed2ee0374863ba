/*
 * reverse_names.c — the PTR name of an address with its PTR records,
 * written into a table builder from the address and the target names: a
 * large cluster has hundreds of thousands, and the control plane hands
 * over addresses, not names and records (dataplane.h,
 * dp_table_builder_add_pointers).
 */
#include "dp_internal.h"

#include <stdlib.h>

static const uint8_t in_addr_arpa[] = "\7in-addr\4arpa";
static const uint8_t ip6_arpa[] = "\3ip6\4arpa";
static const char hex_digits[] = "0123456789abcdef";

/* RFC 1035 §3.5: the octets as decimal labels, the last first, under
 * in-addr.arpa; RFC 3596 §2.5: the nibbles as hex labels, the low nibble
 * of the last byte first, under ip6.arpa. Returns the name's length, or
 * 0 for an address of another size. */
static size_t reverse_name(const uint8_t *address, size_t len, uint8_t *out) {
    size_t pos = 0;
    if (len == 4) {
        for (int i = 3; i >= 0; i--) {
            uint8_t octet = address[i];
            out[pos++] = octet >= 100 ? 3 : octet >= 10 ? 2 : 1;
            if (octet >= 100) out[pos++] = (uint8_t)('0' + octet / 100);
            if (octet >= 10) out[pos++] = (uint8_t)('0' + octet / 10 % 10);
            out[pos++] = (uint8_t)('0' + octet % 10);
        }
        memcpy(out + pos, in_addr_arpa, sizeof(in_addr_arpa));
        return pos + sizeof(in_addr_arpa);
    }
    if (len == 16) {
        for (int i = 15; i >= 0; i--) {
            out[pos++] = 1;
            out[pos++] = (uint8_t)hex_digits[address[i] & 0x0F];
            out[pos++] = 1;
            out[pos++] = (uint8_t)hex_digits[address[i] >> 4];
        }
        memcpy(out + pos, ip6_arpa, sizeof(ip6_arpa));
        return pos + sizeof(ip6_arpa);
    }
    return 0;
}

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

/* Writes each record uncompressed, as dp_table_builder_add_answer takes
 * them: the owner, type, class, TTL, the target's length and the target. */
static void write_records(uint8_t *rrs, const uint8_t *name, size_t name_len,
                          const uint8_t *targets, size_t targets_len, uint32_t ttl) {
    size_t out = 0;
    for (size_t pos = 0; pos < targets_len;) {
        size_t target_len = wire_name_length(targets, targets_len, pos);
        memcpy(rrs + out, name, name_len);
        out += name_len;
        dp_write16(rrs + out, DP_TYPE_PTR);
        dp_write16(rrs + out + 2, DP_CLASS_IN);
        dp_write16(rrs + out + 4, (uint16_t)(ttl >> 16));
        dp_write16(rrs + out + 6, (uint16_t)ttl);
        dp_write16(rrs + out + 8, (uint16_t)target_len);
        memcpy(rrs + out + 10, targets + pos, target_len);
        out += 10 + target_len;
        pos += target_len;
    }
}

int dp_table_builder_add_pointers(dp_table_builder *b, const uint8_t *address,
                                  size_t address_len, const uint8_t *targets,
                                  size_t targets_len, uint16_t count, uint32_t ttl, char *err,
                                  size_t errlen) {
    uint8_t name[DP_MAX_NAME];
    size_t name_len = reverse_name(address, address_len, name);
    if (name_len == 0) return dp_fail(err, errlen, "an address of %zu bytes", address_len);
    if (count == 0) return dp_fail(err, errlen, "a PTR name without records");
    size_t names = 0;
    for (size_t pos = 0; pos < targets_len; names++) {
        size_t target_len = wire_name_length(targets, targets_len, pos);
        if (target_len == 0)
            return dp_fail(err, errlen, "PTR target %zu is not a wire name", names);
        pos += target_len;
    }
    if (names != count) return dp_fail(err, errlen, "%zu PTR targets, not %u", names, count);

    /* Most names have one record; a few have several. */
    uint8_t local[1024];
    size_t rrs_len = count * (name_len + 10) + targets_len;
    uint8_t *rrs = rrs_len <= sizeof(local) ? local : malloc(rrs_len);
    if (rrs == NULL) return dp_fail(err, errlen, "out of memory");
    write_records(rrs, name, name_len, targets, targets_len, ttl);
    int status = dp_table_builder_add_answer(b, name, name_len, DP_TYPE_PTR, DP_RCODE_NOERROR,
                                             rrs, rrs_len, count, 0, 0, err, errlen);
    if (rrs != local) free(rrs);
    if (status != 0 || dp_table_builder_add_name(b, name, name_len, err, errlen) != 0) return -1;
    return dp_table_builder_answer_any_as(b, name, name_len, DP_TYPE_PTR, err, errlen);
}
