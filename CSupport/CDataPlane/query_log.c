/*
 * query_log.c — CoreDNS's log plugin off the packet path: each worker
 * writes the queries it answers into a ring of its own (one writer, the
 * worker; one reader, the control thread), and the control thread turns
 * them into lines. A worker makes no system call for it.
 */
#include "server.h"

#include <netinet/in.h>
#include <stdlib.h>

#define DP_QUERY_LOG_RING 4096 /* entries per worker, a power of two */

struct dp_query_log_ring {
    _Atomic uint32_t head; /* written by the worker */
    _Atomic uint32_t tail; /* written by the reader */
    dp_query_log_entry entries[DP_QUERY_LOG_RING];
};

void dp_server_set_query_log(dp_server *s, unsigned mode) {
    /* The rings are made before the flag is raised, and kept until the
     * server is freed: a worker may still be writing one after it drops. */
    for (unsigned i = 0; mode != 0 && i < s->worker_count; i++) {
        dp_worker *w = &s->workers[i];
        if (w->query_log == NULL) w->query_log = calloc(1, sizeof(dp_query_log_ring));
        if (w->query_log == NULL) return;
    }
    atomic_store(&s->query_log, mode);
}

void dp_query_log_write(dp_worker *w, const dp_query *q, const struct sockaddr_storage *peer,
                        int transport, const uint8_t *reply, size_t len, uint64_t received_us,
                        uint8_t source) {
    dp_query_log_ring *r = w->query_log;
    if (r == NULL || len < DP_HEADER_SIZE) return;
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head - atomic_load_explicit(&r->tail, memory_order_acquire) == DP_QUERY_LOG_RING) {
        dp_count(&w->counters.query_log_dropped);
        return;
    }
    dp_query_log_entry *e = &r->entries[head % DP_QUERY_LOG_RING];
    memset(e->address, 0, sizeof(e->address));
    if (peer->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)peer;
        memcpy(e->address, &in->sin_addr, 4);
        e->family = 4;
        e->port = ntohs(in->sin_port);
    } else {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)peer;
        memcpy(e->address, &in6->sin6_addr, 16);
        e->family = 6;
        e->port = ntohs(in6->sin6_port);
    }
    e->transport = (uint8_t)transport;
    e->id = dp_read16(q->wire);
    e->qtype = q->qtype;
    e->qclass = q->qclass;
    e->request_size = (uint16_t)q->len;
    e->reply_size = (uint16_t)len;
    e->edns_size = q->edns ? q->edns_udp_size : 0;
    e->edns_do = q->edns_do;
    e->rcode = reply[3] & 0x0F;
    e->reply_flags[0] = reply[2];
    e->reply_flags[1] = reply[3];
    e->answer_count = dp_read16(reply + 6);
    e->source = source;
    e->answered_us = dp_monotonic_us();
    e->duration_us = e->answered_us - received_us;
    /* The question's name as the client wrote it: no compression there. */
    e->name_len = q->name_len;
    memcpy(e->name, q->wire + DP_HEADER_SIZE, q->name_len);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

size_t dp_server_read_query_log(dp_server *s, dp_query_log_entry *out, size_t max) {
    size_t taken = 0;
    for (unsigned i = 0; i < s->worker_count && taken < max; i++) {
        dp_query_log_ring *r = s->workers[i].query_log;
        if (r == NULL) continue;
        uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
        uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
        while (tail != head && taken < max) out[taken++] = r->entries[tail++ % DP_QUERY_LOG_RING];
        atomic_store_explicit(&r->tail, tail, memory_order_release);
    }
    return taken;
}
