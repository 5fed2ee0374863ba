/*
 * template.c — CoreDNS's template plugin: a reply made from the query's
 * name. A block's templates are tried in order; the first whose zone,
 * class and type fit and one of whose patterns matches the name (text
 * form, lower case) answers, authoritatively, with its records filled in
 * from the name, the groups of the pattern, the zone, the class and type
 * and the client's address (coredns.io/plugins/template). A name of a
 * template's zones that no pattern matches gets SERVFAIL unless it falls
 * through to the next template, then to the next plugin.
 *
 * The records are filled in and read (ldns) when the query arrives, into
 * its staged slot; the reply is written at the reply pass, to fit the
 * transport.
 */
#include "forward.h"
#include "stages.h"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

/* A template's fields in its records: U+0001, then a code (see
 * TemplateRule.Text on the Swift side). */
#define DP_TEMPLATE_MARKER '\x01'

/* ---- Configuration --------------------------------------------------- */

static dp_template *last_template(dp_forwarding *f) {
    dp_block *b = dp_stages_last_block(f);
    return b == NULL || b->template_count == 0 ? NULL : &b->templates[b->template_count - 1];
}

int dp_forwarding_add_template(dp_forwarding *f, uint16_t qclass, uint16_t qtype, uint8_t rcode,
                               bool falls, char *err, size_t errlen) {
    dp_block *b = dp_stages_last_block(f);
    if (b == NULL) return dp_fail(err, errlen, "a template before any block");
    if (b->templates == NULL) b->templates = calloc(DP_MAX_TEMPLATES, sizeof(dp_template));
    if (b->templates == NULL) return dp_fail(err, errlen, "out of memory");
    if (b->template_count == DP_MAX_TEMPLATES)
        return dp_fail(err, errlen, "more than %d templates in a block", DP_MAX_TEMPLATES);
    dp_template *t = &b->templates[b->template_count++];
    t->qclass = qclass;
    t->qtype = qtype;
    t->rcode = rcode;
    t->falls = falls;
    return 0;
}

int dp_forwarding_add_template_zone(dp_forwarding *f, const uint8_t *zone, size_t len,
                                    bool fallthrough, char *err, size_t errlen) {
    dp_template *t = last_template(f);
    if (t == NULL) return dp_fail(err, errlen, "a zone before any template");
    return fallthrough ? dp_zone_names_add(t->fall_zones, &t->fall_count, DP_MAX_TEMPLATE_ZONES,
                                           zone, len, err, errlen)
                       : dp_zone_names_add(t->zones, &t->zone_count, DP_MAX_TEMPLATE_ZONES, zone,
                                           len, err, errlen);
}

int dp_forwarding_add_template_match(dp_forwarding *f, const char *pattern, const int8_t *named,
                                     size_t names, char *err, size_t errlen) {
    dp_template *t = last_template(f);
    if (t == NULL) return dp_fail(err, errlen, "a pattern before any template");
    if (t->match_count == DP_MAX_TEMPLATE_MATCHES)
        return dp_fail(err, errlen, "more than %d patterns", DP_MAX_TEMPLATE_MATCHES);
    if (names > DP_MAX_TEMPLATE_NAMES)
        return dp_fail(err, errlen, "more than %d group names", DP_MAX_TEMPLATE_NAMES);
    dp_matcher *m = &t->matches[t->match_count];
    if (dp_matcher_init(m, DP_MATCH_REGEX, pattern, err, errlen) != 0) {
        dp_matcher_free(m);
        return -1;
    }
    memset(t->named[t->match_count], -1, DP_MAX_TEMPLATE_NAMES);
    memcpy(t->named[t->match_count], named, names);
    t->match_count++;
    return 0;
}

int dp_forwarding_add_template_record(dp_forwarding *f, dp_template_section section,
                                      const char *marked, char *err, size_t errlen) {
    dp_template *t = last_template(f);
    if (t == NULL) return dp_fail(err, errlen, "a record before any template");
    if ((unsigned)section > DP_TEMPLATE_ADDITIONAL) return dp_fail(err, errlen, "no such section");
    if (t->record_count[section] == DP_MAX_TEMPLATE_RECORDS)
        return dp_fail(err, errlen, "more than %d records in a section", DP_MAX_TEMPLATE_RECORDS);
    char *copy = strdup(marked);
    if (copy == NULL) return dp_fail(err, errlen, "out of memory");
    t->records[section][t->record_count[section]++] = copy;
    return 0;
}

void dp_template_free(dp_template *t) {
    for (unsigned i = 0; i < t->match_count; i++) dp_matcher_free(&t->matches[i]);
    for (unsigned s = 0; s < 3; s++)
        for (unsigned i = 0; i < t->record_count[s]; i++) free(t->records[s][i]);
}

/* ---- Filling in ------------------------------------------------------- */

