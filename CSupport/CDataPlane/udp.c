/*
 * udp.c — one SO_REUSEPORT UDP socket per worker and address, drained in batches:
 * recvmmsg up to DP_UDP_BATCH queries, answer each into its own buffer,
 * sendmmsg the replies.
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Batches per readable event before the loop gets a turn for TCP. */
#define DP_UDP_ROUNDS 8

/* Socket buffers: a reply stays charged to our send buffer until the
 * client reads it, so a small buffer drops replies to busy clients. */
#define DP_UDP_SOCKET_BUFFER (4 << 20)

/* The larger buffer when we may (CAP_NET_ADMIN), else what the system allows. */
static void enlarge_buffers(int fd) {
    int size = DP_UDP_SOCKET_BUFFER;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static bool is_wildcard(const struct sockaddr *addr) {
    if (addr->sa_family == AF_INET)
        return ((const struct sockaddr_in *)addr)->sin_addr.s_addr == htonl(INADDR_ANY);
    return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)addr)->sin6_addr);
}

/* Asks for the destination address of each datagram. An IPv6 wildcard
 * socket also receives IPv4 (as mapped addresses), hence both options. */
static int enable_pktinfo(int fd, int family) {
    int on = 1;
    if (family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on)) != 0)
        return -1;
    return setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
}

int dp_udp_open(dp_worker *w, unsigned at, const struct sockaddr *addr, socklen_t len, char *err,
                size_t errlen) {
    int fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int on = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 ||
        bind(fd, addr, len) != 0) {
        int saved = errno; /* the caller tells EADDRINUSE apart */
        dp_fail(err, errlen, "cannot bind UDP socket: %s", strerror(saved));
        if (fd >= 0) close(fd);
        errno = saved;
        return -1;
    }
    enlarge_buffers(fd);
    dp_udp_socket *sock = &w->udp[at];
    sock->w = w;
    sock->fd = fd;
    sock->pktinfo = is_wildcard(addr);
    if (sock->pktinfo && enable_pktinfo(fd, addr->sa_family) != 0) {
        dp_fail(err, errlen, "cannot enable IP_PKTINFO: %s", strerror(errno));
        return -1;
    }
    if (w->rx_buf != NULL) return 0;
    w->rx_buf = malloc((size_t)DP_UDP_BATCH * DP_UDP_RX_SIZE);
    w->tx_buf = malloc((size_t)DP_UDP_BATCH * DP_EDNS_UDP_SIZE);
    if (w->rx_buf == NULL || w->tx_buf == NULL) {
        dp_fail(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < DP_UDP_BATCH; i++) {
        w->rx_iov[i].iov_base = w->rx_buf + (size_t)i * DP_UDP_RX_SIZE;
        w->rx_iov[i].iov_len = DP_UDP_RX_SIZE;
        w->tx_iov[i].iov_base = w->tx_buf + (size_t)i * DP_EDNS_UDP_SIZE;
    }
    return 0;
}

/* Sends replies [0, count), going on after a partial sendmmsg. A full
 * socket buffer drops the rest of the batch (the clients retry); any
 * other error skips the one reply it was about. */
static void send_replies(dp_worker *w, int fd, int count) {
    int sent = 0;
    while (sent < count) {
        int n = sendmmsg(fd, w->tx + sent, (unsigned)(count - sent), 0);
        if (n >= 0) {
            sent += n;
        } else if (errno == EAGAIN || errno == ENOBUFS) {
            dp_count_n(&w->counters.send_failed, (uint64_t)(count - sent));
            return;
        } else if (errno != EINTR) {
            dp_count(&w->counters.send_failed);
            sent++;
        }
    }
}

/* The control message of a reply: the query's destination address as
 * its source (RFC 1122 §4.1.3.5: reply from the address asked). */
