import Corefile
import DNSModel
import RecordModel

/// The `hosts` plugin as this server serves it: one, whose names are a
/// table of their own, asked when the cluster's records leave a name to
/// forwarding (so a cluster name wins over a hosts line for the same name).
public struct HostsPlan: Sendable, Equatable {
    public var file: String
    public var inline: [HostsFile.Entry]
    public var zones: [DNSName]
    public var ttl: UInt32
    public var reverse: Bool
    /// Without `fallthrough`, a name of its zones that it lacks is NXDOMAIN.
    public var authoritative: Bool
    /// How often the file is checked for changes; zero: never.
    public var reload: Duration

    init?(_ configurations: [ServerConfiguration]) throws(CorefileError) {
        var found: HostsPlugin?
        for configuration in configurations {
            for (plugin, location) in zip(configuration.plugins, configuration.pluginLocations) {
                guard case .hosts(let hosts) = plugin else { continue }
                if found != nil {
                    throw CorefileError("plugin/hosts: in more than one server block is not supported by this server", at: location)
                }
                found = hosts
            }
        }
        guard let hosts = found else { return nil }
        file = hosts.file
        inline = hosts.inline.map { HostsFile.Entry(address: $0.address, names: $0.names) }
        zones = hosts.zones
        ttl = hosts.ttl
        reverse = !hosts.noReverse
        authoritative = hosts.fallthroughZones == nil
        reload = hosts.reload
    }

    /// The records of the file's text (nil: the file could not be read) and the inline lines.
    public func records(fileText: String?) -> HostsRecords {
        HostsRecords(
            entries: (fileText.map(HostsFile.entries(in:)) ?? []) + inline, zones: zones, ttl: ttl, reverse: reverse,
            authoritative: authoritative)
    }
}
