/*
 * rewrite.h — the rules that run before any answer (CoreDNS's rewrite
 * plugin): which server block a query goes to, the rules of that block,
 * the query rewritten, and the reply mapped back to what the client asked.
 *
 * A configuration without blocks costs a pointer test per batch. With
 * blocks, a query that no rule matches costs the block's lookup (a suffix
 * compare per zone), a compare per exact rule, and the name in text form
 * once when another kind of rule is there; a pattern runs only on names
 * that hold its required literal (name_match.c).
 */
#ifndef KUBEDNS_REWRITE_H
#define KUBEDNS_REWRITE_H

#include "dp_internal.h"

#include <regex.h>

#define DP_MAX_BLOCKS 32
#define DP_MAX_BLOCK_ZONES 128
/* Rules of one block: which matched is a bit of a 64-bit mask. */
#define DP_MAX_BLOCK_RULES 64
#define DP_MAX_ANSWER_RULES 8
/* A name in text form: 255 bytes, each at most "\DDD", and the NUL. */
#define DP_NAME_TEXT (4 * DP_MAX_NAME + 1)
/* Groups a pattern's replacement may name: {0} to {9}. */
#define DP_MAX_GROUPS 10

/* ---- Matching names in text form (name_match.c) ----------------------- */

typedef struct dp_matcher {
    dp_match_kind kind;
    char *text; /* the name, prefix, suffix, substring or pattern */
    size_t len;
    uint8_t wire[DP_MAX_NAME]; /* EXACT: the name, compared without text */
    uint8_t wire_len;
    regex_t regex;
    bool compiled;
    char *required; /* REGEX: a literal every match holds, or NULL */
    size_t required_len;
} dp_matcher;

int dp_matcher_init(dp_matcher *m, dp_match_kind kind, const char *text, char *err, size_t errlen);
void dp_matcher_free(dp_matcher *m);

/* Whether the name matches; for a pattern, its groups in `groups`
 * (DP_MAX_GROUPS, unset ones -1). `text` is the name in text form. */
bool dp_matcher_matches(const dp_matcher *m, const char *text, size_t len, regmatch_t *groups);

/* A wire name (lower case) in text form: labels joined by dots, ending
 * with one, special bytes escaped as in zone files. Returns the length. */
size_t dp_name_to_text(const uint8_t *name, size_t len, char *out);
/* A name in text form as a wire name (into DP_MAX_NAME bytes, lower
 * case); its length, or 0 when it is not a name. */
size_t dp_name_from_text(const char *text, size_t len, uint8_t *out);

/* `to` with each {N} replaced by group N of `subject`; the length
 * written into `out` (DP_NAME_TEXT), or 0 when it does not fit. */
size_t dp_expand_groups(const char *to, const char *subject, const regmatch_t *groups, char *out);

/* ---- Rules ------------------------------------------------------------ */

typedef struct dp_rewrite_rule {
    dp_rewrite_field field;
    bool stop;
    dp_matcher match;
    char *to;
    bool answer_auto;
    uint16_t from_code, to_code;
    uint32_t ttl_min, ttl_max;
    dp_matcher answers[DP_MAX_ANSWER_RULES];
    char *answer_to[DP_MAX_ANSWER_RULES];
    unsigned answer_count;
} dp_rewrite_rule;

struct dp_block {
    dp_rewrite_rule rules[DP_MAX_BLOCK_RULES];
    unsigned rule_count;
    bool needs_text; /* some rule matches other than exactly */
};

typedef struct dp_block_zone {
    uint8_t zone[DP_MAX_NAME];
    uint8_t len;
    uint8_t labels;
    uint8_t block;
} dp_block_zone;

struct dp_stages {
    dp_block blocks[DP_MAX_BLOCKS];
    unsigned block_count;
    dp_block_zone zones[DP_MAX_BLOCK_ZONES];
    unsigned zone_count;
};

void dp_stages_free(dp_stages *s);

/* What a rewrite keeps of a query: the query as asked, and the buffer
 * the rewritten one is written into. One per query of a batch. */
struct dp_rewritten {
    dp_query asked;
    uint8_t wire[DP_MAX_QUERY_SIZE + DP_MAX_NAME];
};

/*
 * Runs the rules of the query's block. When they change the question,
 * the query is parsed again from `slot->wire` (p->query is the new one,
 * `slot->asked` the old); when any rule matched, p->rewrite, p->block and
 * p->rules say what the reply needs. A name a rule makes that is no name
 * gets SERVFAIL (p->result stays OK, p->rewrite_failed is set).
 */
void dp_rewrite_request(const dp_stages *s, dp_parsed *p, dp_rewritten *slot);

/*
 * Maps a reply to a rewritten query back: the client's question, the
 * rules' answer rewrites and TTLs (RFC 1035 §4.1: the question is the
 * client's). `asked` is the client's query (its question is read),
 * `rewritten` the one answered. Returns the new length (a reply that no
 * longer fits `cap` is the question with TC), or `len` unchanged when
 * the reply cannot be read.
 */
size_t dp_rewrite_reply(const dp_block *b, uint64_t rules, const dp_query *asked,
                        const dp_query *rewritten, uint8_t *reply, size_t len, size_t cap,
                        int transport);

#endif