static void set_reply_source(const struct msghdr *rx, struct msghdr *tx, uint8_t *control) {
    tx->msg_control = NULL;
    tx->msg_controllen = 0;
    struct msghdr *in = (struct msghdr *)rx;
    if (in->msg_control == NULL) return;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
        struct cmsghdr *reply = (struct cmsghdr *)control;
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            struct in_pktinfo info;
            memcpy(&info, CMSG_DATA(c), sizeof(info));
            info.ipi_spec_dst = info.ipi_addr;
            info.ipi_ifindex = 0;
            reply->cmsg_level = IPPROTO_IP;
            reply->cmsg_type = IP_PKTINFO;
            reply->cmsg_len = CMSG_LEN(sizeof(info));
            memcpy(CMSG_DATA(reply), &info, sizeof(info));
            tx->msg_controllen = CMSG_SPACE(sizeof(info));
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            reply->cmsg_level = IPPROTO_IPV6;
            reply->cmsg_type = IPV6_PKTINFO;
            reply->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
            memcpy(CMSG_DATA(reply), CMSG_DATA(c), sizeof(struct in6_pktinfo));
            tx->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
        } else {
            continue;
        }
        tx->msg_control = reply;
        return;
    }
}

/* A UDP client as a forwarded query's reply needs it: the peer, and the
 * control messages that say which of our addresses the query came to. */
typedef struct udp_return {
    struct sockaddr_storage peer;
    socklen_t peer_len;
    uint16_t control_len;
    uint8_t socket; /* the worker's UDP socket it came to */
    _Alignas(struct cmsghdr) uint8_t control[DP_UDP_CONTROL_SIZE];
} udp_return;
_Static_assert(sizeof(udp_return) <= DP_REPLY_CONTEXT_SIZE, "a UDP return fits a reply context");

/* The query as the batch holds it, while dp_forward runs. */
typedef struct udp_source {
    const struct sockaddr_storage *peer;
    socklen_t peer_len;
    const struct msghdr *received; /* NULL without pktinfo */
    uint8_t socket;
} udp_source;

static void keep_return(const void *query_source, dp_reply_context *kept) {
    const udp_source *source = query_source;
    udp_return *r = (udp_return *)kept->bytes;
    memcpy(&r->peer, source->peer, source->peer_len);
    r->peer_len = source->peer_len;
    r->socket = source->socket;
    r->control_len = 0;
    if (source->received != NULL && source->received->msg_controllen <= sizeof(r->control)) {
        memcpy(r->control, source->received->msg_control, source->received->msg_controllen);
        r->control_len = (uint16_t)source->received->msg_controllen;
    }
}

/* Sends a forwarded query's reply from the worker's UDP socket it came
 * to, from the address it came to. */
static void send_kept(dp_worker *w, dp_reply_context *kept, const uint8_t *reply, size_t len) {
    if (reply == NULL) return;
    udp_return *r = (udp_return *)kept->bytes;
    struct msghdr received = {.msg_control = r->control, .msg_controllen = r->control_len};
    struct iovec iov = {.iov_base = (void *)reply, .iov_len = len};
    _Alignas(struct cmsghdr) uint8_t control[DP_UDP_CONTROL_SIZE];
    struct msghdr h = {
        .msg_name = &r->peer, .msg_namelen = r->peer_len, .msg_iov = &iov, .msg_iovlen = 1};
    const dp_udp_socket *sock = &w->udp[r->socket];
    if (sock->pktinfo) set_reply_source(&received, &h, control);
    if (sendmsg(sock->fd, &h, 0) < 0) dp_count(&w->counters.send_failed);
}

