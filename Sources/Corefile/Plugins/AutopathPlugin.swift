import DNSModel

/// `autopath [ZONE...] RESOLV-CONF` (coredns.io/plugins/autopath): the
/// client's search path walked on the server. RESOLV-CONF is
/// `@kubernetes` (the client pod's search path, then the server's own
/// resolv.conf search domains) or a resolv.conf file whose `search`
/// line is the path.
public struct AutopathPlugin: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case kubernetes
        case resolvConf(path: String)
    }

    public var zones: [DNSName]
    public var source: Source

    init(_ directive: Directive, blockZones: [DNSName]) throws(CorefileError) {
        let read = PluginArguments(plugin: "autopath")
        try read.count(directive, 1...Int.max)
        try read.noBlock(directive)
        let last = directive.arguments[directive.arguments.count - 1]
        if last.hasPrefix("@") {
            guard last == "@kubernetes" else {
                throw read.error("\(last): no plugin of that name gives a search path (@kubernetes does)", at: directive)
            }
            source = .kubernetes
        } else {
            source = .resolvConf(path: last)
        }
        let zoneTexts = Array(directive.arguments.dropLast())
        zones = zoneTexts.isEmpty ? blockZones : try read.zones(zoneTexts, at: directive)
    }
}
