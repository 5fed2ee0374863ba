import Prometheus

extension MetricsRegistry {
    /// node-cache's kinds of setup error (kubernetes/dns cmd/node-cache/app/metrics.go).
    static let nodeCacheSetupErrorKinds = ["interface_add", "interface_check", "iptables", "iptables_lock", "configmap"]

    /// Shows every kind at 0 from the start, as node-cache does.
    public func prepareNodeCacheSetupErrors() {
        for kind in Self.nodeCacheSetupErrorKinds { _ = nodeCacheSetupErrors(kind) }
    }

    /// Counts a node-cache setup error of `kind`.
    public func nodeCacheSetupError(_ kind: String) { nodeCacheSetupErrors(kind).increment() }

    private func nodeCacheSetupErrors(_ kind: String) -> Counter {
        registry.makeCounter(
            descriptor: .named(
                "coredns_nodecache_setup_errors_total", help: "The number of errors during periodic network setup for node-cache"),
            labels: [("errortype", kind)])
    }
}