/* What the fields of a template's records are for one query. */
typedef struct fill {
    const char *name; /* text form */
    size_t name_len;
    const regmatch_t *groups;
    const int8_t *named;
    char zone[DP_NAME_TEXT];
    char type[16], class[16];
    char remote[INET6_ADDRSTRLEN];
} fill;

/* `.Type` and `.Class` as Go's dns package names them: ldns's names
 * (ANY, a query type, is no record type there), else TYPE<N>, CLASS<N>
 * (RFC 3597 §5). */
static void type_text(uint16_t type, char *out) {
    const ldns_rr_descriptor *d = ldns_rr_descript(type);
    const char *name = type == DP_TYPE_ANY ? "ANY" : d != NULL ? d->_name : NULL;
    if (name != NULL && strncmp(name, "TYPE", 4) != 0)
        snprintf(out, 16, "%s", name);
    else
        snprintf(out, 16, "TYPE%u", type);
}

static void class_text(uint16_t qclass, char *out) {
    const ldns_lookup_table *c = ldns_lookup_by_id(ldns_rr_classes, qclass);
    if (c != NULL)
        snprintf(out, 16, "%s", c->name);
    else
        snprintf(out, 16, "CLASS%u", qclass);
}

static void remote_text(const struct sockaddr_storage *peer, char *out) {
    out[0] = '\0';
    if (peer == NULL) return;
    if (peer->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, out, INET6_ADDRSTRLEN);
    else if (peer->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, out, INET6_ADDRSTRLEN);
}

/* A record's text with its fields filled in; false when it does not fit. */
static bool fill_in(const char *marked, const fill *f, char *out, size_t cap) {
    size_t at = 0;
    for (const char *c = marked; *c != '\0'; c++) {
        const char *value = c;
        size_t len = 1;
        if (c[0] == DP_TEMPLATE_MARKER && c[1] != '\0') {
            char code = *++c;
            int group = -1;
            if (code == 'g' && c[1] != '\0') {
                unsigned name = (unsigned)(*++c - '0');
                group = name < DP_MAX_TEMPLATE_NAMES ? f->named[name] : -1;
                len = 0;
            } else if (code >= '0' && code < '0' + DP_MAX_GROUPS) {
                group = code - '0';
            }
            if (group >= 0 && group < DP_MAX_GROUPS && f->groups[group].rm_so >= 0) {
                value = f->name + f->groups[group].rm_so;
                len = (size_t)(f->groups[group].rm_eo - f->groups[group].rm_so);
            } else if (code == 'N') {
                value = f->name;
                len = f->name_len;
            } else {
                value = code == 'T'   ? f->type
                        : code == 'C' ? f->class
                        : code == 'Z' ? f->zone
                        : code == 'R' ? f->remote
                                      : "";
                len = strlen(value);
            }
        }
        if (at + len + 1 > cap) return false;
        memcpy(out + at, value, len);
        at += len;
    }
    out[at] = '\0';
    return true;
}

/* The records of the template, filled in, into the slot; false when one
 * is no record (CoreDNS answers SERVFAIL) or they do not fit. */
static bool make_records(const dp_template *t, const fill *f, dp_staged *slot) {
    static const ldns_pkt_section sections[] = {LDNS_SECTION_ANSWER, LDNS_SECTION_AUTHORITY,
                                                LDNS_SECTION_ADDITIONAL};
    slot->rrs_len = 0;
    for (unsigned s = 0; s < 3; s++) {
        slot->counts[s] = 0;
        for (unsigned i = 0; i < t->record_count[s]; i++) {
            char text[2048];
            if (!fill_in(t->records[s][i], f, text, sizeof(text))) return false;
            ldns_rr *rr = NULL;
            /* A record without a TTL gets 3600, as CoreDNS's reader gives it. */
            if (ldns_rr_new_frm_str(&rr, text, 3600, NULL, NULL) != LDNS_STATUS_OK) {
                ldns_rr_free(rr);
                return false;
            }
            uint8_t *wire = NULL;
            size_t len = 0;
            bool fits = ldns_rr2wire(&wire, rr, sections[s], &len) == LDNS_STATUS_OK &&
                        slot->rrs_len + len <= sizeof(slot->rrs);
            if (fits) {
                memcpy(slot->rrs + slot->rrs_len, wire, len);
                slot->rrs_len = (uint16_t)(slot->rrs_len + len);
                slot->counts[s]++;
            }
            free(wire);
            ldns_rr_free(rr);
            if (!fits) return false;
        }
    }
    return true;
}

/* ---- A query ----------------------------------------------------------- */

/* The longest of the zones that holds the name, or NULL. */
static const dp_zone_name *zone_of(const dp_zone_name *zones, unsigned count, const dp_query *q) {
    const dp_zone_name *best = NULL;
    for (unsigned i = 0; i < count; i++)
        if ((best == NULL || zones[i].labels > best->labels) && dp_zone_holds(&zones[i], q))
            best = &zones[i];
    return best;
}

