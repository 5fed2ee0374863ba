import DNSModel
import DataPlane

/// The data plane's counters as metrics, under CoreDNS's names where
/// CoreDNS has one (so its dashboards and alerts keep working), `kube_dns_`
/// otherwise. Labels CoreDNS has and the data plane does not count by
/// (the address family; the type of a duration) are left out: sums over
/// them are unchanged.
enum DataPlaneMetrics {
    static func write(_ stats: DataPlaneStats, upstreams: [UpstreamStats], server: String, into out: inout PrometheusText) {
        let zone: PrometheusText.Labels = [("server", server), ("zone", ".")]
        var requests: [(PrometheusText.Labels, UInt64)] = []
        for proto in ["udp", "tcp"] {
            for type in DataPlaneStats.countedTypes {
                requests.append((zone + [("proto", proto), ("type", type)], stats.requests[proto]?[type] ?? 0))
            }
        }
        out.counter("coredns_dns_requests_total", "Queries received, by transport and type.", requests)
        out.counter(
            "coredns_dns_responses_total", "Replies sent, by RCODE.",
            stats.replies.enumerated().compactMap { rcode, count in
                let name = ResponseCode(rawValue: UInt8(rcode))?.description
                return name != nil || count > 0 ? (zone + [("rcode", name ?? "RCODE\(rcode)")], count) : nil
            })
        out.histogram(
            "coredns_dns_request_duration_seconds", "From a query's receipt to its reply (forwarded ones: the upstream's time included).",
            zone, bounds: DataPlaneStats.durationBounds, counts: stats.durationBuckets,
            sum: Double(stats.durationSum.components.seconds) + Double(stats.durationSum.components.attoseconds) / 1e18)
        out.histogram(
            "coredns_dns_response_size_bytes", "Sizes of the replies sent.", zone,
            bounds: DataPlaneStats.sizeBounds, counts: stats.sizeBuckets, sum: Double(stats.sizeSum))
        for counter in DataPlaneCounter.all {
            guard let metric = counter.metric else { continue }
            let labels: PrometheusText.Labels = counter.hasServerLabel ? [("server", server)] : []
            out.counter(metric, counter.help, [(labels, stats[counter.field] ?? 0)])
        }
        out.gauge("coredns_cache_entries", "Answers in the cache.", [([("server", server)], Double(stats.cacheEntries))])

        func perUpstream(_ value: (UpstreamStats) -> UInt64) -> [(PrometheusText.Labels, UInt64)] {
            upstreams.map { ([("to", $0.address)], value($0)) }
        }
        out.counter("coredns_forward_requests_total", "Queries sent to each upstream.", perUpstream(\.queries))
        out.counter("coredns_forward_responses_total", "Replies taken from each upstream.", perUpstream(\.replies))
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
