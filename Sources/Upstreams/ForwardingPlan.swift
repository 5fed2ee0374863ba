import DNSModel
import DataPlane

/// Where names outside the cluster go, from every source in kube-dns's
/// order: the ConfigMap's `upstreamNameservers` replace `--nameservers`,
/// which replace resolv.conf's; each stub domain keeps to its own servers,
/// those given by name at the addresses `resolved` has for them.
public enum ForwardingPlan {
    public static func make(
        nameservers: [Forwarding.Upstream], config: ConfigDirectory, clusterDomain: DNSName,
        timeout: Duration, ourselves: SelfAddress, resolved: [DNSName: [String]] = [:]
    ) -> (forwarding: Forwarding?, ignored: [String]) {
        var ignored: [String] = []
        // Never forward to ourselves (a loop): refused, and said why.
        func usable(_ upstreams: [Forwarding.Upstream], for domain: String) -> [Forwarding.Upstream] {
            upstreams.filter { upstream in
                guard ourselves.isSelf(upstream) else { return true }
                ignored.append("upstream \(upstream) for \(domain) is this server itself (a forwarding loop); not used")
                return false
            }
        }
        var routes: [Forwarding.Route] = []
        for stub in config.stubDomains {
            // The cluster's own names are answered from the cluster.
            if stub.domain == clusterDomain || stub.domain.isSubdomain(of: clusterDomain) {
                ignored.append("stub domain \(stub.domain) lies in the cluster domain; its names are answered from the cluster")
                continue
            }
            // A stub domain without usable servers still keeps its names
            // from the default upstreams: they get SERVFAIL, not another answer.
            var servers: [Forwarding.Upstream] = []
            for upstream in stub.upstreams {
                guard !UpstreamAddress.isAddress(upstream.host) else {
                    servers.append(upstream)
                    continue
                }
                let addresses = (try? DNSName(upstream.host)).flatMap { resolved[$0] } ?? []
                if addresses.isEmpty {
                    ignored.append("stub server \(upstream.host) for \(stub.domain) has no address (yet); not used")
                }
                servers += addresses.map { Forwarding.Upstream(host: $0, port: upstream.port) }
            }
            routes.append(
                Forwarding.Route(
                    stub.domain, usable(Array(servers.prefix(Forwarding.maxUpstreamsPerRoute)), for: "stub domain \(stub.domain)")))
        }
        let defaults = usable(config.upstreamNameservers ?? nameservers, for: "names outside the cluster")
        if !defaults.isEmpty { routes.append(Forwarding.Route(.root, defaults)) }
        guard !routes.isEmpty else { return (nil, ignored) }
        return (Forwarding(routes: routes, timeout: timeout, attemptTimeout: attemptTimeout(timeout)), ignored)
    }
}
