import DataPlane
import Prometheus
import Synchronization

/// Everything `/metrics` says: the control plane's own metrics, kept in a
/// swift-prometheus registry as they happen (publications, informers,
/// build info), and the data plane's, read from the C counters at scrape
/// time.
public final class MetricsRegistry: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let publications: Counter
    private let publicationDuration: DurationHistogram
    private let names: Gauge
    private let tableBytes: Gauge
    private let informerCounters = Mutex<[InformerCounterKey: Counter]>([:])
    /// DNS programming latency by service kind, made on first use (as the informers' counters).
    private let programming = Mutex<[String: ValueHistogram]>([:])

    public init(version: String) {
        registry.makeGauge(descriptor: .named("kube_dns_build_info", help: "The build, in its labels."), labels: [("version", version)])
            .set(to: 1.0)
        // CoreDNS's, so its dashboards find the build and the panics they chart.
        registry.makeGauge(
            descriptor: .named(
                "coredns_build_info",
                help: "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built."),
            labels: [("version", version), ("revision", ""), ("goversion", "")]
        ).set(to: 1.0)
        _ = registry.makeCounter(descriptor: .named("coredns_panics_total", help: "A metrics that counts the number of panics."))
        publications = registry.makeCounter(
            descriptor: .named("kube_dns_publications_total", help: "Answer tables published to the data plane."))
        publicationDuration = registry.makeDurationHistogram(
            descriptor: .named(
                "kube_dns_publication_duration_seconds", help: "From changed objects to a published table: the record model and the table."),
            buckets: [
                .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(500), .seconds(2), .seconds(10),
            ])
        names = registry.makeGauge(descriptor: .named("kube_dns_names", help: "Names in the published answer table."))
        tableBytes = registry.makeGauge(descriptor: .named("kube_dns_table_bytes", help: "Bytes the published answer table takes."))
    }

    /// A table published: how long it took, and its size.
    public func published(after duration: Duration, names: Int, bytes: Int) {
        publications.increment()
        publicationDuration.record(duration)
        self.names.set(to: Double(names))
        tableBytes.set(to: Double(bytes))
    }

    /// A change served `seconds` after it was made at its source
    /// (CoreDNS's DNS programming latency; buckets 1 ms to about 9 minutes).
    public func programmed(serviceKind: String, after seconds: Double) {
        let histogram = programming.withLock { made in
            if let histogram = made[serviceKind] { return histogram }
            let histogram = registry.makeValueHistogram(
                descriptor: .named(
                    "coredns_kubernetes_dns_programming_duration_seconds",
                    help: "Histogram of the time (in seconds) it took to program a dns instance."), labels: [("service_kind", serviceKind)],
                buckets: (0..<20).map { 0.001 * Double(1 << $0) })
            made[serviceKind] = histogram
            return histogram
        }
        histogram.record(max(0, seconds))
    }

    /// An informer's counter (events by type, relists, errors), made on
    /// first use and found again after: the registry checks a counter's
    /// name, labels and help each time it is asked for one, which took
    /// 2.7% of the samples of EndpointSlice updates (perf).
    public func informerCounter(_ name: String, resource: String, type: String? = nil) -> Counter {
        let key = InformerCounterKey(name: name, resource: resource, type: type)
        return informerCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let labels = [("resource", resource)] + (type.map { [("type", $0)] } ?? [])
            let counter = registry.makeCounter(
                descriptor: .named("kube_dns_informer_\(name)_total", help: InformerHelp.text(name)), labels: labels)
            counters[key] = counter
            return counter
        }
    }

    /// The exposition: the registry's metrics, then the data plane's as read now.
    public func exposition(_ dataPlane: DNSServer?) -> String {
        var text = PrometheusText()
        if let dataPlane {
            // The server label as CoreDNS writes it: dns://:53.
            DataPlaneMetrics.write(
                dataPlane.stats(), upstreams: dataPlane.upstreamStats(), server: "dns://:\(dataPlane.port)", into: &text)
        }
        return registry.emitToString() + text.text
    }
}

enum InformerHelp {
    static func text(_ name: String) -> String {
        switch name {
        case "events": "Watch events applied, by resource and type."
        case "relists": "Lists made again after a watch could not resume (410 Gone)."
        case "skipped": "Objects passed over because they cannot be read, by resource."
        default: "Errors of lists and watches, by resource (each retried with backoff)."
        }
    }
}

/// Which informer counter: its name, and its labels' values.
private struct InformerCounterKey: Hashable {
    let name: String
    let resource: String
    let type: String?
}