static void udp_readable(evutil_socket_t fd, short what, void *arg) {
    (void)what;
    const dp_udp_socket *sock = arg;
    dp_worker *w = sock->w;
    for (int round = 0; round < DP_UDP_ROUNDS; round++) {
        for (int i = 0; i < DP_UDP_BATCH; i++) {
            w->rx[i].msg_hdr.msg_name = &w->peers[i];
            w->rx[i].msg_hdr.msg_namelen = sizeof(w->peers[i]);
            if (sock->pktinfo) {
                w->rx[i].msg_hdr.msg_control = w->rx_control[i];
                w->rx[i].msg_hdr.msg_controllen = DP_UDP_CONTROL_SIZE;
            }
        }
        int n = recvmmsg(fd, w->rx, DP_UDP_BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0) return;
        uint64_t received_us = dp_monotonic_us();
        uint64_t received_s = received_us / 1000000;

        const dp_table *t = dp_worker_acquire(w);
        /* In passes over the batch (see dp_parsed), so cache misses overlap. */
        for (int i = 0; i < n; i++) {
            dp_query_prepare(t, w->rx_iov[i].iov_base, w->rx[i].msg_len, &w->parsed[i]);
            /* Cut short by our buffer: no query is that long. */
            if ((w->rx[i].msg_hdr.msg_flags & MSG_TRUNC) && w->parsed[i].result == DP_PARSE_OK)
                w->parsed[i].result = DP_PARSE_FORMERR;
        }
        dp_worker_run_stages(w, t, (unsigned)n, w->peers);
        for (int i = 0; i < n; i++) dp_query_probe(t, &w->parsed[i]);
        for (int i = 0; i < n; i++) dp_query_locate(t, &w->parsed[i]);
        int replies = 0;
        for (int i = 0; i < n; i++) {
            uint8_t *reply = w->tx_iov[replies].iov_base;
            dp_count(&w->counters.udp_queries);
            dp_count_request(w, DP_UDP, &w->peers[i], w->rx[i].msg_len, &w->parsed[i]);
            size_t len = dp_worker_reply(w, t, &w->parsed[i], reply, DP_EDNS_UDP_SIZE, DP_UDP);
            if (w->parsed[i].outside || w->parsed[i].chase) {
                udp_source source = {.peer = &w->peers[i],
                                     .peer_len = w->rx[i].msg_hdr.msg_namelen,
                                     .received = sock->pktinfo ? &w->rx[i].msg_hdr : NULL,
                                     .socket = (uint8_t)(sock - w->udp)};
                dp_client client = {.transport = DP_UDP,
                                    .peer = &w->peers[i],
                                    .reply_cap = DP_EDNS_UDP_SIZE,
                                    .query_source = &source,
                                    .keep = keep_return,
                                    .reply = send_kept};
                len = dp_forward(w, &w->parsed[i], &client, reply, DP_EDNS_UDP_SIZE, len,
                                 received_us);
                if (len == 0) continue; /* the reply comes later */
            }
            len = dp_worker_unrewrite(&w->parsed[i], reply, len, DP_EDNS_UDP_SIZE, DP_UDP);
            if (w->server->rrl != NULL && len > 0) {
                len = dp_rrl_apply(w, &w->peers[i], &w->parsed[i], reply, len, DP_EDNS_UDP_SIZE,
                                   received_s);
                if (len == 0) continue;
            }
            if (!dp_count_reply(w, DP_UDP, w->parsed[i].source, reply, len)) continue;
            if (w->parsed[i].result == DP_PARSE_OK)
                dp_query_log(w, dp_parsed_asked(&w->parsed[i]), &w->peers[i], DP_UDP, reply, len,
                             received_us, w->parsed[i].source);
            struct msghdr *h = &w->tx[replies].msg_hdr;
            h->msg_name = &w->peers[i];
            h->msg_namelen = w->rx[i].msg_hdr.msg_namelen;
            if (sock->pktinfo) set_reply_source(&w->rx[i].msg_hdr, h, w->tx_control[replies]);
            w->tx_iov[replies].iov_len = len;
            replies++;
        }
        dp_worker_release(w);
        dp_count_durations(w, (uint64_t)replies, received_us, dp_monotonic_us());
        send_replies(w, fd, replies);
        dp_cache_quiescent(w->server->cache, w->index);
        if (n < DP_UDP_BATCH) return;
    }
}

int dp_udp_attach(dp_worker *w) {
    for (int i = 0; i < DP_UDP_BATCH; i++) {
        memset(&w->rx[i], 0, sizeof(w->rx[i]));
        w->rx[i].msg_hdr.msg_iov = &w->rx_iov[i];
        w->rx[i].msg_hdr.msg_iovlen = 1;
        memset(&w->tx[i], 0, sizeof(w->tx[i]));
        w->tx[i].msg_hdr.msg_iov = &w->tx_iov[i];
        w->tx[i].msg_hdr.msg_iovlen = 1;
    }
    for (unsigned at = 0; at < w->listen_count; at++) {
        dp_udp_socket *sock = &w->udp[at];
        sock->event = event_new(w->base, sock->fd, EV_READ | EV_PERSIST, udp_readable, sock);
        if (sock->event == NULL || event_add(sock->event, NULL) != 0) return -1;
    }
    return 0;
}

void dp_udp_close(dp_worker *w) {
    for (unsigned at = 0; at < w->listen_count; at++) {
        dp_udp_socket *sock = &w->udp[at];
        if (sock->event != NULL) event_free(sock->event);
        sock->event = NULL;
        if (sock->fd >= 0) close(sock->fd);
        sock->fd = -1;
    }
    free(w->rx_buf);
    free(w->tx_buf);
    w->rx_buf = NULL;
    w->tx_buf = NULL;
}