static bool falls_through(const dp_template *t, const dp_query *q) {
    return t->falls && (t->fall_count == 0 || zone_of(t->fall_zones, t->fall_count, q) != NULL);
}

unsigned dp_template_request(const dp_block *b, dp_parsed *p, dp_staged *slot,
                             const struct sockaddr_storage *peer) {
    const dp_query *q = &p->query;
    dp_name_text text;
    dp_name_text_init(&text, q->name, q->name_len);
    for (unsigned i = 0; i < b->template_count; i++) {
        const dp_template *t = &b->templates[i];
        const dp_zone_name *zone = zone_of(t->zones, t->zone_count, q);
        if (zone == NULL) continue;
        if (t->qclass != 255 && q->qclass != 255 && q->qclass != t->qclass) continue;
        if (t->qtype != DP_TYPE_ANY && q->qtype != DP_TYPE_ANY && q->qtype != t->qtype) continue;
        regmatch_t groups[DP_MAX_GROUPS];
        bool matched = t->match_count == 0;
        const int8_t *named = NULL;
        if (matched) {
            /* No pattern: `.*`, whose whole match is the name. */
            for (unsigned g = 0; g < DP_MAX_GROUPS; g++) groups[g].rm_so = groups[g].rm_eo = -1;
            groups[0].rm_so = 0;
            dp_name_text_of(&text);
            groups[0].rm_eo = (regoff_t)text.len;
        }
        for (unsigned m = 0; m < t->match_count && !matched; m++) {
            matched = dp_matcher_matches_name(&t->matches[m], &text, groups);
            named = t->named[m];
        }
        if (!matched) {
            if (falls_through(t, q)) continue;
            p->result = DP_PARSE_SERVFAIL;
            return 0;
        }
        static const int8_t no_names[DP_MAX_TEMPLATE_NAMES] = {-1, -1, -1, -1, -1, -1, -1, -1,
                                                               -1, -1, -1, -1, -1, -1, -1, -1};
        fill f = {.name = dp_name_text_of(&text), .name_len = text.len, .groups = groups};
        f.named = named != NULL ? named : no_names;
        dp_name_to_text(zone->name, zone->len, f.zone);
        type_text(q->qtype != DP_TYPE_ANY ? q->qtype : t->qtype, f.type);
        class_text(q->qclass != 255 ? q->qclass : t->qclass, f.class);
        remote_text(peer, f.remote);
        slot->rcode = t->rcode;
        if (t->rcode == DP_RCODE_SERVFAIL || !make_records(t, &f, slot)) {
            p->result = DP_PARSE_SERVFAIL;
            return t->rcode == DP_RCODE_SERVFAIL ? DP_STAGED_TEMPLATE
                                                 : DP_STAGED_TEMPLATE | DP_STAGED_TEMPLATE_FAILED;
        }
        p->staged = slot;
        p->templated = true;
        return DP_STAGED_TEMPLATE;
    }
    return 0;
}

/* ---- The reply -------------------------------------------------------- */

/* Whether the last answer RR of the records is a CNAME. */
static bool ends_with_cname(const dp_staged *slot) {
    size_t pos = 0, last_type = 0;
    for (unsigned i = 0; i < slot->counts[0]; i++) {
        size_t fields = dp_rr_fields(slot->rrs, slot->rrs_len, pos);
        if (fields == 0 || fields + 10 > slot->rrs_len) return false;
        last_type = dp_read16(slot->rrs + fields);
        pos = fields + 10 + dp_read16(slot->rrs + fields + 8);
    }
    return slot->counts[0] > 0 && last_type == DP_TYPE_CNAME;
}

size_t dp_template_reply(dp_parsed *p, uint8_t *out, size_t cap, int transport) {
    const dp_query *q = &p->query;
    const dp_staged *slot = p->staged;
    size_t question_len = q->question_end - DP_HEADER_SIZE;
    size_t limit = dp_reply_limit(q, cap, transport);
    size_t len = DP_HEADER_SIZE + question_len + slot->rrs_len;
    if (len + (q->edns ? DP_OPT_RR_SIZE : 0) > limit)
        return dp_reply_question_only(q, slot->rcode, true, true, 0, out, cap);
    memcpy(out, q->wire, 2);
    out[2] = (uint8_t)(0x80 | 0x04 | (q->wire[2] & 0x01)); /* QR, AA, the client's RD */
    out[3] = slot->rcode & 0x0F;
    dp_write16(out + 4, 1);
    for (unsigned s = 0; s < 3; s++) dp_write16(out + 6 + 2 * s, slot->counts[s]);
    memcpy(out + DP_HEADER_SIZE, q->wire + DP_HEADER_SIZE, question_len);
    memcpy(out + DP_HEADER_SIZE + question_len, slot->rrs, slot->rrs_len);
    if (q->edns) len = dp_append_opt(out, len, q, 0);
    p->chase = (q->qtype == DP_TYPE_A || q->qtype == DP_TYPE_AAAA) && ends_with_cname(slot);
    return len;
}
