/*
 * ceiling.c — the ceiling of the machine for the benchmark: a UDP responder
 * that does no DNS work. It drains its socket in batches of 32 with
 * recvmmsg and sends each datagram back as its reply with sendmmsg (QR set,
 * so the load generator counts it). Its queries/s and CPU per query are
 * what the kernel's UDP path alone costs here.
 *
 * usage: ceiling PORT
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define BATCH 32

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: ceiling PORT\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    int size = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        perror("bind");
        return 1;
    }
    static unsigned char buf[BATCH][512];
    struct sockaddr_storage peers[BATCH];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    for (;;) {
        memset(msgs, 0, sizeof(msgs));
        for (int i = 0; i < BATCH; i++) {
            iov[i].iov_base = buf[i];
            iov[i].iov_len = sizeof(buf[i]);
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &peers[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
        }
        int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
        if (n <= 0) continue;
        for (int i = 0; i < n; i++) {
            buf[i][2] |= 0x80;
            iov[i].iov_len = msgs[i].msg_len;
        }
        sendmmsg(fd, msgs, (unsigned)n, 0);
    }
}
