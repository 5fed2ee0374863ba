import Upstreams

/// The Corefile node-cache serves, made from its template (the
/// `node-local-dns` ConfigMap's `Corefile.base`) and the kube-dns
/// ConfigMap, as k8s-dns-node-cache makes it (kubernetes/dns
/// cmd/node-cache/app/configmap.go):
/// - `__PILLAR__LOCAL__DNS__`: the local addresses, space-separated;
///   `__PILLAR__DNS__SERVER__`: removed (its address is among the local ones);
/// - `__PILLAR__CLUSTER__DNS__`: the upstream Service's cluster IP;
/// - `__PILLAR__UPSTREAM__SERVERS__`: `/etc/resolv.conf`, or the ConfigMap's
///   `upstreamNameservers`, which are then asked over UDP (the template's
///   `force_tcp` block for them is replaced);
/// - a server block per stub domain, appended.
public enum NodeCacheCorefile {
    public static let localAddresses = "__PILLAR__LOCAL__DNS__"
    public static let dnsServer = "__PILLAR__DNS__SERVER__"
    public static let clusterDNS = "__PILLAR__CLUSTER__DNS__"
    public static let upstreamServers = "__PILLAR__UPSTREAM__SERVERS__"

    /// The template's block for the node's upstreams over TCP, exactly as
    /// node-cache looks for it; and what replaces it for upstreamNameservers.
    static let upstreamTCPBlock = "\n    forward . \(upstreamServers) {\n            force_tcp\n    }\n"
    static let upstreamUDPBlock = "\n    forward . \(upstreamServers)\n"
    /// Stub domains' answers are cached for 30 s, as node-cache's block says.
    static let stubCacheTTL = 30

    public static func render(
        template: String, localAddresses: [String], port: Int, clusterDNS: String, kubeDNS: ConfigDirectory = ConfigDirectory()
    ) -> String {
        let local = localAddresses.joined(separator: " ")
        var text = template
        if let nameservers = kubeDNS.upstreamNameservers, !nameservers.isEmpty {
            let servers = nameservers.map(\.description).joined(separator: " ")
            text = text.replacingOccurrences(
                of: upstreamTCPBlock, with: upstreamUDPBlock.replacingOccurrences(of: upstreamServers, with: servers))
            text = text.replacingOccurrences(of: upstreamServers, with: servers)
        } else {
            text = text.replacingOccurrences(of: upstreamServers, with: "/etc/resolv.conf")
        }
        text = text.replacingOccurrences(of: Self.clusterDNS, with: clusterDNS)
        text = text.replacingOccurrences(of: Self.localAddresses, with: local)
        text = text.replacingOccurrences(of: dnsServer, with: "")
        for (domain, upstreams) in kubeDNS.stubDomains {
            let zone = domain.description.hasSuffix(".") ? String(domain.description.dropLast()) : domain.description
            text += """

                \(zone):\(port) {
                    errors
                    cache \(stubCacheTTL)
                    bind \(local)
                    forward . \(upstreams.map(\.description).joined(separator: " "))
                }

                """
        }
        return text
    }

    /// Whether the template asks for the upstream Service's address.
    public static func needsClusterDNS(_ template: String) -> Bool { template.contains(clusterDNS) }

    /// The environment variable that holds a Service's cluster IP in every
    /// pod (`kube-dns-upstream` → `KUBE_DNS_UPSTREAM_SERVICE_HOST`).
    public static func serviceHostVariable(_ service: String) -> String {
        service.replacingOccurrences(of: "-", with: "_").uppercased() + "_SERVICE_HOST"
    }
}
