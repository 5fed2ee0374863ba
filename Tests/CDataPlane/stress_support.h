/*
 * stress_support.h — what the stress harnesses share: failing loudly, and
 * talking to a server on loopback. Define STRESS_NAME before including.
 */
#ifndef KUBEDNS_STRESS_SUPPORT_H
#define KUBEDNS_STRESS_SUPPORT_H

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>

static void fail(const char *what) {
    fprintf(stderr, STRESS_NAME ": %s\n", what);
    abort();
}

/* A socket of `type` connected to 127.0.0.1:port, reads timing out. */
static int connect_to(int type, uint16_t port, int timeout_seconds) {
    int fd = socket(AF_INET, type, 0);
    struct timeval timeout = {timeout_seconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) fail("cannot connect");
    return fd;
}

static void read_exactly(int fd, uint8_t *buf, size_t len) {
    size_t have = 0;
    while (have < len) {
        ssize_t n = recv(fd, buf + have, len - have, 0);
        if (n <= 0) fail("a TCP reply was lost");
        have += (size_t)n;
    }
}

#endif
