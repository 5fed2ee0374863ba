/*
 * tls_upstream.c — DNS over TLS to an upstream (RFC 7858, CoreDNS's
 * forward to `tls://`): each route's TLS settings as an OpenSSL context
 * (its CA, or the system's; a client certificate; the name the server's
 * certificate must carry, else its address), and each worker's
 * connections, kept open after a reply for the next query to the same
 * upstream: at most DP_TLS_IDLE_MAX idle per upstream, each closed once
 * idle for its route's `expire`, or when the server closes it.
 *
 * A connection carries one query at a time: a reply read whole returns
 * it to the idle pool; a query given up on (timed out) closes it, as its
 * reply may still come.
 */
#include "forward.h"
#include "server.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

/* ---- Settings ------------------------------------------------------- */

int dp_forwarding_set_route_tls(dp_forwarding *f, const char *server_name, const char *ca_file,
                                const char *cert_file, const char *key_file, uint32_t expire_ms,
                                char *err, size_t errlen) {
    if (f->route_count == 0) return dp_fail(err, errlen, "TLS settings before any domain");
    dp_route *r = &f->routes[f->last_route];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL) return dp_fail(err, errlen, "no TLS context: out of memory");
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    int ok = ca_file != NULL ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                             : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        SSL_CTX_free(ctx);
        return dp_fail(err, errlen, "%s: not a CA certificate file",
                       ca_file ? ca_file : "system CAs");
    }
    if (cert_file != NULL && (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
                              SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
                              SSL_CTX_check_private_key(ctx) != 1)) {
        SSL_CTX_free(ctx);
        return dp_fail(err, errlen, "%s, %s: not a certificate and its key", cert_file,
                       key_file ? key_file : "");
    }
    ERR_clear_error();
    if (r->tls_ctx != NULL) SSL_CTX_free(r->tls_ctx);
    r->tls_ctx = ctx;
    snprintf(r->tls_name, sizeof(r->tls_name), "%s", server_name ? server_name : "");
    r->tls_expire_ms = expire_ms;
    return 0;
}

void dp_route_free_tls(dp_route *r) {
    if (r->tls_ctx != NULL) SSL_CTX_free(r->tls_ctx);
    r->tls_ctx = NULL;
}

/* ---- Connections ----------------------------------------------------- */

struct dp_tls_conn {
    dp_worker *w;
    unsigned slot;
    const SSL_CTX *ctx; /* whose settings made it: reused only for the same */
    struct bufferevent *bev;
    dp_pending *owner; /* the query it carries now; NULL: idle */
    uint64_t idle_since_ms;
    uint32_t expire_ms;
    dp_tls_conn *next_idle;
};

static void unlink_idle(dp_tls_conn *c) {
    dp_tls_conn **at = &c->w->tls_idle[c->slot];
    while (*at != NULL && *at != c) at = &(*at)->next_idle;
    if (*at == c) {
        *at = c->next_idle;
        c->w->tls_idle_count[c->slot]--;
    }
    c->next_idle = NULL;
}

void dp_tls_conn_free(dp_tls_conn *c) {
    if (c == NULL) return;
    if (c->owner == NULL) unlink_idle(c);
    bufferevent_free(c->bev);
    free(c);
}

/* Back to the idle pool after a whole reply, or closed when it is full. */
static void park(dp_tls_conn *c, uint64_t now_ms) {
    c->owner = NULL;
    dp_worker *w = c->w;
    if (w->tls_idle_count[c->slot] >= DP_TLS_IDLE_MAX) {
        bufferevent_free(c->bev);
        free(c);
        return;
    }
    c->idle_since_ms = now_ms;
    c->next_idle = w->tls_idle[c->slot];
    w->tls_idle[c->slot] = c;
    w->tls_idle_count[c->slot]++;
}

