/// CoreDNS's plugins in the order a query passes them (its `plugin.cfg`,
/// as of CoreDNS 1.12): the chain of a server block follows this order,
/// not the order its directives are written in.
public enum PluginOrder {
    public static let names = [
        "metadata", "geoip", "cancel", "tls", "quic", "timeouts", "multisocket", "reload", "nsid", "bufsize", "bind", "debug",
        "trace", "ready", "health", "pprof", "prometheus", "errors", "log", "dnstap", "local", "dns64", "acl", "any", "chaos",
        "loadbalance", "tsig", "cache", "rewrite", "header", "dnssec", "autopath", "minimal", "template", "transfer", "hosts",
        "route53", "azure", "clouddns", "k8s_external", "kubernetes", "file", "auto", "secondary", "etcd", "loop", "forward",
        "grpc", "erratic", "whoami", "on", "sign", "view",
    ]

    static let rank = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
}

extension ServerBlock {
    /// The block's directives in the order a query passes them; a name
    /// that is no CoreDNS plugin stops the start, as it stops CoreDNS.
    public func pluginChain() throws(CorefileError) -> [Directive] {
        var ranked: [(rank: Int, directive: Directive)] = []
        for directive in directives {
            guard let rank = PluginOrder.rank[directive.name] else {
                throw CorefileError("Unknown directive '\(directive.name)'", at: directive.location)
            }
            ranked.append((rank, directive))
        }
        // Stable: a plugin written twice keeps its two lines in order.
        return ranked.enumerated().sorted { ($0.element.rank, $0.offset) < ($1.element.rank, $1.offset) }.map(\.element.directive)
    }
}
