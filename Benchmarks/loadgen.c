/*
 * loadgen.c — a light UDP DNS load generator: a fixed window of queries in
 * flight, sent and received in batches (sendmmsg/recvmmsg), so it can push
 * past what dnsperf reaches on one core. Each query slot's ID is its index;
 * a reply frees its slot and the next query goes out.
 *
 * usage: loadgen SERVER PORT QUERY_FILE SECONDS [WINDOW [RATE]]
 * RATE: queries per second, sent on a schedule (an open loop): a query's
 * latency counts from when it was due, so a stalled server is charged for
 * the queries it delayed too. Without it, as fast as replies free slots.
 * prints: sent=N received=N lost=N seconds=S qps=Q mean_latency_us=L
 *         p50_latency_us=P p99_latency_us=P (from a histogram of 1 us buckets
 *         up to 100 ms)
 * (lost: sent and not answered within a second)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define MAX_QUERY 300
#define TIMEOUT_NS 1000000000ull
#define HISTOGRAM_US 100000

static uint64_t histogram[HISTOGRAM_US + 1]; /* replies by latency in microseconds */

/* The latency below which `share` of the replies came, in microseconds. */
static uint64_t percentile(uint64_t received, double share) {
    uint64_t want = (uint64_t)(received * share), seen = 0;
    for (uint64_t us = 0; us <= HISTOGRAM_US; us++)
        if ((seen += histogram[us]) >= want && want > 0) return us;
    return HISTOGRAM_US;
}

typedef struct {
    uint8_t wire[MAX_QUERY];
    uint16_t len;
} query;

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int type_code(const char *t) {
    if (!strcasecmp(t, "A")) return 1;
    if (!strcasecmp(t, "AAAA")) return 28;
    if (!strcasecmp(t, "SRV")) return 33;
    if (!strcasecmp(t, "PTR")) return 12;
    if (!strcasecmp(t, "TXT")) return 16;
    return atoi(t);
}

