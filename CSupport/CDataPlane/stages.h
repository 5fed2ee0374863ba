/*
 * stages.h — the rules that run before any answer, per server block: which
 * block a query goes to (stages.c), CoreDNS's rewrite plugin (the query
 * rewritten, the reply mapped back to what the client asked; rewrite.c)
 * and its template plugin (a reply made from the name; template.c).
 *
 * A configuration without blocks costs a pointer test per batch. With
 * blocks, a query that no rule matches costs the block's lookup (a suffix
 * compare per zone), a compare per exact rule, a zone, class and type
 * check per template, and the name in text form once when another kind
 * of rule is there; a pattern runs only on names that hold its required
 * literal (name_match.c).
 */
#ifndef KUBEDNS_STAGES_H
#define KUBEDNS_STAGES_H

#include "dp_internal.h"

#include <regex.h>
#include <sys/socket.h>

#define DP_MAX_BLOCKS 32
#define DP_MAX_BLOCK_ZONES 128
/* Rules of one block: which matched is a bit of a 64-bit mask. */
#define DP_MAX_BLOCK_RULES 64
#define DP_MAX_ANSWER_RULES 8
/* A name in text form: 255 bytes, each at most "\DDD", and the NUL. */
#define DP_NAME_TEXT (4 * DP_MAX_NAME + 1)
/* Groups of a pattern: {0} to {9} in a rewrite, up to 15 in a template. */
#define DP_MAX_GROUPS 16

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
    /* The longest run without a dot of what every matching name's text
     * holds (the required literal, or the string matched): the wire
     * name holds it too, so a name without it is passed over before
     * its text is made. NULL: none. */
    char *piece;
    size_t piece_len;
} dp_matcher;

/* A query's name, and its text form once a rule needs it. */
typedef struct dp_name_text {
    const uint8_t *wire;
    size_t wire_len;
    size_t len;
    bool made;
    char text[DP_NAME_TEXT];
} dp_name_text;

static inline void dp_name_text_init(dp_name_text *n, const uint8_t *wire, size_t len) {
    n->wire = wire;
    n->wire_len = len;
    n->made = false;
}

/* The name's text (made now if it was not). */
const char *dp_name_text_of(dp_name_text *n);

int dp_matcher_init(dp_matcher *m, dp_match_kind kind, const char *text, char *err, size_t errlen);
void dp_matcher_free(dp_matcher *m);

/* Whether the name matches; for a pattern, its groups in `groups`
 * (DP_MAX_GROUPS, unset ones -1). `text` is the name in text form. */
bool dp_matcher_matches(const dp_matcher *m, const char *text, size_t len, regmatch_t *groups);
/* The same for a query's name, whose text is made only when its wire
 * form holds the matcher's piece. */
bool dp_matcher_matches_name(const dp_matcher *m, dp_name_text *name, regmatch_t *groups);

/* A wire name (lower case) in text form: labels joined by dots, ending
 * with one, special bytes escaped as in zone files. Returns the length. */
size_t dp_name_to_text(const uint8_t *name, size_t len, char *out);
/* A name in text form as a wire name (into DP_MAX_NAME bytes, lower
 * case); its length, or 0 when it is not a name. */
size_t dp_name_from_text(const char *text, size_t len, uint8_t *out);

/* `to` with each {N} replaced by group N of `subject`; the length
 * written into `out` (DP_NAME_TEXT), or 0 when it does not fit. */
size_t dp_expand_groups(const char *to, const char *subject, const regmatch_t *groups, char *out);

/* ---- Rewrite rules (rewrite.c) ----------------------------------------- */

typedef struct dp_rewrite_rule {
    dp_rewrite_field field;
    bool stop;
    dp_matcher match;
    char *to; /* NAME: the replacement, `to_len` bytes */
    size_t to_len;
    bool answer_auto;
    uint16_t from_code, to_code;
    uint32_t ttl_min, ttl_max;
    dp_matcher answers[DP_MAX_ANSWER_RULES];
    char *answer_to[DP_MAX_ANSWER_RULES];
    unsigned answer_count;
} dp_rewrite_rule;

/* ---- Templates (template.c) ------------------------------------------ */

