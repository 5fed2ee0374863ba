/*
 * forward_stress.c — the forwarder and the shared cache under a sanitizer:
 * two workers answer UDP queries for 24 names and pipelined TCP queries
 * for 40 others, forwarded to a small upstream (a thread here) and kept in
 * a cache of 32 (so entries are read, evicted and replaced), while the
 * main thread replaces the forwarding configuration 100 times (each time
 * the cache is emptied and every worker takes the new one). Every query
 * must get its own NOERROR answer; the server then stops cleanly with
 * nothing left in flight. Built with ThreadSanitizer and with
 * AddressSanitizer by run.sh. First, on one thread, the reclamation rule
 * itself: an entry a reader holds outlives its replacement until the
 * reader says it is quiescent (with an immediate free, ASan reports it).
 */
#define STRESS_NAME "forward_stress"
#include "forward.h"
#include "stress_support.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define NAMES 24     /* asked over UDP: they fit in the cache */
#define TCP_NAMES 40 /* asked over TCP: with the others, they do not */
#define UDP_QUERIES 4000
#define TCP_ROUNDS 200
#define PIPELINE 10
#define CONFIGURATIONS 100

static uint16_t port, upstream_port;
static atomic_bool upstream_stop;
static int upstream_fd;

/* n<k>.example.test. A, RD. */
static size_t make_query(uint8_t *q, uint16_t id, int k) {
    char label[8];
    int n = snprintf(label, sizeof(label), "n%d", k);
    size_t len = 0;
    uint8_t header[12] = {(uint8_t)(id >> 8), (uint8_t)id, 0x01, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(q, header, 12);
    len = 12;
    q[len++] = (uint8_t)n;
    memcpy(q + len, label, (size_t)n);
    len += (size_t)n;
    static const uint8_t rest[] = {7,   'e', 'x', 'a', 'm', 'p', 'l', 'e', 4,
                                   't', 'e', 's', 't', 0,   0,   1,   0,   1};
    memcpy(q + len, rest, sizeof(rest));
    return len + sizeof(rest);
}

/* The upstream: each question gets one A record, TTL 60, its address the
 * name's number. */
static void *upstream(void *arg) {
    (void)arg;
    uint8_t q[2048], r[2048];
    while (!atomic_load(&upstream_stop)) {
        struct sockaddr_storage from;
        socklen_t fromlen = sizeof(from);
        ssize_t n = recvfrom(upstream_fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fromlen);
        if (n < 12) continue;
        size_t pos = 12;
        while (pos < (size_t)n && q[pos] != 0) pos += 1 + q[pos];
        pos += 5;
        if (pos > (size_t)n) continue;
        memcpy(r, q, pos);
        r[2] = 0x81;
        r[3] = 0x80;
        r[6] = 0, r[7] = 1, r[8] = 0, r[9] = 0, r[10] = 0, r[11] = 0;
        int k = q[12] > 1 ? atoi((const char *)q + 14) : 0;
        const uint8_t rr[] = {
            0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, (uint8_t)(k >> 8), (uint8_t)k};
        memcpy(r + pos, rr, sizeof(rr));
        sendto(upstream_fd, r, pos + sizeof(rr), 0, (struct sockaddr *)&from, fromlen);
    }
    return NULL;
}

static void check_reply(const uint8_t *r, size_t len, uint16_t id, int k) {
    if (len < 12 || r[0] != (uint8_t)(id >> 8) || r[1] != (uint8_t)id)
        fail("reply with a wrong ID");
    if (!(r[2] & 0x80) || (r[3] & 0x0F) != 0) fail("reply is not a NOERROR response");
    if ((r[6] << 8 | r[7]) != 1 || len < 4) fail("reply without its answer");
    if (r[len - 2] != (uint8_t)(k >> 8) || r[len - 1] != (uint8_t)k)
        fail("the answer of another name");
}

static void *udp_client(void *arg) {
    (void)arg;
    int fd = connect_to(SOCK_DGRAM, port, 3);
    uint8_t q[512], r[2048];
    for (int i = 0; i < UDP_QUERIES; i++) {
        int k = i % NAMES;
        size_t qlen = make_query(q, (uint16_t)i, k);
        if (send(fd, q, qlen, 0) != (ssize_t)qlen) fail("UDP send");
        ssize_t n = recv(fd, r, sizeof(r), 0);
        if (n <= 0) fail("a UDP query was lost");
        check_reply(r, (size_t)n, (uint16_t)i, k);
    }
    close(fd);
    return NULL;
}

static void *tcp_client(void *arg) {
    (void)arg;
    int fd = connect_to(SOCK_STREAM, port, 3);
    uint8_t batch[PIPELINE * 600], r[2048];
    for (int round = 0; round < TCP_ROUNDS; round++) {
        size_t len = 0;
        for (int i = 0; i < PIPELINE; i++) {
            uint16_t id = (uint16_t)(round * PIPELINE + i);
            size_t qlen = make_query(batch + len + 2, id, NAMES + id % TCP_NAMES);
            batch[len] = 0;
            batch[len + 1] = (uint8_t)qlen;
            len += 2 + qlen;
        }
        if (send(fd, batch, len, 0) != (ssize_t)len) fail("TCP send");
        /* Forwarded replies may come in any order (RFC 7766 §7). */
        int seen[PIPELINE] = {0};
        for (int i = 0; i < PIPELINE; i++) {
            uint8_t prefix[2];
            read_exactly(fd, prefix, 2);
            size_t rlen = (size_t)(prefix[0] << 8 | prefix[1]);
            if (rlen > sizeof(r) || rlen < 12) fail("TCP reply of a wrong length");
            read_exactly(fd, r, rlen);
            uint16_t id = (uint16_t)(r[0] << 8 | r[1]);
            int at = id - round * PIPELINE;
            if (at < 0 || at >= PIPELINE || seen[at]++) fail("TCP reply to no query of the round");
            check_reply(r, rlen, id, NAMES + id % TCP_NAMES);
        }
    }
    close(fd);
    return NULL;
}

static dp_forwarding *configuration(void) {
    char err[256];
    dp_forwarding *f = dp_forwarding_new(2000, 800);
    static const uint8_t root[] = {0};
    if (f == NULL || dp_forwarding_add_route(f, root, 1, err, sizeof(err)) != 0 ||
        dp_forwarding_add_upstream(f, "127.0.0.1", upstream_port, err, sizeof(err)) != 0)
        fail("cannot make a configuration");
    return f;
}

static dp_cache_entry *entry_for(const dp_query *q, uint8_t address) {
    uint8_t reply[64];
    memcpy(reply, q->wire, q->question_end);
    reply[2] = 0x81;
    reply[3] = 0x80;
    reply[7] = 1;
    reply[11] = 0;
    const uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, address};
    memcpy(reply + q->question_end, rr, sizeof(rr));
    dp_cache_entry *e = dp_cache_entry_make(reply, q->question_end + sizeof(rr), q, 60, 1000, 0, 0);
    if (e == NULL) fail("cannot make an entry");
    return e;
}