static size_t load(const char *path, query **out) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 1024, n = 0;
    query *qs = malloc(cap * sizeof(query));
    char name[512], type[32];
    while (fscanf(f, "%511s %31s", name, type) == 2) {
        if (n == cap) qs = realloc(qs, (cap *= 2) * sizeof(query));
        uint8_t *w = qs[n].wire;
        memset(w, 0, 12);
        w[2] = 0x01; /* RD, as stub resolvers send */
        w[5] = 1;
        size_t pos = 12;
        for (char *label = strtok(name, "."); label; label = strtok(NULL, ".")) {
            size_t len = strlen(label);
            w[pos++] = (uint8_t)len;
            memcpy(w + pos, label, len);
            pos += len;
        }
        w[pos++] = 0;
        int t = type_code(type);
        w[pos++] = (uint8_t)(t >> 8);
        w[pos++] = (uint8_t)t;
        w[pos++] = 0;
        w[pos++] = 1;
        qs[n++].len = (uint16_t)pos;
    }
    fclose(f);
    *out = qs;
    return n;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: loadgen SERVER PORT QUERY_FILE SECONDS [WINDOW [RATE]]\n");
        return 2;
    }
    query *queries;
    size_t count = load(argv[3], &queries);
    if (count == 0) {
        fprintf(stderr, "no queries\n");
        return 1;
    }
    double seconds = atof(argv[4]);
    unsigned window = argc > 5 ? (unsigned)atoi(argv[5]) : 200;
    if (window < 1 || window > 65535) window = 200;
    double rate = argc > 6 ? atof(argv[6]) : 0;

    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    int size = 8 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    inet_pton(AF_INET, argv[1], &addr.sin_addr);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        perror("connect");
        return 1;
    }

    uint64_t *sent_at = calloc(window, sizeof(uint64_t)); /* 0: free */
    unsigned *free_slots = malloc(window * sizeof(unsigned));
    unsigned free_count = window;
    for (unsigned i = 0; i < window; i++) free_slots[i] = window - 1 - i;

    static uint8_t tx[BATCH][MAX_QUERY], rx[BATCH][4096];
    struct mmsghdr tmsg[BATCH], rmsg[BATCH];
    struct iovec tiov[BATCH], riov[BATCH];
    memset(tmsg, 0, sizeof(tmsg));
    memset(rmsg, 0, sizeof(rmsg));
    for (int i = 0; i < BATCH; i++) {
        tiov[i].iov_base = tx[i];
        tmsg[i].msg_hdr.msg_iov = &tiov[i];
        tmsg[i].msg_hdr.msg_iovlen = 1;
        riov[i].iov_base = rx[i];
        riov[i].iov_len = sizeof(rx[i]);
        rmsg[i].msg_hdr.msg_iov = &riov[i];
        rmsg[i].msg_hdr.msg_iovlen = 1;
    }

    uint64_t sent = 0, received = 0, latency_total = 0, next = 0;
    uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9), last_sweep = start;
    for (;;) {
        uint64_t now = now_ns();
        bool sending = now < end;
        if (!sending && free_count == window) break;
        if (!sending && now > end + TIMEOUT_NS) break;
        int n = 0;
        while (sending && free_count > 0 && n < BATCH) {
            uint64_t due = rate > 0 ? start + (uint64_t)((double)next * 1e9 / rate) : now;
            if (due > now) break;
            unsigned slot = free_slots[--free_count];
            const query *q = &queries[next++ % count];
            memcpy(tx[n], q->wire, q->len);
            tx[n][0] = (uint8_t)(slot >> 8);
            tx[n][1] = (uint8_t)slot;
            tiov[n].iov_len = q->len;
            sent_at[slot] = due;
            n++;
        }
        if (n > 0) {
            int done = sendmmsg(fd, tmsg, (unsigned)n, 0);
            if (done < 0) done = 0;
            sent += (uint64_t)done;
            for (int i = done; i < n; i++) { /* not sent: free the slot again */
                unsigned slot = (unsigned)tx[i][0] << 8 | tx[i][1];
                sent_at[slot] = 0;
                free_slots[free_count++] = slot;
            }
            next -= (uint64_t)(n - done); /* and send those queries again */
        }
        int got = recvmmsg(fd, rmsg, BATCH, MSG_DONTWAIT, NULL);
        if (got > 0) {
            now = now_ns();
            for (int i = 0; i < got; i++) {
                if (rmsg[i].msg_len < 12) continue;
                unsigned slot = (unsigned)rx[i][0] << 8 | rx[i][1];
                if (slot >= window || sent_at[slot] == 0) continue;
                latency_total += now - sent_at[slot];
                uint64_t us = (now - sent_at[slot]) / 1000;
                histogram[us < HISTOGRAM_US ? us : HISTOGRAM_US]++;
                sent_at[slot] = 0;
                free_slots[free_count++] = slot;
                received++;
            }
        } else if (free_count == 0 || !sending) {
            struct pollfd p = {.fd = fd, .events = POLLIN};
            poll(&p, 1, 1);
        }
        if (now - last_sweep > 100000000ull) { /* every 100 ms: give up on old queries */
            last_sweep = now;
            for (unsigned s = 0; s < window; s++) {
                if (sent_at[s] != 0 && now - sent_at[s] > TIMEOUT_NS) {
                    sent_at[s] = 0;
                    free_slots[free_count++] = s;
                }
            }
        }
    }
    double elapsed = (double)(end - start) / 1e9;
    printf("sent=%llu received=%llu lost=%llu seconds=%.2f qps=%.0f mean_latency_us=%.1f "
           "p50_latency_us=%llu p99_latency_us=%llu\n",
           (unsigned long long)sent, (unsigned long long)received,
           (unsigned long long)(sent - received), elapsed, received / elapsed,
           received ? latency_total / 1e3 / received : 0.0,
           (unsigned long long)percentile(received, 0.5),
           (unsigned long long)percentile(received, 0.99));
    return 0;
}
