/*
 * rewrite.c — CoreDNS's rewrite plugin: the rules of a query's server
 * block (stages.c), in written order; each that matches changes the question (name,
 * type, class) or asks for a change to the reply (TTLs), and `stop` ends
 * the rules there. The reply then gets the client's question back and,
 * for name rules, its names mapped back: always for an exact rule, with
 * `answer auto` for the others (a suffix rule swaps the suffixes back),
 * and by `answer name` patterns (coredns.io/plugins/rewrite).
 *
 * The reply is mapped with ldns: only rewritten queries take that path.
 */
#include "forward.h"
#include "stages.h"

#include <ldns/ldns.h>
#include <stdlib.h>

/* ---- Configuration ------------------------------------------------- */

int dp_forwarding_add_rewrite(dp_forwarding *f, const dp_rewrite_spec *spec, char *err,
                              size_t errlen) {
    dp_block *b = dp_stages_last_block(f);
    if (b == NULL) return dp_fail(err, errlen, "a rule before any block");
    if (b->rule_count == DP_MAX_BLOCK_RULES)
        return dp_fail(err, errlen, "more than %d rules in a block", DP_MAX_BLOCK_RULES);
    dp_rewrite_rule *r = &b->rules[b->rule_count];
    memset(r, 0, sizeof(*r));
    r->field = spec->field;
    r->stop = spec->stop;
    r->from_code = spec->from_code;
    r->to_code = spec->to_code;
    r->ttl_min = spec->ttl_min;
    r->ttl_max = spec->ttl_max;
    r->answer_auto = spec->answer_auto || spec->match == DP_MATCH_EXACT;
    if (spec->field == DP_REWRITE_NAME || spec->field == DP_REWRITE_TTL) {
        if (spec->from == NULL) return dp_fail(err, errlen, "a rule without a name to match");
        if (dp_matcher_init(&r->match, spec->match, spec->from, err, errlen) != 0) {
            dp_matcher_free(&r->match);
            return -1;
        }
    }
    if (spec->field == DP_REWRITE_NAME) {
        r->to = strdup(spec->to != NULL ? spec->to : "");
        if (r->to == NULL) {
            dp_matcher_free(&r->match);
            return dp_fail(err, errlen, "out of memory");
        }
        r->to_len = strlen(r->to);
        if (r->to_len >= DP_NAME_TEXT) {
            dp_fail(err, errlen, "'%.40s...' is longer than any name", r->to);
            dp_matcher_free(&r->match);
            free(r->to);
            return -1;
        }
    }
    b->rule_count++;
    return 0;
}

int dp_forwarding_add_rewrite_answer(dp_forwarding *f, const char *from, const char *to, char *err,
                                     size_t errlen) {
    dp_block *b = dp_stages_last_block(f);
    if (b == NULL || b->rule_count == 0 || b->rules[b->rule_count - 1].field != DP_REWRITE_NAME)
        return dp_fail(err, errlen, "an answer rule without a name rule before it");
    dp_rewrite_rule *r = &b->rules[b->rule_count - 1];
    if (r->answer_count == DP_MAX_ANSWER_RULES)
        return dp_fail(err, errlen, "more than %d answer rules", DP_MAX_ANSWER_RULES);
    dp_matcher *m = &r->answers[r->answer_count];
    if (dp_matcher_init(m, DP_MATCH_REGEX, from, err, errlen) != 0) {
        dp_matcher_free(m);
        return -1;
    }
    r->answer_to[r->answer_count] = strdup(to);
    if (r->answer_to[r->answer_count] == NULL) {
        dp_matcher_free(m);
        return dp_fail(err, errlen, "out of memory");
    }
    r->answer_count++;
    return 0;
}

/* ---- The query -------------------------------------------------------- */

/* The new name's text for a name rule that matched `text`. */
static size_t rewritten_text(const dp_rewrite_rule *r, const char *text, size_t len,
                             const regmatch_t *groups, char *out) {
    const dp_matcher *m = &r->match;
    size_t to_len = r->to_len;
    switch (m->kind) {
    case DP_MATCH_EXACT:
        memcpy(out, r->to, to_len + 1);
        return to_len;
    case DP_MATCH_PREFIX:
        if (to_len + len - m->len >= DP_NAME_TEXT) return 0;
        memcpy(out, r->to, to_len);
        memcpy(out + to_len, text + m->len, len - m->len);
        out[to_len + len - m->len] = '\0';
        return to_len + len - m->len;
    case DP_MATCH_SUFFIX:
        if (len - m->len + to_len >= DP_NAME_TEXT) return 0;
        memcpy(out, text, len - m->len);
        memcpy(out + len - m->len, r->to, to_len + 1);
        return len - m->len + to_len;
    case DP_MATCH_SUBSTRING: {
        /* Every occurrence, as strings.ReplaceAll. */
        size_t at = 0;
        for (size_t i = 0; i < len;) {
            if (i + m->len <= len && memcmp(text + i, m->text, m->len) == 0) {
                if (at + to_len >= DP_NAME_TEXT) return 0;
                memcpy(out + at, r->to, to_len);
                at += to_len;
                i += m->len;
            } else {
                if (at + 1 >= DP_NAME_TEXT) return 0;
                out[at++] = text[i++];
            }
        }
        out[at] = '\0';
        return at;
    }
    case DP_MATCH_REGEX:
        return dp_expand_groups(r->to, text, groups, out);
    }
    return 0;
}

