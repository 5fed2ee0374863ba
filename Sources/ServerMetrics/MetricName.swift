import Prometheus

extension MetricNameDescriptor {
    /// A metric named in full, its unit suffix included (`coredns_panics_total`),
    /// as CoreDNS's and kube-dns's dashboards know it.
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }
}
