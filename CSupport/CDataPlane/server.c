/*
 * server.c — worker threads, their event loops, and table publication.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/thread.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t libevent_threads_once = PTHREAD_ONCE_INIT;

/* Lets the control thread break a worker's loop (it needs the notify fd). */
static void enable_libevent_threads(void) { evthread_use_pthreads(); }

/* Each forwarded query in flight holds a socket: allow as many as the
 * hard limit does. */
static void raise_file_limit(void) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

static uint16_t port_of(const struct sockaddr_storage *ss) {
    return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
                                          : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* Port 0: a port the kernel gives a socket without SO_REUSEPORT, so one
 * nobody holds (a socket with the option could be given a port another
 * such socket of the same user holds, and share it). */
static int choose_port(struct sockaddr_storage *ss, socklen_t sslen) {
    int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_storage bound;
    socklen_t len = sizeof(bound);
    int ok = fd >= 0 && bind(fd, (struct sockaddr *)ss, sslen) == 0 &&
             getsockname(fd, (struct sockaddr *)&bound, &len) == 0;
    if (fd >= 0) close(fd);
    if (!ok) return -1;
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = ((struct sockaddr_in *)&bound)->sin_port;
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = ((struct sockaddr_in6 *)&bound)->sin6_port;
    return 0;
}

/* Whether another process holds the port: workers share it through
 * SO_REUSEPORT, which would just as quietly share it with a second server
 * of the same user. A socket without the option cannot bind a port in use. */
static int port_taken(const struct sockaddr_storage *ss, socklen_t sslen, int type) {
    int fd = socket(ss->ss_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    /* TCP: connections of an earlier run in TIME_WAIT do not hold the port. */
    int on = 1;
    if (type == SOCK_STREAM) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    int taken = bind(fd, (const struct sockaddr *)ss, sslen) != 0 && errno == EADDRINUSE;
    close(fd);
    return taken;
}

typedef struct dp_listen_address {
    struct sockaddr_storage ss;
    socklen_t len;
} dp_listen_address;

/* The addresses to serve, each with the port: `text` holds one, or
 * several separated by commas. Returns how many, or 0 (err set). */
static unsigned parse_addresses(const char *text, uint16_t port, dp_listen_address *out, char *err,
                                size_t errlen) {
    unsigned count = 0;
    for (const char *at = text;; at++) {
        size_t len = strcspn(at, ",");
        char one[INET6_ADDRSTRLEN];
        if (count == DP_MAX_LISTEN) {
            dp_fail(err, errlen, "more than %d addresses to serve", DP_MAX_LISTEN);
            return 0;
        }
        if (len >= sizeof(one)) len = sizeof(one) - 1;
        memcpy(one, at, len);
        one[len] = 0;
        if (dp_parse_address(one, port, &out[count].ss, &out[count].len) != 0) {
            dp_fail(err, errlen, "%s is not an IPv4 or IPv6 address", one);
            return 0;
        }
        count++;
        at += strcspn(at, ",");
        if (*at == 0) return count;
    }
}

static void set_port(dp_listen_address *a, uint16_t port) {
    if (a->ss.ss_family == AF_INET)
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
    else
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
}

/* Every worker's UDP and TCP socket on each address, on one port; on
 * failure none stays open and errno tells why. */
static int open_sockets(dp_server *s, dp_listen_address *addresses, unsigned count, char *err,
                        size_t errlen) {
    for (unsigned k = 0; k < count; k++) {
        struct sockaddr_storage *ss = &addresses[k].ss;
        if (port_taken(ss, addresses[k].len, SOCK_DGRAM) ||
            port_taken(ss, addresses[k].len, SOCK_STREAM)) {
            errno = EADDRINUSE;
            return dp_fail(err, errlen, "port %u is in use by another process", port_of(ss));
        }
    }
    for (unsigned i = 0; i < s->worker_count; i++) {
        dp_worker *w = &s->workers[i];
        for (unsigned k = 0; k < count; k++) {
            struct sockaddr *addr = (struct sockaddr *)&addresses[k].ss;
            if (dp_udp_open(w, k, addr, addresses[k].len, err, errlen) != 0) goto failed;
            if (dp_tcp_open(w, k, addr, addresses[k].len, err, errlen) != 0) goto failed;
        }
    }
    return 0;
failed:;
    int saved = errno;
    for (unsigned i = 0; i < s->worker_count; i++) {
        dp_udp_close(&s->workers[i]);
        dp_tcp_close(&s->workers[i]);
    }
    errno = saved;
    return -1;
}

dp_server *dp_server_new(const dp_server_config *config, dp_table *initial, char *err,
                         size_t errlen) {
    pthread_once(&libevent_threads_once, enable_libevent_threads);
    dp_listen_address addresses[DP_MAX_LISTEN];
    if (config->threads == 0) {
        dp_table_free(initial);
        dp_fail(err, errlen, "threads must be at least 1");
        return NULL;
    }
    if (initial->fresh != NULL) {
        dp_table_free(initial);
        dp_fail(err, errlen, "the first table is a delta: it can only replace its base");
        return NULL;
    }
    unsigned count = parse_addresses(config->address, config->port, addresses, err, errlen);
    if (count == 0) {
        dp_table_free(initial);
        return NULL;
    }
    dp_server *s = calloc(1, sizeof(*s));
    dp_worker *workers = calloc(config->threads, sizeof(dp_worker));
    if (s == NULL || workers == NULL) {
        free(s);
        free(workers);
        dp_table_free(initial);
        dp_fail(err, errlen, "out of memory");
        return NULL;
    }
    s->config = *config;
    s->config.address = NULL;
    if (s->config.over_cap_rcode == 0) s->config.over_cap_rcode = DP_RCODE_SERVFAIL;
    s->workers = workers;
    s->worker_count = config->threads;
    atomic_store(&s->table, initial);
    s->cache = dp_cache_new(config->cache_size, config->threads);
    s->rrl = dp_rrl_new(config);
    if (s->cache == NULL || (config->rrl_responses_per_second > 0 && s->rrl == NULL)) {
        dp_cache_free(s->cache);
        free(s);
        free(workers);
        dp_table_free(initial);
        dp_fail(err, errlen, "out of memory");
        return NULL;
    }
    raise_file_limit();

    unsigned cap = config->tcp_max_connections / config->threads;
    for (unsigned i = 0; i < config->threads; i++) {
        dp_worker *w = &workers[i];
        w->server = s;
        w->index = i;
        w->listen_count = count;
        for (unsigned k = 0; k < count; k++) w->udp[k].fd = w->tcp_fd[k] = -1;
        w->tcp_cap = cap > 0 ? cap : 1;
        pthread_mutex_init(&w->mailbox_lock, NULL);
    }
    /* A port the kernel chose may be taken for TCP, or meanwhile: choose again. */
    for (int attempts = config->port == 0 ? 16 : 1;; attempts--) {
        if (config->port == 0) {
            if (choose_port(&addresses[0].ss, addresses[0].len) != 0) {
                dp_fail(err, errlen, "cannot choose a port: %s", strerror(errno));
                dp_server_free(s);
                return NULL;
            }
            for (unsigned k = 1; k < count; k++) set_port(&addresses[k], port_of(&addresses[0].ss));
        }
        if (open_sockets(s, addresses, count, err, errlen) == 0) break;
        if (attempts == 1 || errno != EADDRINUSE) {
            dp_server_free(s);
            return NULL;
        }
        for (unsigned k = 0; k < count; k++) set_port(&addresses[k], 0);
    }
    s->config.port = port_of(&addresses[0].ss);
    return s;
}

uint16_t dp_server_port(const dp_server *s) { return s->config.port; }

/* How long a stopping worker waits for the replies of its TCP
 * connections to be written (RFC 7766 §6.2.3: in-flight queries finish). */
#define DP_TCP_DRAIN_MS 1000

static void drain_limit_reached(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    event_base_loopbreak(((dp_worker *)arg)->base);
}

/* Runs in the worker: a break requested from inside the loop cannot be
 * lost, unlike one requested before the loop has started. UDP has nothing
 * in flight; TCP connections are drained first. */
static void stop_requested(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    dp_worker *w = arg;
    for (unsigned k = 0; k < w->listen_count; k++)
        if (w->udp[k].event != NULL) event_del(w->udp[k].event);
    if (dp_tcp_drain(w) == 0) {
        event_base_loopbreak(w->base);
        return;
    }
    struct timeval limit = {DP_TCP_DRAIN_MS / 1000, (DP_TCP_DRAIN_MS % 1000) * 1000};
    event_add(w->drain_limit_event, &limit);
}

#define DP_HEARTBEAT_MS 100

/* Also the forwarder's clock (probes of upstreams set aside), and a
 * quiescent point for the cache of an idle worker. */
static void heartbeat(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    dp_worker *w = arg;
    uint64_t now = dp_monotonic_ms();
    atomic_store_explicit(&w->heartbeat_ms, now, memory_order_relaxed);
    dp_tcp_sweep(w, now);
    dp_forward_heartbeat(w);
    dp_cache_quiescent(w->server->cache, w->index);
}

static void block_for_test(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    uint64_t ms = atomic_load(&((dp_worker *)arg)->block_ms);
    struct timespec pause = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
    nanosleep(&pause, NULL);
}

static void *worker_main(void *arg) {
    dp_worker *w = arg;
    /* Named, so `top -H` and `ps -T` tell the workers from the control plane. */
    char name[16];
    snprintf(name, sizeof(name), "dns-worker-%u", w->index);
    pthread_setname_np(pthread_self(), name);
    event_base_dispatch(w->base);
    dp_cache_offline(w->server->cache, w->index);
    return NULL;
}

int dp_server_start(dp_server *s, char *err, size_t errlen) {
    if (s->started) return dp_fail(err, errlen, "server already started");
    for (unsigned i = 0; i < s->worker_count; i++) {
        dp_worker *w = &s->workers[i];
        w->base = event_base_new();
        if (w->base == NULL) return dp_fail(err, errlen, "event_base_new failed");
        w->stop_event = event_new(w->base, -1, 0, stop_requested, w);
        w->heartbeat_event = event_new(w->base, -1, EV_PERSIST, heartbeat, w);
        w->block_event = event_new(w->base, -1, 0, block_for_test, w);
        w->drain_limit_event = event_new(w->base, -1, 0, drain_limit_reached, w);
        if (w->stop_event == NULL || w->heartbeat_event == NULL || w->block_event == NULL ||
            w->drain_limit_event == NULL)
            return dp_fail(err, errlen, "event_new failed");
        struct timeval period = {0, DP_HEARTBEAT_MS * 1000};
        atomic_store(&w->heartbeat_ms, dp_monotonic_ms());
        if (event_add(w->heartbeat_event, &period) != 0)
            return dp_fail(err, errlen, "event_add failed");
        if (dp_udp_attach(w) != 0 || dp_tcp_attach(w) != 0 || dp_forward_attach(w) != 0)
            return dp_fail(err, errlen, "cannot set up worker %u: %s", i, strerror(errno));
    }
    s->started = true;
    for (unsigned i = 0; i < s->worker_count; i++) {
        dp_worker *w = &s->workers[i];
        int rc = pthread_create(&w->thread, NULL, worker_main, w);
        if (rc != 0) return dp_fail(err, errlen, "cannot start worker %u: %s", i, strerror(rc));
        w->running = true;
    }
    return 0;
}

int dp_server_stalled_worker(const dp_server *s, uint64_t deadline_ms, uint64_t *age_ms) {
    uint64_t now = dp_monotonic_ms();
    for (unsigned i = 0; s->started && i < s->worker_count; i++) {
        uint64_t beat = atomic_load_explicit(&s->workers[i].heartbeat_ms, memory_order_relaxed);
        if (now > beat + deadline_ms) {
            *age_ms = now - beat;
            return (int)i;
        }
    }
    return -1;
}

void dp_server_block_worker_for_test(dp_server *s, unsigned worker, uint64_t ms) {
    if (!s->started || worker >= s->worker_count) return;
    dp_worker *w = &s->workers[worker];
    atomic_store(&w->block_ms, ms);
    event_active(w->block_event, EV_READ, 0);
}

const dp_table *dp_server_table(const dp_server *s) { return atomic_load(&s->table); }

void dp_server_publish(dp_server *s, dp_table *table) {
    dp_table *old = atomic_exchange(&s->table, table);
    /* Hazard pointers: wait until no worker still reads the old table. */
    for (unsigned i = 0; i < s->worker_count; i++) {
        while (atomic_load(&s->workers[i].hazard) == old) {
            struct timespec pause = {0, 20000};
            nanosleep(&pause, NULL);
        }
    }
    /* A whole new table frees the old one, and the control plane the
     * objects it built it from: give that memory back to the system rather
     * than keep it as free heap. A delta frees a few shards: not worth a
     * walk over the heap. */
    uint32_t shared = 0;
    for (uint32_t i = 0;
         old != NULL && old->shard_count == table->shard_count && i < old->shard_count; i++)
        shared += old->shards[i] == table->shards[i];
    bool whole = old != NULL && shared < old->shard_count / 2;
    dp_table_retire(old, table);
    if (whole) malloc_trim(0);
}

size_t dp_worker_reply(dp_worker *w, const dp_table *t, dp_parsed *p, uint8_t *out, size_t cap,
                       int transport) {
    size_t len = dp_query_reply(t, p, out, cap, transport);
    p->source = p->result == DP_PARSE_OK && !p->outside ? DP_SOURCE_TABLE : DP_SOURCE_NONE;
    if (p->templated) p->source = DP_SOURCE_TEMPLATE;
    if (!p->outside || atomic_load_explicit(&w->server->hosts, memory_order_relaxed) == NULL)
        return len;
    dp_table *hosts;
    do {
        hosts = atomic_load(&w->server->hosts);
        atomic_store(&w->hosts_hazard, hosts);
    } while (hosts != atomic_load(&w->server->hosts));
    if (hosts != NULL) {
        p->answer = NULL;
        p->rrset = NULL;
        dp_query_locate(hosts, p);
        len = dp_query_reply(hosts, p, out, cap, transport);
        if (!p->outside) p->source = DP_SOURCE_HOSTS;
    }
    atomic_store_explicit(&w->hosts_hazard, NULL, memory_order_release);
    return len;
}

void dp_server_publish_hosts(dp_server *s, dp_table *table) {
    dp_table *old = atomic_exchange(&s->hosts, table);
    if (old == NULL) return;
    for (unsigned i = 0; i < s->worker_count; i++) {
        while (atomic_load(&s->workers[i].hosts_hazard) == old) {
            struct timespec pause = {0, 20000};
            nanosleep(&pause, NULL);
        }
    }
    dp_table_free(old);
}

void dp_tune_malloc(void) {
    mallopt(M_ARENA_MAX, 4);
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
}

void dp_server_stop(dp_server *s) {
    for (unsigned i = 0; i < s->worker_count; i++) {
        dp_worker *w = &s->workers[i];
        if (w->running) event_active(w->stop_event, EV_READ, 0);
    }
    for (unsigned i = 0; i < s->worker_count; i++) {
        dp_worker *w = &s->workers[i];
        if (w->running) pthread_join(w->thread, NULL);
        w->running = false;
        dp_forward_close(w);
        dp_tcp_close(w);
        dp_udp_close(w);
        if (w->stop_event != NULL) event_free(w->stop_event);
        w->stop_event = NULL;
        if (w->heartbeat_event != NULL) event_free(w->heartbeat_event);
        w->heartbeat_event = NULL;
        if (w->block_event != NULL) event_free(w->block_event);
        w->block_event = NULL;
        if (w->drain_limit_event != NULL) event_free(w->drain_limit_event);
        w->drain_limit_event = NULL;
        if (w->base != NULL) event_base_free(w->base);
        w->base = NULL;
    }
}

void dp_server_free(dp_server *s) {
    if (s == NULL) return;
    dp_server_stop(s);
    for (unsigned i = 0; i < s->worker_count; i++) {
        pthread_mutex_destroy(&s->workers[i].mailbox_lock);
        free(s->workers[i].query_log);
        free(s->workers[i].staged);
        free(s->workers[i].rewrite_reply);
        free(s->workers[i].clients);
    }
    dp_forwarding_release(s->forwarding);
    dp_cache_free(s->cache);
    dp_rrl_free(s->rrl);
    free(s->workers);
    dp_table_free(atomic_load(&s->table));
    dp_table_free(atomic_load(&s->hosts));
    free(s);
}

static inline uint64_t load(const _Atomic uint64_t *c) {
    return atomic_load_explicit(c, memory_order_relaxed);
}

void dp_server_stats(const dp_server *s, dp_stats *out) {
    memset(out, 0, sizeof(*out));
    for (unsigned i = 0; i < s->worker_count; i++) {
        const dp_counters *c = &s->workers[i].counters;
#define DP_SUM(field, metric, server_label, help) out->field += load(&c->field);
        DP_COUNTERS(DP_SUM)
#undef DP_SUM
        for (int from = 0; from < DP_REPLY_SOURCES; from++)
            for (int r = 0; r < 16; r++) out->rcode[from][r] += load(&c->rcode[from][r]);
        for (int t = 0; t < 2; t++) {
            for (int f = 0; f < 2; f++)
                for (int b = 0; b < DP_QTYPE_BUCKETS; b++)
                    out->requests[t][f][b] += load(&c->requests[t][f][b]);
            for (int b = 0; b <= DP_SIZE_BUCKETS; b++) {
                out->request_size_bucket[t][b] += load(&c->request_size_bucket[t][b]);
                out->size_bucket[t][b] += load(&c->size_bucket[t][b]);
            }
            out->request_size_sum[t] += load(&c->request_size_sum[t]);
            out->size_sum[t] += load(&c->size_sum[t]);
        }
        for (int b = 0; b <= DP_DURATION_BUCKETS; b++)
            out->duration_bucket[b] += load(&c->duration_bucket[b]);
        out->duration_sum_us += load(&c->duration_sum_us);
    }
    dp_cache_counts(s->cache, out->cache_entries, out->cache_evictions);
}

/* The slot of an upstream address: its own from an earlier configuration,
 * else a new one. */
static int slot_for(dp_server *s, const struct sockaddr_storage *addr, socklen_t len) {
    for (unsigned i = 0; i < s->slot_count; i++)
        if (s->slots[i].addr_len == len && memcmp(&s->slots[i].addr, addr, len) == 0) return (int)i;
    if (s->slot_count == DP_MAX_UPSTREAM_SLOTS) return -1;
    dp_upstream_slot *slot = &s->slots[s->slot_count];
    memcpy(&slot->addr, addr, len);
    slot->addr_len = len;
    char ip[INET6_ADDRSTRLEN] = "?";
    if (addr->ss_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)addr)->sin_addr, ip, sizeof(ip));
        snprintf(slot->text, sizeof(slot->text), "%s:%u", ip, port_of(addr));
    } else {
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)addr)->sin6_addr, ip, sizeof(ip));
        snprintf(slot->text, sizeof(slot->text), "[%s]:%u", ip, port_of(addr));
    }
    return (int)s->slot_count++;
}

