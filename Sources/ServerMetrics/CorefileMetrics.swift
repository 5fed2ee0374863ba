import Prometheus

/// The metrics CoreDNS exports about its configuration, for a Corefile:
/// the plugins each block runs, the configuration in force, reloads that
/// failed, and the hosts plugin's entries.
extension MetricsRegistry {
    /// A Corefile taken: `coredns_plugin_enabled` for each block zone's
    /// plugins (0 for those it no longer runs), `coredns_reload_version_info`
    /// for its digest (0 for the one before).
    public func corefileTaken(
        server: String, plugins: [(zone: String, name: String)], digest: String,
        previous: (plugins: [(zone: String, name: String)], digest: String)?
    ) {
        for (zone, name) in previous?.plugins ?? [] { pluginEnabled(server, zone, name).set(to: 0) }
        for (zone, name) in plugins { pluginEnabled(server, zone, name).set(to: 1) }
        if let previous { versionInfo(previous.digest).set(to: 0) }
        versionInfo(digest).set(to: 1)
    }

    public func corefileReloadFailed() {
        registry.makeCounter(descriptor: .named("coredns_reload_failed_total", help: "Counter of the number of failed reload attempts."))
            .increment()
    }

    /// The hosts plugin's table published with `entries` names.
    public func hostsPublished(entries: Int, at epochSeconds: Double) {
        registry.makeGauge(descriptor: .named("coredns_hosts_entries", help: "The combined number of entries in hosts and Corefile.")).set(
            to: Double(entries))
        registry.makeGauge(
            descriptor: .named("coredns_hosts_reload_timestamp_seconds", help: "The timestamp of the last reload of hosts file.")
        )
        .set(to: epochSeconds)
    }

    private func pluginEnabled(_ server: String, _ zone: String, _ name: String) -> Gauge {
        registry.makeGauge(
            descriptor: .named(
                "coredns_plugin_enabled", help: "A metric that indicates whether a plugin is enabled on per server and zone basis."),
            labels: [("server", server), ("zone", zone), ("view", ""), ("name", name)])
    }

    private func versionInfo(_ digest: String) -> Gauge {
        registry.makeGauge(
            descriptor: .named(
                "coredns_reload_version_info", help: "A metric with a constant '1' value and labels the hash of the Corefile in force."),
            labels: [("hash", "fnv1a64"), ("value", digest)])
    }
}
