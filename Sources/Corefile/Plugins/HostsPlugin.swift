import DNSModel

/// `hosts [FILE [ZONES...]] { ... }` (coredns.io/plugins/hosts): names from
/// a hosts file and from lines written in the block, with their PTRs.
public struct HostsPlugin: Sendable, Equatable {
    /// One line of hosts data: an address and its names.
    public struct Entry: Sendable, Equatable {
        public var address: IPAddress
        public var names: [DNSName]

        public init(address: IPAddress, names: [DNSName]) {
            (self.address, self.names) = (address, names)
        }
    }

    public var file = "/etc/hosts"
    public var zones: [DNSName]
    public var inline: [Entry] = []
    public var ttl: UInt32 = 3600
    /// No PTR records for the addresses.
    public var noReverse = false
    /// How often the file is read again; zero: never.
    public var reload: Duration = .seconds(5)
    public var fallthroughZones: [DNSName]?

    init(_ directive: Directive, blockZones: [DNSName]) throws(CorefileError) {
        let read = PluginArguments(plugin: "hosts")
        if let path = directive.arguments.first { file = path }
        zones = directive.arguments.count > 1 ? try read.zones(Array(directive.arguments.dropFirst()), at: directive) : blockZones
        try read.options(of: directive) { option throws(CorefileError) in
            switch option.name {
            case "ttl":
                ttl = UInt32(try read.integerValue(of: option, 1...Int(Int32.max)))
            case "no_reverse":
                noReverse = try read.flag(option)
            case "reload":
                reload = try read.durationValue(of: option)
            case "fallthrough":
                fallthroughZones = try read.zones(option.arguments, at: option)
            default:
                // A line of hosts data: an address, then its names.
                guard let address = IPAddress(option.name) else { return false }
                try read.count(option, 1...Int.max)
                inline.append(Entry(address: address, names: try read.zones(option.arguments, at: option)))
            }
            return true
        }
    }
}