#define DP_MAX_TEMPLATES 16
#define DP_MAX_TEMPLATE_ZONES 16
#define DP_MAX_TEMPLATE_MATCHES 8
#define DP_MAX_TEMPLATE_NAMES 16
#define DP_MAX_TEMPLATE_RECORDS 8
/* A template's records, as uncompressed wire, at most. */
#define DP_TEMPLATE_RRS 4096

typedef struct dp_zone_name {
    uint8_t name[DP_MAX_NAME];
    uint8_t len;
    uint8_t labels;
} dp_zone_name;

typedef struct dp_template {
    uint16_t qclass, qtype; /* 255: any */
    uint8_t rcode;
    dp_zone_name zones[DP_MAX_TEMPLATE_ZONES];
    unsigned zone_count;
    /* Names no pattern matches go on when under a fall zone (none: all);
     * without `falls`, they get SERVFAIL. */
    bool falls;
    dp_zone_name fall_zones[DP_MAX_TEMPLATE_ZONES];
    unsigned fall_count;
    dp_matcher matches[DP_MAX_TEMPLATE_MATCHES];
    int8_t named[DP_MAX_TEMPLATE_MATCHES][DP_MAX_TEMPLATE_NAMES]; /* group of each name */
    unsigned match_count;
    char *records[3][DP_MAX_TEMPLATE_RECORDS]; /* answer, authority, additional */
    unsigned record_count[3];
} dp_template;

/* ---- Autopath (autopath.c) ------------------------------------------- */

typedef struct dp_autopath {
    dp_zone_name zones[DP_MAX_TEMPLATE_ZONES];
    unsigned zone_count;
    /* @kubernetes: the pod's search domains first, from the clients'
     * index under `index_apex`; else only `search`. */
    bool from_pods;
    dp_zone_name index_apex;
    dp_zone_name cluster_zone;
    dp_zone_name search[DP_MAX_AUTOPATH_SEARCH];
    unsigned search_count;
} dp_autopath;

/* A worker's recent clients, each address's namespace as one table's
 * clients' index gave it (none: no pod), so that a client's next
 * queries cost no lookup in the table. */
#define DP_CLIENT_CACHE 256
typedef struct dp_client_entry {
    uint64_t table; /* its serial; 0: empty */
    uint8_t family;
    uint8_t namespace_len; /* 0: the address is no pod's */
    uint8_t address[16];
    uint8_t namespace[63];
} dp_client_entry;
typedef struct dp_client_cache {
    dp_client_entry entries[DP_CLIENT_CACHE];
} dp_client_cache;

/* A query's way down its search path: the labels asked before the first
 * search domain, that domain, and which name comes next. */
typedef struct dp_autopath_walk {
    const dp_autopath *autopath;
    uint8_t base[DP_MAX_NAME];
    uint8_t base_len;
    uint8_t first[DP_MAX_NAME];
    uint8_t first_len;
    unsigned next;
    bool left; /* the names after the one asked go to the forwarder */
} dp_autopath_walk;

/* The next name of the walk (into DP_MAX_NAME bytes); 0 past the end. */
size_t dp_autopath_walk_next(dp_autopath_walk *w, uint8_t *out);

/* ---- Blocks (stages.c) ------------------------------------------------ */

struct dp_block {
    dp_rewrite_rule rules[DP_MAX_BLOCK_RULES];
    unsigned rule_count;
    dp_template *templates; /* DP_MAX_TEMPLATES, made with the first */
    unsigned template_count;
    dp_autopath *autopath; /* NULL: none */
};

typedef struct dp_block_zone {
    dp_zone_name zone;
    uint8_t block;
} dp_block_zone;

struct dp_stages {
    dp_block blocks[DP_MAX_BLOCKS];
    unsigned block_count;
    dp_block_zone zones[DP_MAX_BLOCK_ZONES];
    unsigned zone_count;
};

