import DNSModel

/// `k8s_external [ZONES...] { apex APEX; ttl TTL; headless; fallthrough
/// [ZONES...] }` (coredns.io/plugins/k8s_external): Services' external IPs
/// and load balancers' addresses as `<service>.<namespace>.<zone>`, from
/// the `kubernetes` plugin's objects.
public struct K8sExternalPlugin: Sendable, Equatable {
    public var zones: [DNSName]
    /// The label under which the zone's own name server lives (`ns1.<apex>.<zone>`).
    public var apex = "dns"
    public var ttl: UInt32 = 5
    /// Headless services without external IPs answer with their endpoints.
    public var headless = false
    /// As the kubernetes plugin's: nil, a missing name is NXDOMAIN.
    public var fallthroughZones: [DNSName]?

    init(_ directive: Directive, blockZones: [DNSName]) throws(CorefileError) {
        let read = PluginArguments(plugin: "k8s_external")
        zones = directive.arguments.isEmpty ? blockZones : try read.zones(directive.arguments, at: directive)
        try read.options(of: directive) { option throws(CorefileError) in
            switch option.name {
            case "apex":
                try read.count(option, 1...1)
                guard DNSName.isLabel(option.arguments[0]), !option.arguments[0].contains(".") else {
                    throw read.error("apex '\(option.arguments[0])' is not a DNS label", at: option)
                }
                apex = option.arguments[0].lowercased()
            case "ttl":
                ttl = UInt32(try read.integerValue(of: option, 0...3600))
            case "headless":
                headless = try read.flag(option)
            case "fallthrough":
                fallthroughZones = try read.zones(option.arguments, at: option)
            default:
                return false
            }
            return true
        }
    }

    /// Whether a name of `zone` that the plugin lacks goes to the next plugin.
    public func fallsThrough(_ zone: DNSName) -> Bool { Fallthrough.covers(fallthroughZones, zone) }
}
