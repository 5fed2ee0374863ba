/*
 * dp_wire_format.h — the DNS wire format as RFC 1035 lays it out:
 * integers, names, records (wire_format.c). Every file of the data plane
 * reads and writes messages through these; none keeps helpers of its own.
 */
#ifndef KUBEDNS_DP_WIRE_FORMAT_H
#define KUBEDNS_DP_WIRE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_HEADER_SIZE 12
#define DP_MAX_NAME 255
#define DP_MAX_LABELS 128

enum {
    DP_RCODE_NOERROR = 0,
    DP_RCODE_FORMERR = 1,
    DP_RCODE_SERVFAIL = 2,
    DP_RCODE_NXDOMAIN = 3,
    DP_RCODE_NOTIMP = 4,
    DP_RCODE_REFUSED = 5,
};

enum {
    DP_TYPE_A = 1,
    DP_TYPE_NS = 2,
    DP_TYPE_CNAME = 5,
    DP_TYPE_SOA = 6,
    DP_TYPE_PTR = 12,
    DP_TYPE_TXT = 16,
    DP_TYPE_AAAA = 28,
    DP_TYPE_OPT = 41,
    DP_TYPE_TSIG = 250,
    DP_TYPE_IXFR = 251,
    DP_TYPE_AXFR = 252,
    DP_TYPE_MAILB = 253,
    DP_TYPE_MAILA = 254,
    DP_TYPE_ANY = 255,
};

#define DP_CLASS_IN 1

/* ---- Integers, in network order --------------------------------------- */

static inline uint16_t dp_read16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static inline void dp_write16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline uint32_t dp_read32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void dp_write32(uint8_t *p, uint32_t v) {
    dp_write16(p, (uint16_t)(v >> 16));
    dp_write16(p + 2, (uint16_t)v);
}

static inline uint8_t dp_lower(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

/* ---- Names ------------------------------------------------------------ */

/* The length of the uncompressed wire name at `name`, or 0 when it is not
 * one (a pointer, a label over 63 bytes, over 255 bytes, cut short). */
size_t dp_name_length(const uint8_t *name, size_t available);

/* Checks a wire name of exactly `len` bytes (lower case, uncompressed) and
 * records where its labels start (`offsets`: DP_MAX_LABELS). Returns the
 * label count, or -1. */
int dp_name_labels(const uint8_t *name, size_t len, uint8_t *offsets);

/* Whether the uncompressed name at `pos` of a message is `name` (lower
 * case), letters in any case (RFC 4343). */
bool dp_name_equals_at(const uint8_t *wire, size_t len, size_t pos, const uint8_t *name,
                       size_t name_len);

/* Skips a name at `pos` of a message (labels, ending with the root or a
 * pointer). Returns the offset past it, or 0 when it runs off the message
 * or is not a name. */
size_t dp_skip_name(const uint8_t *wire, size_t len, size_t pos);

/*
 * Copies the name at `pos` of a message into `out` (DP_MAX_NAME bytes),
 * lower-cased and uncompressed, noting where its labels start in
 * `offsets` (DP_MAX_LABELS, or NULL) and the label count in `labels`.
 * Compression pointers are followed when `pointers` is true (at most 64),
 * else they make the name malformed. Returns the name's length, or 0
 * when it is malformed (an extended label type, RFC 6891 §5; over 255
 * bytes or DP_MAX_LABELS labels, RFC 1035 §3.1; cut short); `*end` is
 * then the offset past it where it lies in the message.
 */
size_t dp_copy_name(const uint8_t *wire, size_t len, size_t pos, bool pointers, uint8_t *out,
                    uint8_t *offsets, unsigned *labels, size_t *end);

/* ---- Records ---------------------------------------------------------- */

/* Whether a record of `type`, the `index`-th of `count` in the message
 * (the additional section starting at `first_additional`), may be there:
 * OPT once and only as additional data, TSIG only last. Messages that
 * break this are malformed, and ldns_wire2pkt reads them by leaking the
 * records it then drops (a second TSIG), so they never reach it. */
bool dp_meta_record_in_place(uint16_t type, unsigned index, unsigned first_additional,
                             unsigned count, bool *opt_seen);

/* The end of the last record of a message after its question, which ends
 * at `pos`, or 0 when a record is cut short or a meta-record is out of place. */
size_t dp_message_records_end(const uint8_t *wire, size_t len, size_t pos);

/* Where the type of the uncompressed record at `pos` of `rrs` is (past
 * its owner), or 0 when its fixed fields run past `len`. */
size_t dp_rr_fields(const uint8_t *rrs, size_t len, size_t pos);

/* The end of the first `count` uncompressed records of `rrs` (records
 * alone, no header), or 0 when they run past `len`. */
size_t dp_rrs_end(const uint8_t *rrs, size_t len, unsigned count);

#endif