void dp_stages_free(dp_stages *s);
/* The last block added, or NULL. */
dp_block *dp_stages_last_block(dp_forwarding *f);
/* Whether a wire name lies under a zone, given its label offsets. */
bool dp_zone_holds(const dp_zone_name *zone, const dp_query *q);
/* Sets `n` to a lower-case wire name, checked. */
int dp_zone_name_set(dp_zone_name *n, const uint8_t *name, size_t len, char *err, size_t errlen);
/* Adds a name to `names`, which hold `*count` of at most `max`. */
int dp_zone_names_add(dp_zone_name *names, unsigned *count, unsigned max, const uint8_t *name,
                      size_t len, char *err, size_t errlen);

/* What the rules keep of a query: the query as asked, the buffer the
 * rewritten one is written into, a template's records. One per query of
 * a batch. */
struct dp_staged {
    dp_query asked;
    uint8_t wire[DP_MAX_QUERY_SIZE + DP_MAX_NAME];
    uint8_t rcode;
    uint16_t counts[3]; /* answer, authority, additional */
    uint16_t rrs_len;
    uint8_t rrs[DP_TEMPLATE_RRS];
    dp_autopath_walk walk;
};

/* What running the rules did, for the counters. */
enum { DP_STAGED_TEMPLATE = 1, DP_STAGED_TEMPLATE_FAILED = 2, DP_STAGED_AUTOPATH = 4 };

/* Runs the rules of the query's block: rewrite, autopath (for a query no
 * rewrite rule matched), then templates. Returns DP_STAGED_... flags. */
unsigned dp_stages_run(const dp_stages *s, const dp_table *t, dp_parsed *p, dp_staged *slot,
                       const struct sockaddr_storage *peer, dp_client_cache *clients);

/* Makes the query ask `name` (wire, its type and class kept): written into
 * `slot->wire` and parsed again, the old query kept in `slot->asked`.
 * False when it cannot be (p->result is then SERVFAIL). */
bool dp_rewrite_question(dp_parsed *p, dp_staged *slot, const uint8_t *name, size_t len);

/* The block's autopath for a query from `peer`: the first name of its
 * search path that exists becomes its question (p->autopath), or the
 * first outside the table, which the forwarder walks on from
 * (slot->walk). Returns DP_STAGED_AUTOPATH when a name was found here. */
unsigned dp_autopath_request(const dp_autopath *a, const dp_table *t, dp_parsed *p, dp_staged *slot,
                             const struct sockaddr_storage *peer, dp_client_cache *clients);

/*
 * The block's rewrite rules. When they change the question, the query is
 * parsed again from `slot->wire` (p->query is the new one, `slot->asked`
 * the old); when any rule matched, p->staged, p->block and p->rules say
 * what the reply needs. A name a rule makes that is no name: SERVFAIL
 * (p->result).
 */
void dp_rewrite_request(const dp_block *b, dp_parsed *p, dp_staged *slot);

/*
 * Maps a reply to a rewritten query back: the client's question, the
 * rules' answer rewrites and TTLs (RFC 1035 §4.1: the question is the
 * client's); with `cname` (autopath), a CNAME from the client's name to
 * the first answer's owner first, with its TTL, as CoreDNS's autopath
 * adds. `asked` is the client's query (its question is read),
 * `rewritten` the one answered. Returns the new length (a reply that no
 * longer fits `cap` is the question with TC), or `len` unchanged when
 * the reply cannot be read.
 */
size_t dp_rewrite_reply(const dp_block *b, uint64_t rules, bool cname, const dp_query *asked,
                        const dp_query *rewritten, uint8_t *reply, size_t len, size_t cap,
                        int transport);

/*
 * The block's templates, in order: the first whose zone, class, type and
 * a pattern match makes the reply's records into `slot` (p->templated);
 * a name of a template's zones that no pattern matches and does not fall
 * through gets SERVFAIL (p->result). Returns DP_STAGED_... flags.
 */
unsigned dp_template_request(const dp_block *b, dp_parsed *p, dp_staged *slot,
                             const struct sockaddr_storage *peer);

/* The reply of a query a template answers (p->templated): its records
 * after the question, fitted to `transport`; p->chase when it ends with
 * a CNAME for an address query (its target is looked up, as CoreDNS's
 * template does). */
size_t dp_template_reply(dp_parsed *p, uint8_t *out, size_t cap, int transport);

void dp_template_free(dp_template *t);

#endif