/* Writes the query again with a new question, the rest as it was. */
static size_t requery(const dp_query *q, const uint8_t *name, size_t name_len, uint16_t qtype,
                      uint16_t qclass, uint8_t *out, size_t cap) {
    size_t rest = q->len - q->question_end;
    size_t len = DP_HEADER_SIZE + name_len + 4 + rest;
    if (len > cap) return 0;
    memcpy(out, q->wire, DP_HEADER_SIZE);
    memcpy(out + DP_HEADER_SIZE, name, name_len);
    dp_write16(out + DP_HEADER_SIZE + name_len, qtype);
    dp_write16(out + DP_HEADER_SIZE + name_len + 2, qclass);
    memcpy(out + DP_HEADER_SIZE + name_len + 4, q->wire + q->question_end, rest);
    return len;
}

/* The query asks `name` (type, class) from now on: written into the
 * slot and parsed again, the old query kept as asked. */
static bool requestion(dp_parsed *p, dp_staged *slot, const uint8_t *name, size_t len,
                       uint16_t qtype, uint16_t qclass) {
    slot->asked = p->query;
    p->staged = slot;
    size_t wire_len =
        requery(&slot->asked, name, len, qtype, qclass, slot->wire, sizeof(slot->wire));
    if (wire_len == 0 || dp_query_parse(slot->wire, wire_len, &p->query) != DP_PARSE_OK) {
        p->query = slot->asked;
        p->result = DP_PARSE_SERVFAIL;
        return false;
    }
    return true;
}

void dp_rewrite_request(const dp_block *b, dp_parsed *p, dp_staged *slot) {
    const dp_query *q = &p->query;
    uint8_t name[DP_MAX_NAME];
    size_t name_len = q->name_len;
    memcpy(name, q->name, name_len);
    dp_name_text text;
    dp_name_text_init(&text, name, name_len);
    uint16_t qtype = q->qtype, qclass = q->qclass;
    uint64_t matched = 0;
    bool renamed = false;
    for (unsigned i = 0; i < b->rule_count; i++) {
        const dp_rewrite_rule *r = &b->rules[i];
        regmatch_t groups[DP_MAX_GROUPS];
        bool hit;
        switch (r->field) {
        case DP_REWRITE_TYPE:
            hit = qtype == r->from_code;
            if (hit) qtype = r->to_code;
            break;
        case DP_REWRITE_CLASS:
            hit = qclass == r->from_code;
            if (hit) qclass = r->to_code;
            break;
        case DP_REWRITE_TTL:
        case DP_REWRITE_NAME:
            hit = dp_matcher_matches_name(&r->match, &text, groups);
            if (hit && r->field == DP_REWRITE_NAME) {
                char next[DP_NAME_TEXT];
                const char *now = dp_name_text_of(&text);
                size_t next_len = rewritten_text(r, now, text.len, groups, next);
                name_len = next_len == 0 ? 0 : dp_name_from_text(next, next_len, name);
                if (name_len == 0) {
                    /* No name: CoreDNS answers SERVFAIL. */
                    p->result = DP_PARSE_SERVFAIL;
                    return;
                }
                dp_name_text_init(&text, name, name_len);
                renamed = true;
            }
            break;
        default:
            hit = false;
        }
        if (!hit) continue;
        matched |= (uint64_t)1 << i;
        if (r->stop) break;
    }
    if (matched == 0) return;
    p->block = b;
    p->rules = matched;
    if (!renamed && qtype == q->qtype && qclass == q->qclass) {
        p->staged = slot;
        slot->asked = *q;
        return;
    }
    requestion(p, slot, name, name_len, qtype, qclass);
}

bool dp_rewrite_question(dp_parsed *p, dp_staged *slot, const uint8_t *name, size_t len) {
    return requestion(p, slot, name, len, p->query.qtype, p->query.qclass);
}

