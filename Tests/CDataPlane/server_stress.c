/*
 * server_stress.c — the server's threads under a sanitizer: two workers
 * answer UDP queries and pipelined TCP queries while the main thread
 * publishes 200 tables one after another. Every reply must come from a
 * table that was published (the last byte of its addresses is the table's
 * number, never older than one seen before); none may be lost; the server
 * then stops cleanly. Built with ThreadSanitizer and with AddressSanitizer
 * by run.sh; start-and-stop at once is tried too (a stop before the loops
 * run must not be lost).
 */
#define STRESS_NAME "server_stress"
#include "fixture_table.h"
#include "stress_support.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define PUBLICATIONS 200
#define UDP_QUERIES 20000
#define TCP_ROUNDS 300
#define PIPELINE 10

static uint16_t port;
static atomic_int published; /* number of the newest table published */

/* A query for web.ns.svc.cluster.local A with EDNS (its 40 records need more than 512 bytes). */
static size_t make_query(uint8_t *q, uint16_t id) {
    static const uint8_t body[] = {
        0x01, 0x00, 0,   1,   0, 0,   0,   0,   0,   1,    3,    'w', 'e', 'b', 2,   'n', 's',
        3,    's',  'v', 'c', 7, 'c', 'l', 'u', 's', 't',  'e',  'r', 5,   'l', 'o', 'c', 'a',
        'l',  0,    0,   1,   0, 1,   0,   0,   41,  0x04, 0xD0, 0,   0,   0,   0,   0,   0};
    q[0] = (uint8_t)(id >> 8);
    q[1] = (uint8_t)id;
    memcpy(q + 2, body, sizeof(body));
    return 2 + sizeof(body);
}

/* Checks a reply; returns the table number its addresses carry. */
static int check_reply(const uint8_t *r, size_t len, uint16_t id) {
    if (len < 12 || r[0] != (uint8_t)(id >> 8) || r[1] != (uint8_t)id)
        fail("reply with a wrong ID");
    if (!(r[2] & 0x80) || (r[3] & 0x0F) != 0) fail("reply is not a NOERROR response");
    if ((r[6] << 8 | r[7]) != 40) fail("reply without its 40 answers");
    /* header 12, question 26 + 4; the first answer RR is 16 bytes, its address last */
    return r[12 + 26 + 4 + 15];
}

static void *udp_client(void *arg) {
    (void)arg;
    int fd = connect_to(SOCK_DGRAM, port, 2);
    uint8_t q[512], r[2048];
    int newest = 0;
    for (int i = 0; i < UDP_QUERIES; i++) {
        size_t qlen = make_query(q, (uint16_t)i);
        if (send(fd, q, qlen, 0) != (ssize_t)qlen) fail("UDP send");
        ssize_t n = recv(fd, r, sizeof(r), 0);
        if (n <= 0) fail("a UDP query was lost");
        int table = check_reply(r, (size_t)n, (uint16_t)i);
        if (table < newest || table > atomic_load(&published))
            fail("UDP reply from a table out of order");
        newest = table;
    }
    close(fd);
    return NULL;
}

static void *tcp_client(void *arg) {
    (void)arg;
    int fd = connect_to(SOCK_STREAM, port, 2);
    uint8_t batch[PIPELINE * 600], r[2048];
    int newest = 0;
    for (int round = 0; round < TCP_ROUNDS; round++) {
        size_t len = 0;
        for (int i = 0; i < PIPELINE; i++) {
            size_t qlen = make_query(batch + len + 2, (uint16_t)(round * PIPELINE + i));
            batch[len] = 0;
            batch[len + 1] = (uint8_t)qlen;
            len += 2 + qlen;
        }
        if (send(fd, batch, len, 0) != (ssize_t)len) fail("TCP send");
        for (int i = 0; i < PIPELINE; i++) {
            uint8_t prefix[2];
            read_exactly(fd, prefix, 2);
            size_t rlen = (size_t)(prefix[0] << 8 | prefix[1]);
            if (rlen > sizeof(r)) fail("TCP reply too long");
            read_exactly(fd, r, rlen);
            int table = check_reply(r, rlen, (uint16_t)(round * PIPELINE + i));
            if (table < newest || table > atomic_load(&published))
                fail("TCP reply from a table out of order");
            newest = table;
        }
    }
    close(fd);
    return NULL;
}

static dp_server *start_server(void) {
    char err[256];
    dp_server_config config = {"127.0.0.1", 0, 2, 64, 5000};
    dp_server *s = dp_server_new(&config, fixture_table(0), err, sizeof(err));
    if (s == NULL || dp_server_start(s, err, sizeof(err)) != 0) fail(err);
    return s;
}

int main(void) {
    /* Started and stopped at once, again and again. */
    for (int i = 0; i < 20; i++) dp_server_free(start_server());

    dp_server *s = start_server();
    port = dp_server_port(s);
    /* The query log on, read while the workers write it (and turned off
     * and on again), as the control plane reads it. */
    dp_server_set_query_log(s, true);
    static dp_query_log_entry lines[512];
    size_t logged = 0;
    pthread_t udp, tcp;
    pthread_create(&udp, NULL, udp_client, NULL);
    pthread_create(&tcp, NULL, tcp_client, NULL);
    for (int g = 1; g <= PUBLICATIONS; g++) {
        atomic_store(&published, g);
        /* Whole tables and deltas in turn: shards shared, then reclaimed. */
        dp_table *next =
            g % 2 ? fixture_table((uint8_t)g) : fixture_delta(dp_server_table(s), (uint8_t)g);
        dp_server_publish(s, next);
        logged += dp_server_read_query_log(s, lines, 512);
        if (g == PUBLICATIONS / 2) dp_server_set_query_log(s, false);
        if (g == PUBLICATIONS / 2 + 10) dp_server_set_query_log(s, true);
        struct timespec pause = {0, 2000000};
        nanosleep(&pause, NULL);
    }
    pthread_join(udp, NULL);
    pthread_join(tcp, NULL);
    for (size_t n; (n = dp_server_read_query_log(s, lines, 512)) > 0;) logged += n;

    dp_stats stats;
    dp_server_stats(s, &stats);
    if (stats.udp_queries != UDP_QUERIES || stats.tcp_queries != TCP_ROUNDS * PIPELINE)
        fail("counters do not match the queries sent");
    if (logged == 0 || lines[0].name_len == 0) fail("the query log holds nothing");
    dp_server_free(s);
    printf("server_stress: %d UDP and %d TCP queries answered during %d publications\n",
           UDP_QUERIES, TCP_ROUNDS * PIPELINE, PUBLICATIONS);
    return 0;
}
