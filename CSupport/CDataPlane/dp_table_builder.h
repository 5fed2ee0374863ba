/*
 * dp_table_builder.h — what the table builder's files share: a builder's
 * names and answers (table_builder.c owns them), the replies written for
 * them (reply_fit.c), and the layout of shards from them (table_layout.c).
 */
#ifndef KUBEDNS_DP_TABLE_BUILDER_H
#define KUBEDNS_DP_TABLE_BUILDER_H

#include "dp_internal.h"

/* A name while the table is built. Its answers are a run of the
 * builder's answer log: a name's answers come one after another (all its
 * types at once), so half a million names need no allocation each. */
typedef struct build_name {
    const uint8_t *name; /* in the builder's arena */
    uint32_t hash;
    uint8_t name_len;
    uint8_t apex_len;     /* of the zone it is in */
    bool removed : 1;     /* a delta drops the name */
    bool has_default : 1; /* a default answer given, or NODATA by add_name */
    uint8_t
        rrset_kind;    /* DP_RECORD_PTR, _A or _AAAA: the one answer's wire is a dp_rrset; else 0 */
    uint16_t any_type; /* the type whose answer ANY gets; 0: the default */
    uint16_t answer_count;
    uint32_t first_answer; /* in the builder's log */
} build_name;

struct dp_table_builder {
    dp_table *table;  /* zones, SOAs, flags; shards at finish */
    dp_arena staging; /* names and answer wires until laid out in shards */
    build_name *names;
    size_t name_count;
    size_t name_cap;
    dp_answer *log; /* every name's answers, each name's a run */
    size_t log_count;
    size_t log_cap;
    uint32_t *slots; /* open addressing: index into names + 1, 0 = empty */
    size_t slot_mask;
    uint8_t *scratch;     /* one reply being written */
    const dp_table *base; /* a delta's: read until finished */
};

/* ---- table_builder.c: names and answers ------------------------------ */

/* A builder's name, by its labels `head` followed by its zone's apex. */
build_name *dp_builder_find_split(const dp_table_builder *b, const uint8_t *head, size_t head_len,
                                  const uint8_t *apex, size_t apex_len, uint32_t hash);
build_name *dp_builder_find(const dp_table_builder *b, const uint8_t *name, size_t len,
                            uint32_t hash);
dp_answer *dp_builder_answers_of(const dp_table_builder *b, const build_name *n);
/* The name in presentation form, for errors. */
void dp_builder_name_text(const uint8_t *name, size_t len, char *text, size_t cap);

/* ---- reply_fit.c: the replies kept -------------------------------------- */

/*
 * The reply, within a TCP message with room for OPT. One that cannot fit
 * (a headless service of thousands of endpoints; skydns's answer for a
 * name above every service) keeps what fits, as CoreDNS does: its
 * additional section goes first (RFC 2181 §9), then answer records from
 * the end; over UDP such a reply is truncated further, with TC, as any
 * other. False when the records are malformed.
 */
bool dp_fit_reply(uint8_t *wire, const uint8_t *qname, size_t qname_len, uint16_t qtype,
                  uint8_t rcode, const uint8_t *rrs, size_t rrs_len, const uint16_t counts[3],
                  dp_answer *answer);
/* Whether the last of `ancount` uncompressed answer RRs is a CNAME to a
 * name under none of the table's authoritative zones. */
bool dp_reply_ends_outside(const dp_table *t, const uint8_t *rrs, size_t len, uint16_t ancount);
/* Whether a built reply has the same header and sections as an answer
 * already kept (the questions differ only in their type). */
bool dp_same_reply(const dp_answer *a, const uint8_t *wire, size_t len, size_t qname_len);
/* Keeps a built reply without its question (see dp_answer). */
const uint8_t *dp_keep_reply(dp_arena *arena, const uint8_t *wire, size_t len, size_t qname_len);

/* ---- table_layout.c: shards ------------------------------------------- */

/* Lays out the shards of builders[0]'s table from every builder's names
 * (and a delta's base's records it leaves alone). 0, or -1 with `err`. */
int dp_lay_out(dp_table_builder **builders, size_t count, char *err, size_t errlen);

#endif