/* ---- The reply -------------------------------------------------------- */

/* A name in text form as an ldns name, or NULL. */
static ldns_rdf *rdf_from_text(const char *text, size_t len) {
    uint8_t wire[DP_MAX_NAME];
    size_t wire_len = dp_name_from_text(text, len, wire);
    return wire_len == 0 ? NULL : ldns_dname_new_frm_data(wire_len, wire);
}

/* An ldns name in text form (DP_NAME_TEXT); its length. */
static size_t rdf_text(const ldns_rdf *name, char *out) {
    uint8_t wire[DP_MAX_NAME];
    size_t len = ldns_rdf_size(name);
    if (len > DP_MAX_NAME) len = DP_MAX_NAME;
    for (size_t i = 0; i < len; i++) wire[i] = dp_lower(ldns_rdf_data(name)[i]);
    return dp_name_to_text(wire, len, out);
}

/* The rules' mapping of one name in the reply, or NULL to keep it.
 * `value`: a name in RDATA (auto rewrites those too; `answer name` only owners). */
static ldns_rdf *mapped(const dp_block *b, uint64_t rules, const ldns_rdf *name, bool value,
                        const char *asked, size_t asked_len, const char *answered,
                        size_t answered_len) {
    char text[DP_NAME_TEXT], next[DP_NAME_TEXT];
    size_t len = rdf_text(name, text);
    bool changed = false;
    /* The response rules run in the reverse order of the rules. */
    for (int i = (int)b->rule_count - 1; i >= 0; i--) {
        const dp_rewrite_rule *r = &b->rules[i];
        if (!(rules & ((uint64_t)1 << i)) || r->field != DP_REWRITE_NAME) continue;
        if (r->answer_auto && r->match.kind == DP_MATCH_SUFFIX) {
            size_t to_len = r->to_len;
            if (len >= to_len && memcmp(text + len - to_len, r->to, to_len) == 0 &&
                len - to_len + r->match.len < DP_NAME_TEXT) {
                memcpy(next, text, len - to_len);
                memcpy(next + len - to_len, r->match.text, r->match.len + 1);
                len = len - to_len + r->match.len;
                memcpy(text, next, len + 1);
                changed = true;
            }
        } else if (r->answer_auto) {
            /* The name answered, or a name under it, becomes the client's. */
            size_t under = len - answered_len;
            bool same = len == answered_len && memcmp(text, answered, len) == 0;
            bool below = len > answered_len && text[under - 1] == '.' &&
                         memcmp(text + under, answered, answered_len) == 0;
            if ((same || below) && under + asked_len < DP_NAME_TEXT) {
                memcpy(next, text, same ? 0 : under);
                memcpy(next + (same ? 0 : under), asked, asked_len + 1);
                len = (same ? 0 : under) + asked_len;
                memcpy(text, next, len + 1);
                changed = true;
            }
        }
        for (unsigned k = 0; k < r->answer_count && !value; k++) {
            regmatch_t groups[DP_MAX_GROUPS];
            if (!dp_matcher_matches(&r->answers[k], text, len, groups)) continue;
            size_t n = dp_expand_groups(r->answer_to[k], text, groups, next);
            if (n == 0) continue;
            memcpy(text, next, n + 1);
            len = n;
            changed = true;
        }
    }
    return changed ? rdf_from_text(text, len) : NULL;
}

static void map_rr(const dp_block *b, uint64_t rules, ldns_rr *rr, const char *asked,
                   size_t asked_len, const char *answered, size_t answered_len) {
    ldns_rdf *owner =
        mapped(b, rules, ldns_rr_owner(rr), false, asked, asked_len, answered, answered_len);
    if (owner != NULL) {
        ldns_rdf *old = ldns_rr_owner(rr);
        ldns_rr_set_owner(rr, owner);
        ldns_rdf_deep_free(old);
    }
    for (size_t i = 0; i < ldns_rr_rd_count(rr); i++) {
        ldns_rdf *field = ldns_rr_rdf(rr, i);
        if (ldns_rdf_get_type(field) != LDNS_RDF_TYPE_DNAME) continue;
        ldns_rdf *value = mapped(b, rules, field, true, asked, asked_len, answered, answered_len);
        if (value != NULL) ldns_rdf_deep_free(ldns_rr_set_rdf(rr, value, i));
    }
    for (unsigned i = 0; i < b->rule_count; i++) {
        const dp_rewrite_rule *r = &b->rules[i];
        if (!(rules & ((uint64_t)1 << i)) || r->field != DP_REWRITE_TTL) continue;
        uint32_t ttl = ldns_rr_ttl(rr);
        if (ttl < r->ttl_min) ldns_rr_set_ttl(rr, r->ttl_min);
        if (ttl > r->ttl_max) ldns_rr_set_ttl(rr, r->ttl_max);
    }
}

