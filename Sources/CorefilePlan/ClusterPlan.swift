import Corefile
import DNSModel
import RecordModel

/// The `kubernetes` plugin as this server serves it: one cluster domain,
/// and the reverse zones of the cluster's addresses.
public struct ClusterPlan: Sendable, Equatable {
    /// The record options it asks for (the serial is the publisher's).
    public var options: RecordOptions
    /// How the API is reached: `endpoint` (with `tls`), `kubeconfig`, else in-cluster.
    public var plugin: KubernetesPlugin

    /// Nil when no block has the plugin.
    init?(_ configurations: [ServerConfiguration]) throws(CorefileError) {
        var found: (KubernetesPlugin, CorefileLocation)?
        for configuration in configurations {
            for (plugin, location) in zip(configuration.plugins, configuration.pluginLocations) {
                guard case .kubernetes(let kubernetes) = plugin else { continue }
                if found != nil {
                    throw CorefileError("plugin/kubernetes: in more than one server block is not supported by this server", at: location)
                }
                found = (kubernetes, location)
            }
        }
        guard let (kubernetes, location) = found else {
            for configuration in configurations {
                for case (.k8sExternal, let location) in zip(configuration.plugins, configuration.pluginLocations) {
                    throw CorefileError("plugin/k8s_external: serves the kubernetes plugin's objects; add kubernetes", at: location)
                }
            }
            return nil
        }
        let reverseApexes = [DNSName(validated: ["in-addr", "arpa"]), DNSName(validated: ["ip6", "arpa"])]
        // A zone written twice is one zone (the RKE2 chart writes cluster.local twice).
        var domains: [DNSName] = []
        for zone in kubernetes.zones where !domains.contains(zone) { domains.append(zone) }
        domains = domains.filter { zone in
            !reverseApexes.contains { zone.isSubdomain(of: $0) || zone == $0 } && !kubernetes.multiclusterZones.contains(zone)
        }
        guard domains.count == 1, let domain = domains.first, domain != .root else {
            let what =
                domains.isEmpty || domains == [.root]
                ? "no cluster domain" : "more than one cluster domain (\(domains.map(\.description).joined(separator: ", ")))"
            throw CorefileError("plugin/kubernetes: \(what) is not supported by this server; give one, such as cluster.local", at: location)
        }
        options = RecordOptions(domain: domain, ttl: kubernetes.ttl, pods: Self.podMode(kubernetes.pods), serial: 0)
        options.domainFallsThrough = kubernetes.fallsThrough(domain)
        options.reverseFallsThrough = reverseApexes.contains { apex in
            kubernetes.fallthroughZones.map { zones in zones.isEmpty || zones.contains { $0 == apex || $0.isSubdomain(of: apex) } } ?? false
        }
        // Reverse zones not among the plugin's: CoreDNS would pass those
        // names on; the cluster's PTRs are served here, the rest passed on.
        if !kubernetes.zones.contains(where: { zone in reverseApexes.contains { zone == $0 || zone.isSubdomain(of: $0) } }) {
            options.reverseFallsThrough = true
        }
        options.exposure = kubernetes.namespaces.map { .listed($0) } ?? (kubernetes.namespaceLabels == nil ? .all : .namespaceObjects)
        options.endpointPodNames = kubernetes.endpointPodNames
        options.ignoreEmptyServices = kubernetes.ignoreEmptyService
        options.external = try Self.externalZones(configurations, domain: domain)
        guard kubernetes.multiclusterZones.count <= 1 else {
            throw CorefileError("plugin/kubernetes: more than one multicluster zone is not supported by this server", at: location)
        }
        options.multicluster = kubernetes.multiclusterZones.first
        // autopath @kubernetes reads the clients' namespaces, which only verified pods give.
        options.clientIndex =
            kubernetes.pods == .verified
            && configurations.flatMap(\.plugins).contains { plugin in
                if case .autopath(let autopath) = plugin { autopath.source == .kubernetes } else { false }
            }
        plugin = kubernetes
    }

    /// `k8s_external`'s zones, from the one block that has it.
    private static func externalZones(_ configurations: [ServerConfiguration], domain: DNSName) throws(CorefileError)
        -> RecordOptions.ExternalZones?
    {
        var found: RecordOptions.ExternalZones?
        for configuration in configurations {
            for (plugin, location) in zip(configuration.plugins, configuration.pluginLocations) {
                guard case .k8sExternal(let external) = plugin else { continue }
                if found != nil {
                    throw CorefileError("plugin/k8s_external: in more than one server block is not supported by this server", at: location)
                }
                if let zone = external.zones.first(where: { $0 == domain || domain.isSubdomain(of: $0) || $0.isSubdomain(of: domain) }) {
                    throw CorefileError("plugin/k8s_external: zone \(zone) overlaps the cluster domain \(domain)", at: location)
                }
                found = RecordOptions.ExternalZones(
                    zones: external.zones, apex: external.apex, ttl: external.ttl, headless: external.headless,
                    fallingThrough: Set(external.zones.filter(external.fallsThrough)))
            }
        }
        return found
    }

    private static func podMode(_ pods: KubernetesPlugin.Pods) -> RecordOptions.PodMode {
        switch pods {
        case .disabled: .disabled
        case .insecure: .insecure
        case .verified: .verified
        }
    }
}