static void tls_readable(struct bufferevent *bev, void *arg) {
    dp_tls_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);
    uint8_t *wire = c->w->upstream_buf;
    size_t len;
    if (!dp_take_stream_message(in, wire, &len)) return;
    dp_pending *p = c->owner;
    if (p == NULL) {
        /* Nothing was asked: the connection is no longer in step. */
        dp_tls_conn_free(c);
        return;
    }
    dp_forward_detach_tls(p);
    /* More than the reply: the connection is out of step, and closed. */
    if (evbuffer_get_length(in) == 0)
        park(c, dp_monotonic_ms());
    else
        dp_tls_conn_free(c);
    dp_forward_stream_reply(p, wire, len);
}

static void tls_event(struct bufferevent *bev, short what, void *arg) {
    (void)bev;
    dp_tls_conn *c = arg;
    if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))) return;
    dp_pending *p = c->owner;
    /* A certificate that fails the check ends here too. */
    ERR_clear_error();
    if (p == NULL) {
        dp_tls_conn_free(c);
        return;
    }
    dp_forward_detach_tls(p);
    dp_tls_conn_free(c);
    dp_forward_tls_failed(p);
}

/* A new connection to the slot's address, its certificate to be checked
 * against the route's name, else the address. */
static dp_tls_conn *connect_tls(dp_worker *w, const dp_route *route, unsigned slot) {
    const dp_upstream_slot *s = &w->server->slots[slot];
    SSL *ssl = SSL_new(route->tls_ctx);
    if (ssl == NULL) return NULL;
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    bool named = route->tls_name[0] != '\0';
    if (named) {
        SSL_set_tlsext_host_name(ssl, route->tls_name);
        X509_VERIFY_PARAM_set1_host(param, route->tls_name, 0);
    } else {
        char ip[INET6_ADDRSTRLEN] = "";
        const void *addr = s->addr.ss_family == AF_INET
                               ? (const void *)&((const struct sockaddr_in *)&s->addr)->sin_addr
                               : (const void *)&((const struct sockaddr_in6 *)&s->addr)->sin6_addr;
        inet_ntop(s->addr.ss_family, addr, ip, sizeof(ip));
        X509_VERIFY_PARAM_set1_ip_asc(param, ip);
    }
    dp_tls_conn *c = calloc(1, sizeof(*c));
    struct bufferevent *bev =
        c == NULL ? NULL
                  : bufferevent_openssl_socket_new(w->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                   BEV_OPT_CLOSE_ON_FREE);
    if (bev == NULL) {
        SSL_free(ssl);
        free(c);
        return NULL;
    }
    c->w = w;
    c->slot = slot;
    c->ctx = route->tls_ctx;
    c->bev = bev;
    c->expire_ms = route->tls_expire_ms;
    if (bufferevent_socket_connect(bev, (const struct sockaddr *)&s->addr, (int)s->addr_len) != 0) {
        bufferevent_free(bev);
        free(c);
        return NULL;
    }
    dp_count(&w->counters.forward_tls_connections);
    return c;
}

dp_tls_conn *dp_tls_send(dp_worker *w, const dp_route *route, unsigned slot, dp_pending *owner,
                         const uint8_t *query, size_t len) {
    dp_tls_conn *c = w->tls_idle[slot];
    while (c != NULL && c->ctx != route->tls_ctx) c = c->next_idle;
    if (c != NULL) {
        unlink_idle(c);
        dp_count(&w->counters.forward_tls_reused);
    } else {
        c = connect_tls(w, route, slot);
        if (c == NULL) return NULL;
    }
    c->owner = owner;
    bufferevent_setcb(c->bev, tls_readable, NULL, tls_event, c);
    uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
    bufferevent_write(c->bev, prefix, 2);
    bufferevent_write(c->bev, query, len);
    bufferevent_enable(c->bev, EV_READ);
    return c;
}

void dp_tls_expire(dp_worker *w, uint64_t now_ms, bool all) {
    for (unsigned slot = 0; slot < DP_MAX_UPSTREAM_SLOTS; slot++) {
        dp_tls_conn *c = w->tls_idle[slot];
        while (c != NULL) {
            dp_tls_conn *next = c->next_idle;
            if (all || now_ms >= c->idle_since_ms + c->expire_ms) dp_tls_conn_free(c);
            c = next;
        }
    }
}