/* The question's name as the client wrote it (its letters' case
 * included), as an ldns name; NULL when out of memory. */
static ldns_rdf *asked_name(const dp_query *asked) {
    size_t name_len = asked->question_end - 4 - DP_HEADER_SIZE;
    return ldns_dname_new_frm_data(name_len, asked->wire + DP_HEADER_SIZE);
}

/* CoreDNS's autopath's CNAME: from the client's name to the first
 * answer's owner (when that is another name), with its TTL, first. */
static void prepend_cname(ldns_pkt *pkt, const dp_query *asked) {
    ldns_rr_list *answers = ldns_pkt_answer(pkt);
    if (ldns_rr_list_rr_count(answers) == 0) return;
    const ldns_rr *first = ldns_rr_list_rr(answers, 0);
    ldns_rdf *owner = asked_name(asked);
    if (owner == NULL) return;
    if (ldns_dname_compare(owner, ldns_rr_owner(first)) == 0) {
        ldns_rdf_deep_free(owner);
        return;
    }
    ldns_rr *cname = ldns_rr_new_frm_type(LDNS_RR_TYPE_CNAME);
    ldns_rr_list *fresh = ldns_rr_list_new();
    if (cname == NULL || fresh == NULL) {
        ldns_rdf_deep_free(owner);
        ldns_rr_free(cname);
        ldns_rr_list_free(fresh);
        return;
    }
    ldns_rr_set_owner(cname, owner);
    ldns_rr_set_ttl(cname, ldns_rr_ttl(first));
    ldns_rr_set_class(cname, LDNS_RR_CLASS_IN);
    ldns_rr_set_rdf(cname, ldns_rdf_clone(ldns_rr_owner(first)), 0);
    ldns_rr_list_push_rr(fresh, cname);
    ldns_rr_list_push_rr_list(fresh, answers);
    ldns_pkt_set_answer(pkt, fresh);
    ldns_pkt_set_ancount(pkt, (uint16_t)ldns_rr_list_rr_count(fresh));
    ldns_rr_list_free(answers);
}

size_t dp_rewrite_reply(const dp_block *b, uint64_t rules, bool cname, const dp_query *asked,
                        const dp_query *rewritten, uint8_t *reply, size_t len, size_t cap,
                        int transport) {
    ldns_pkt *pkt = NULL;
    if (len < DP_HEADER_SIZE || ldns_wire2pkt(&pkt, reply, len) != LDNS_STATUS_OK) {
        ldns_pkt_free(pkt);
        return len;
    }
    char asked_text[DP_NAME_TEXT], answered_text[DP_NAME_TEXT];
    size_t asked_len = dp_name_to_text(asked->name, asked->name_len, asked_text);
    size_t answered_len = dp_name_to_text(rewritten->name, rewritten->name_len, answered_text);
    ldns_rr_list *sections[] = {ldns_pkt_answer(pkt), ldns_pkt_authority(pkt),
                                ldns_pkt_additional(pkt)};
    for (size_t s = 0; s < 3; s++)
        for (size_t i = 0; i < ldns_rr_list_rr_count(sections[s]); i++)
            map_rr(b, rules, ldns_rr_list_rr(sections[s], i), asked_text, asked_len, answered_text,
                   answered_len);
    if (cname) prepend_cname(pkt, asked);
    /* The client's question, as it wrote it. */
    ldns_rr_list *question = ldns_pkt_question(pkt);
    if (ldns_rr_list_rr_count(question) == 1) {
        ldns_rr *rr = ldns_rr_list_rr(question, 0);
        ldns_rdf *name = asked_name(asked);
        if (name != NULL) {
            ldns_rdf *old = ldns_rr_owner(rr);
            ldns_rr_set_owner(rr, name);
            ldns_rdf_deep_free(old);
        }
        ldns_rr_set_type(rr, asked->qtype);
        ldns_rr_set_class(rr, asked->qclass);
    }
    uint8_t *wire = NULL;
    size_t wire_len = 0;
    size_t result = len;
    if (ldns_pkt2wire(&wire, pkt, &wire_len) == LDNS_STATUS_OK) {
        if (wire_len <= dp_reply_limit(asked, cap, transport)) {
            memcpy(reply, wire, wire_len);
            result = wire_len;
        } else {
            result = dp_reply_question_only(asked, reply[3] & 0x0F, (reply[2] & 0x04) != 0, true, 0,
                                            reply, cap);
        }
    }
    free(wire);
    ldns_pkt_free(pkt);
    return result;
}
