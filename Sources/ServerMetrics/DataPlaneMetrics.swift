import DNSModel
import DataPlane

/// The data plane's counters as metrics, under CoreDNS's names and labels
/// where CoreDNS has them (so its dashboards and alerts keep working),
/// `kube_dns_` otherwise. One data plane serves every zone: `zone` and
/// the cache's `zones` are the root, `view` is empty (no view plugin).
enum DataPlaneMetrics {
    static func write(_ stats: DataPlaneStats, upstreams: [UpstreamStats], server: String, into out: inout PrometheusText) {
        let zone: PrometheusText.Labels = [("server", server), ("zone", "."), ("view", "")]
        writeRequests(stats, zone: zone, into: &out)
        writeCache(stats, server: server, into: &out)
        for counter in DataPlaneCounter.all {
            guard let metric = counter.metric else { continue }
            let labels: PrometheusText.Labels = counter.hasServerLabel ? [("server", server)] : []
            out.counter(metric, counter.help, [(labels, stats[counter.field] ?? 0)])
        }
        writeUpstreams(upstreams, into: &out)
    }

    /// The prometheus plugin's: requests, replies, sizes, durations.
    private static func writeRequests(_ stats: DataPlaneStats, zone: PrometheusText.Labels, into out: inout PrometheusText) {
        var requests: [(PrometheusText.Labels, UInt64)] = []
        for transport in DataPlaneStats.transports {
            for family in [4, 6] {
                for type in DataPlaneStats.countedTypes {
                    // CoreDNS's family label: 1 for IPv4, 2 for IPv6.
                    let key = DataPlaneStats.RequestKey(transport: transport, family: family, type: type)
                    requests.append(
                        (zone + [("proto", transport), ("family", family == 4 ? "1" : "2"), ("type", type)], stats.requests[key] ?? 0))
                }
            }
        }
        out.counter("coredns_dns_requests_total", "Counter of DNS requests made per zone, protocol and family.", requests)
        out.counter(
            "coredns_dns_do_requests_total", "Counter of DNS requests with DO bit set per zone.", [(zone, stats["do_requests"] ?? 0)])
        var responses: [(PrometheusText.Labels, UInt64)] = []
        for source in ReplySource.allCases {
            for (rcode, count) in (stats.repliesBySource[source] ?? []).enumerated() {
                // Every RCODE of a known name, so a rate over SERVFAIL exists before the first.
                guard (ResponseCode(rawValue: UInt8(rcode)) != nil && source == .none) || count > 0 else { continue }
                responses.append((zone + [("rcode", ResponseCode.mnemonic(UInt8(rcode))), ("plugin", source.plugin)], count))
            }
        }
        out.counter("coredns_dns_responses_total", "Counter of response status codes.", responses)
        out.histogram(
            "coredns_dns_request_duration_seconds", "Histogram of the time (in seconds) each request took per zone.",
            bounds: DataPlaneStats.durationBounds, [(zone, stats.durations)])
        out.histogram(
            "coredns_dns_request_size_bytes", "Size of the request in bytes per zone and protocol.", bounds: DataPlaneStats.sizeBounds,
            zip(DataPlaneStats.transports, stats.requestSizes).map { (zone + [("proto", $0)], $1) })
        out.histogram(
            "coredns_dns_response_size_bytes", "Size of the returned response in bytes.", bounds: DataPlaneStats.sizeBounds,
            zip(DataPlaneStats.transports, stats.replySizes).map { (zone + [("proto", $0)], $1) })
    }

    /// The cache plugin's: one cache for every forwarded name.
    private static func writeCache(_ stats: DataPlaneStats, server: String, into out: inout PrometheusText) {
        let cache: PrometheusText.Labels = [("server", server), ("zones", "."), ("view", "")]
        func byKind(_ success: UInt64, _ denial: UInt64) -> [(PrometheusText.Labels, UInt64)] {
            [(cache + [("type", "success")], success), (cache + [("type", "denial")], denial)]
        }
        let hits = stats["cache_hits"] ?? 0
        let denialHits = stats["cache_denial_hits"] ?? 0
        let misses = stats["cache_misses"] ?? 0
        out.gauge(
            "coredns_cache_entries", "The number of elements in the cache.",
            byKind(stats.cacheEntries.success, stats.cacheEntries.denial).map { ($0.0, Double($0.1)) })
        out.counter("coredns_cache_requests_total", "The count of cache requests.", [(cache, hits + denialHits + misses)])
        out.counter("coredns_cache_hits_total", "The count of cache hits.", byKind(hits, denialHits))
        out.counter("coredns_cache_misses_total", "The count of cache misses.", [(cache, misses)])
        out.counter(
            "coredns_cache_prefetch_total", "The number of times the cache has prefetched a cached item.",
            [(cache, stats["prefetches"] ?? 0)])
        out.counter(
            "coredns_cache_served_stale_total", "The number of requests served from stale cache entries.",
            [(cache, stats["stale_served"] ?? 0)])
        out.counter(
            "coredns_cache_evictions_total", "The count of cache evictions.",
            byKind(stats.cacheEvictions.success, stats.cacheEvictions.denial))
    }

    /// The forward plugin's (its `coredns_proxy_` metrics since CoreDNS
    /// 1.11), then what only this forwarder counts.
    private static func writeUpstreams(_ upstreams: [UpstreamStats], into out: inout PrometheusText) {
        let proxy: PrometheusText.Labels = [("proxy_name", "forward")]
        out.histogram(
            "coredns_proxy_request_duration_seconds", "Histogram of the time each request took.", bounds: DataPlaneStats.durationBounds,
            upstreams.flatMap { upstream in
                upstream.durations.sorted { $0.key < $1.key }.map { (proxy + [("to", upstream.address), ("rcode", $0.key)], $0.value) }
            })
        out.counter(
            "coredns_proxy_healthcheck_failures_total", "Counter of the number of failed healthchecks.",
            upstreams.map { (proxy + [("to", $0.address)], $0.healthFailures) })

        func perUpstream(_ value: (UpstreamStats) -> UInt64) -> [(PrometheusText.Labels, UInt64)] {
            upstreams.map { ([("to", $0.address)], value($0)) }
        }
        out.counter("kube_dns_forward_requests_total", "Queries sent to each upstream.", perUpstream(\.queries))
        out.counter("kube_dns_forward_responses_total", "Replies taken from each upstream.", perUpstream(\.replies))
        out.counter("kube_dns_forward_timeouts_total", "Queries an upstream did not answer in its turn.", perUpstream(\.timeouts))
        out.counter("kube_dns_forward_errors_total", "Upstream errors: refused, unreachable, malformed.", perUpstream(\.errors))
        out.counter("kube_dns_forward_tcp_retries_total", "Truncated replies asked again over TCP.", perUpstream(\.tcpRetries))
        out.counter("kube_dns_forward_mismatched_total", "Replies dropped for a wrong ID or question.", perUpstream(\.mismatched))
        out.gauge(
            "kube_dns_forward_upstream_down", "1 while an upstream is set aside after failures.",
            upstreams.map { ([("to", $0.address)], $0.down ? 1 : 0) })
        out.gauge(
            "kube_dns_forward_upstream_loop", "1 when an upstream sends our queries back to us.",
            upstreams.map { ([("to", $0.address)], $0.looped ? 1 : 0) })
    }
}

extension ReplySource {
    /// The plugin CoreDNS would name for such a reply.
    var plugin: String {
        switch self {
        case .none: ""
        case .table: "kubernetes"
        case .hosts: "hosts"
        case .cache: "cache"
        case .forward: "forward"
        case .template: "template"
        }
    }
}
