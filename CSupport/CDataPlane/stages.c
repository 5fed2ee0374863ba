/*
 * stages.c — the server blocks whose rules run before any answer: a
 * query goes to the block of the longest zone it lies under (as CoreDNS
 * gives it to one server block), and that block's rewrite rules, then
 * its templates, run on it, in the worker, right after the parse.
 */
#include "stages.h"
#include "server.h"

#include <stdlib.h>

/* ---- Configuration --------------------------------------------------- */

int dp_forwarding_add_block(dp_forwarding *f, char *err, size_t errlen) {
    if (f->stages == NULL) f->stages = calloc(1, sizeof(dp_stages));
    dp_stages *s = f->stages;
    if (s == NULL) return dp_fail(err, errlen, "out of memory");
    if (s->block_count == DP_MAX_BLOCKS)
        return dp_fail(err, errlen, "more than %d server blocks", DP_MAX_BLOCKS);
    s->block_count++;
    return 0;
}

int dp_forwarding_add_block_zone(dp_forwarding *f, const uint8_t *zone, size_t len, char *err,
                                 size_t errlen) {
    dp_stages *s = f->stages;
    if (s == NULL || s->block_count == 0) return dp_fail(err, errlen, "a zone before any block");
    if (s->zone_count == DP_MAX_BLOCK_ZONES)
        return dp_fail(err, errlen, "more than %d server block zones", DP_MAX_BLOCK_ZONES);
    dp_zone_name name;
    if (dp_zone_name_set(&name, zone, len, err, errlen) != 0) return -1;
    /* Longest first, so the first zone a name lies under is its block's. */
    unsigned at = 0;
    while (at < s->zone_count && s->zones[at].zone.labels >= name.labels) at++;
    memmove(&s->zones[at + 1], &s->zones[at], (s->zone_count - at) * sizeof(dp_block_zone));
    s->zones[at] = (dp_block_zone){.zone = name, .block = (uint8_t)(s->block_count - 1)};
    s->zone_count++;
    return 0;
}

int dp_zone_name_set(dp_zone_name *n, const uint8_t *name, size_t len, char *err, size_t errlen) {
    uint8_t offsets[DP_MAX_LABELS];
    int labels = name == NULL ? -1 : dp_name_labels(name, len, offsets);
    if (labels < 0) return dp_fail(err, errlen, "not a lower-case wire-format name");
    memcpy(n->name, name, len);
    n->len = (uint8_t)len;
    n->labels = (uint8_t)labels;
    return 0;
}

int dp_zone_names_add(dp_zone_name *names, unsigned *count, unsigned max, const uint8_t *name,
                      size_t len, char *err, size_t errlen) {
    if (*count == max) return dp_fail(err, errlen, "more than %u names of one kind", max);
    if (dp_zone_name_set(&names[*count], name, len, err, errlen) != 0) return -1;
    (*count)++;
    return 0;
}

dp_block *dp_stages_last_block(dp_forwarding *f) {
    return f->stages == NULL || f->stages->block_count == 0
               ? NULL
               : &f->stages->blocks[f->stages->block_count - 1];
}

void dp_stages_free(dp_stages *s) {
    if (s == NULL) return;
    for (unsigned i = 0; i < s->block_count; i++) {
        dp_block *b = &s->blocks[i];
        for (unsigned j = 0; j < b->rule_count; j++) {
            dp_rewrite_rule *r = &b->rules[j];
            dp_matcher_free(&r->match);
            free(r->to);
            for (unsigned k = 0; k < r->answer_count; k++) {
                dp_matcher_free(&r->answers[k]);
                free(r->answer_to[k]);
            }
        }
        for (unsigned j = 0; j < b->template_count; j++) dp_template_free(&b->templates[j]);
        free(b->templates);
        free(b->autopath);
    }
    free(s);
}

/* ---- A query ----------------------------------------------------------- */

bool dp_zone_holds(const dp_zone_name *zone, const dp_query *q) {
    if (zone->labels == 0) return true;
    if (zone->labels > q->labels) return false;
    const uint8_t *suffix = q->name + q->label_offsets[q->labels - zone->labels];
    return memcmp(suffix, zone->name, zone->len) == 0;
}

unsigned dp_stages_run(const dp_stages *s, const dp_table *t, dp_parsed *p, dp_staged *slot,
                       const struct sockaddr_storage *peer, dp_client_cache *clients) {
    if (p->result != DP_PARSE_OK) return 0;
    const dp_block *b = NULL;
    for (unsigned i = 0; i < s->zone_count && b == NULL; i++)
        if (dp_zone_holds(&s->zones[i].zone, &p->query)) b = &s->blocks[s->zones[i].block];
    if (b == NULL) return 0;
    p->block = b;
    unsigned done = 0;
    if (b->rule_count > 0) dp_rewrite_request(b, p, slot);
    /* A rewritten name is not walked down a search path: its reply is
     * mapped back by the rules, which a CNAME would come between. */
    if (b->autopath != NULL && p->rules == 0 && p->result == DP_PARSE_OK)
        done |= dp_autopath_request(b->autopath, t, p, slot, peer, clients);
    if (b->template_count > 0 && p->result == DP_PARSE_OK)
        done |= dp_template_request(b, p, slot, peer);
    return done;
}

/* ---- A worker's batches ---------------------------------------------- */

const dp_query *dp_parsed_asked(const dp_parsed *p) {
    return p->rules != 0 || p->autopath ? &p->staged->asked : &p->query;
}

void dp_worker_stages(dp_worker *w, const dp_table *t, unsigned n,
                      const struct sockaddr_storage *peers) {
    if (w->clients == NULL) {
        /* Made together: the last one made says all are there. */
        if (w->staged == NULL) w->staged = calloc(DP_UDP_BATCH, sizeof(dp_staged));
        if (w->rewrite_reply == NULL) w->rewrite_reply = malloc(DP_TCP_MAX_MESSAGE);
        if (w->staged == NULL || w->rewrite_reply == NULL) return;
        w->clients = calloc(1, sizeof(dp_client_cache));
        if (w->clients == NULL) return;
    }
    for (unsigned i = 0; i < n; i++) {
        dp_parsed *p = &w->parsed[i];
        unsigned done = dp_stages_run(w->fwd->stages, t, p, &w->staged[i], &peers[i], w->clients);
        if (done & DP_STAGED_TEMPLATE) dp_count(&w->counters.template_matches);
        if (done & DP_STAGED_TEMPLATE_FAILED) dp_count(&w->counters.template_failures);
        if (done & DP_STAGED_AUTOPATH) dp_count(&w->counters.autopath_success);
        if ((p->rules != 0 || p->autopath) && p->result == DP_PARSE_OK)
            dp_table_prefetch(t, p->query.hash);
    }
}

size_t dp_worker_unrewrite(const dp_parsed *p, uint8_t *reply, size_t len, size_t cap,
                           int transport) {
    if ((p->rules == 0 && !p->autopath) || len == 0) return len;
    return dp_rewrite_reply(p->block, p->rules, p->autopath, &p->staged->asked, &p->query, reply,
                            len, cap, transport);
}