int dp_server_set_forwarding(dp_server *s, dp_forwarding *f, char *err, size_t errlen) {
    for (unsigned r = 0; f != NULL && r < f->route_count; r++) {
        dp_route *route = &f->routes[r];
        for (unsigned i = 0; i < route->upstream_count; i++) {
            int slot = slot_for(s, &route->addr[i], route->addr_len[i]);
            if (slot < 0) {
                dp_forwarding_release(f);
                return dp_fail(err, errlen,
                               "more than %d upstream addresses over the server's life",
                               DP_MAX_UPSTREAM_SLOTS);
            }
            route->slot[i] = (unsigned)slot;
            /* Probed again for a loop with this configuration. */
            atomic_store(&s->slots[slot].looped, false);
        }
    }
    dp_forwarding *old = s->forwarding;
    s->forwarding = f;
    for (unsigned i = 0; i < s->worker_count; i++) dp_forward_hand_over(&s->workers[i], f);
    dp_forwarding_release(old);
    dp_cache_clear(s->cache);
    return 0;
}

unsigned dp_server_upstream_count(const dp_server *s) { return s->slot_count; }

void dp_server_upstream_stats(const dp_server *s, unsigned index, dp_upstream_stats *out) {
    memset(out, 0, sizeof(*out));
    if (index >= s->slot_count) return;
    const dp_upstream_slot *slot = &s->slots[index];
    memcpy(out->address, slot->text, sizeof(out->address));
    out->down = atomic_load(&slot->down);
    out->looped = atomic_load(&slot->looped);
    for (unsigned i = 0; i < s->worker_count; i++) {
        const dp_upstream_counters *c = &s->workers[i].upstream[index];
        out->queries += load(&c->queries);
        out->replies += load(&c->replies);
        out->timeouts += load(&c->timeouts);
        out->errors += load(&c->errors);
        out->tcp_retries += load(&c->tcp_retries);
        out->mismatched += load(&c->mismatched);
        out->health_failures += load(&c->health_failures);
        for (int r = 0; r < 16; r++) {
            for (int b = 0; b <= DP_DURATION_BUCKETS; b++)
                out->duration_bucket[r][b] += load(&c->duration_bucket[r][b]);
            out->duration_sum_us[r] += load(&c->duration_sum_us[r]);
        }
    }
}
