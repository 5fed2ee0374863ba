/*
 * chase.c — an ExternalName answer completed from upstream: the table's
 * CNAME to a name outside the cluster, then what an upstream said of that
 * name (RFC 1034 §3.6.2: a resolver follows the CNAME; RFC 6604 §2.1: the
 * RCODE is the last name's). Only on a cache miss: the result is cached
 * under the client's question.
 */
#include "forward.h"

#include <ldns/ldns.h>
#include <stdlib.h>

static void append_section(ldns_pkt *to, const ldns_rr_list *rrs, ldns_pkt_section section) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++)
        ldns_pkt_push_rr(to, section, ldns_rr_clone(ldns_rr_list_rr(rrs, i)));
}

static uint32_t min_ttl(const ldns_rr_list *rrs, uint32_t ttl) {
    for (size_t i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
        uint32_t t = ldns_rr_ttl(ldns_rr_list_rr(rrs, i));
        if (t < ttl) ttl = t;
    }
    return ttl;
}

uint8_t *dp_chase_compose(const uint8_t *table_reply, size_t table_len, const uint8_t *upstream,
                          size_t upstream_len, size_t *out_len, uint32_t *ttl) {
    ldns_pkt *reply = NULL, *target = NULL;
    uint8_t *wire = NULL;
    if (ldns_wire2pkt(&reply, table_reply, table_len) != LDNS_STATUS_OK ||
        ldns_wire2pkt(&target, upstream, upstream_len) != LDNS_STATUS_OK)
        goto done;
    /* The table's reply is the CNAME alone: no authority, no additional. */
    append_section(reply, ldns_pkt_answer(target), LDNS_SECTION_ANSWER);
    append_section(reply, ldns_pkt_authority(target), LDNS_SECTION_AUTHORITY);
    ldns_pkt_set_rcode(reply, ldns_pkt_get_rcode(target));
    ldns_pkt_set_ra(reply, true);
    *ttl = min_ttl(ldns_pkt_answer(reply), min_ttl(ldns_pkt_authority(reply), *ttl));
    if (ldns_pkt2wire(&wire, reply, out_len) != LDNS_STATUS_OK || *out_len > DP_TCP_MAX_MESSAGE) {
        free(wire);
        wire = NULL;
    }
done:
    ldns_pkt_free(reply);
    ldns_pkt_free(target);
    return wire;
}

size_t dp_chase_target(const uint8_t *reply, size_t len, size_t question_end, uint8_t *target) {
    if (len < DP_HEADER_SIZE) return 0;
    unsigned ancount = dp_read16(reply + 6);
    size_t pos = question_end, rdata = 0;
    for (unsigned i = 0; i < ancount; i++) {
        pos = dp_skip_name(reply, len, pos);
        if (pos == 0 || pos + 10 > len) return 0;
        rdata = pos + 10;
        pos = rdata + dp_read16(reply + pos + 8);
        if (pos > len) return 0;
    }
    if (ancount == 0) return 0;
    /* The last RR's RDATA: a name our own writer compressed. */
    size_t end;
    return dp_copy_name(reply, len, rdata, true, target, NULL, NULL, &end);
}