static void held_entries_outlive_their_replacement(void) {
    uint8_t wire[512], out[512];
    dp_query q;
    dp_query_parse(wire, make_query(wire, 1, 1), &q);
    dp_cache *cache = dp_cache_new(4, 2);
    dp_cache_quiescent(cache, 1);
    dp_cache_insert(cache, entry_for(&q, 1));
    const dp_cache_entry *held = dp_cache_lookup(cache, &q, 1000, 0);
    dp_cache_insert(cache, entry_for(&q, 2)); /* replaces it while reader 0 holds it */
    dp_cache_insert(cache, entry_for(&q, 3)); /* and tries to reclaim it */
    size_t len = dp_cache_entry_reply(held, &q, 1000, 0, out, sizeof(out), DP_UDP);
    if (len == 0 || out[len - 1] != 1) fail("a held entry changed under its reader");
    dp_cache_quiescent(cache, 0);
    dp_cache_insert(cache, entry_for(&q, 4)); /* now it may go */
    const dp_cache_entry *now = dp_cache_lookup(cache, &q, 1000, 0);
    len = dp_cache_entry_reply(now, &q, 1000, 0, out, sizeof(out), DP_UDP);
    if (len == 0 || out[len - 1] != 4) fail("the newest entry is not the one found");
    dp_cache_free(cache);
}

int main(void) {
    char err[256];
    held_entries_outlive_their_replacement();
    upstream_fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    socklen_t addrlen = sizeof(addr);
    struct timeval tick = {0, 100000};
    setsockopt(upstream_fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick));
    if (bind(upstream_fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        getsockname(upstream_fd, (struct sockaddr *)&addr, &addrlen) != 0)
        fail("cannot bind the upstream");
    upstream_port = ntohs(addr.sin_port);
    pthread_t up;
    pthread_create(&up, NULL, upstream, NULL);

    dp_server_config config = {.address = "127.0.0.1",
                               .threads = 2,
                               .tcp_max_connections = 64,
                               .tcp_idle_timeout_ms = 5000,
                               .forward_max_concurrent = 256,
                               .cache_size = 32,
                               .cache_max_ttl = 3600,
                               .cache_max_negative_ttl = 60};
    dp_table_builder *b = dp_table_builder_new();
    dp_server *s =
        dp_server_new(&config, dp_table_builder_finish(b, err, sizeof(err)), err, sizeof(err));
    if (s == NULL || dp_server_set_forwarding(s, configuration(), err, sizeof(err)) != 0 ||
        dp_server_start(s, err, sizeof(err)) != 0)
        fail(err);
    port = dp_server_port(s);

    pthread_t udp[2], tcp;
    for (int i = 0; i < 2; i++) pthread_create(&udp[i], NULL, udp_client, NULL);
    pthread_create(&tcp, NULL, tcp_client, NULL);
    for (int c = 0; c < CONFIGURATIONS; c++) {
        if (dp_server_set_forwarding(s, configuration(), err, sizeof(err)) != 0) fail(err);
        struct timespec pause = {0, 5000000};
        nanosleep(&pause, NULL);
    }
    for (int i = 0; i < 2; i++) pthread_join(udp[i], NULL);
    pthread_join(tcp, NULL);

    dp_stats stats;
    dp_server_stats(s, &stats);
    uint64_t queries = 2 * UDP_QUERIES + TCP_ROUNDS * PIPELINE;
    uint64_t noerror = 0;
    for (int source = 0; source < DP_REPLY_SOURCES; source++) noerror += stats.rcode[source][0];
    if (stats.udp_queries + stats.tcp_queries != queries || noerror != queries)
        fail("counters do not match the queries sent");
    if (stats.cache_hits + stats.forwarded != queries || stats.cache_hits == 0 ||
        stats.forwarded == 0)
        fail("every query is a cache hit or forwarded, and there are both");
    dp_server_free(s);
    atomic_store(&upstream_stop, true);
    pthread_join(up, NULL);
    close(upstream_fd);
    printf("forward_stress: %llu queries, %llu from the cache, %llu forwarded, during %d "
           "configurations\n",
           (unsigned long long)queries, (unsigned long long)stats.cache_hits,
           (unsigned long long)stats.forwarded, CONFIGURATIONS);
    return 0;
}
