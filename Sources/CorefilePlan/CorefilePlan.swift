import Corefile
import DNSModel
import DataPlane
import RecordModel

/// What a Corefile asks of this server, checked against what it can do:
/// one DNS port on one or more addresses, the cluster's records, where
/// other names go, the cache, and the HTTP endpoints. Pure: files named in
/// it (resolv.conf, hosts files, kubeconfigs) are read by whoever applies it.
public struct CorefilePlan: Sendable, Equatable {
    /// The port every server block serves.
    public var port: Int
    /// Addresses to serve DNS on (`bind`); every address when no block binds.
    public var addresses: [String]
    /// The `kubernetes` plugin's records; nil when no block has one.
    public var cluster: ClusterPlan?
    /// `hosts`' names; nil when no block has the plugin.
    public var hosts: HostsPlan?
    /// Where names the records do not answer go, by the longest domain.
    public var routes: [RoutePlan]
    /// Every server block with its rewrite rules, templates and autopath,
    /// when some block has any (a query takes the rules of its block); else none.
    public var blocks: [BlockPlan]

    /// A block's rules, with the resolv.conf its autopath's search
    /// domains are read from (by whoever applies the plan).
    public struct BlockPlan: Sendable, Equatable {
        public var block: Forwarding.Block
        public var autopathSearchFile: String?
    }
    public var cache: CachePlan
    /// Forwarded queries in flight at most (`max_concurrent`); nil: the server's default.
    public var maxConcurrentForwards: Int?
    public var health: HealthPlugin?
    /// `/ready`'s address (`ready`), `/metrics`' (`prometheus`).
    public var readyAddress: String?
    public var metricsAddress: String?
    public var reload: ReloadPlugin?
    /// `log`: every server block with its log rules, when some block has
    /// any (a query is logged by its block's); else none.
    public var queryLog: [QueryLogBlock] = []
    /// Whether answered queries are logged at all.
    public var logQueries: Bool { !queryLog.isEmpty }
    /// `errors`: every server block with its errors plugin, when some
    /// block has one (a query's SERVFAIL is logged by its block's); else none.
    public var errorLog: [ErrorLogBlock] = []

    public struct QueryLogBlock: Sendable, Equatable {
        public var zones: [DNSName]
        public var rules: [LogRule]
    }

    public struct ErrorLogBlock: Sendable, Equatable {
        public var zones: [DNSName]
        public var errors: ErrorsPlugin?
    }
    /// What the Corefile asks that this server does differently, for the log.
    public var notes: [String]
    /// Each block's zones with the plugins they run, for `coredns_plugin_enabled`.
    public var enabledPlugins: [EnabledPlugin]
    /// A digest of the configuration read (FNV-1a of its blocks), for `coredns_reload_version_info`.
    public var digest: String

    public struct EnabledPlugin: Sendable, Hashable {
        public var zone: String
        public var name: String
    }

    public init(_ configurations: [ServerConfiguration]) throws(CorefileError) {
        guard !configurations.isEmpty else {
            throw CorefileError("no server block", at: CorefileLocation(file: "Corefile", line: 1))
        }
        port = try Self.onePort(configurations)
        addresses = try Self.addresses(configurations)
        cluster = try ClusterPlan(configurations)
        hosts = try HostsPlan(configurations)
        routes = RoutePlan.routes(configurations)
        blocks = Self.blocks(configurations, clientIndex: cluster.flatMap { $0.options.clientIndex ? $0.options.domain : nil })
        let logBlocks = configurations.map { configuration in
            QueryLogBlock(
                zones: configuration.keys.map(\.zone),
                rules: configuration.plugins.flatMap { plugin -> [LogRule] in
                    if case .log(let rules) = plugin { rules } else { [] }
                })
        }
        queryLog = logBlocks.contains { !$0.rules.isEmpty } ? logBlocks : []
        let errorBlocks = configurations.map { configuration in
            ErrorLogBlock(
                zones: configuration.keys.map(\.zone),
                errors: configuration.plugins.lazy.compactMap { plugin -> ErrorsPlugin? in
                    if case .errors(let errors) = plugin { errors } else { nil }
                }.first)
        }
        errorLog = errorBlocks.contains { $0.errors != nil } ? errorBlocks : []
        cache = CachePlan(configurations)
        notes = cache.notes + RoutePlan.notes(configurations)
        enabledPlugins = configurations.flatMap { configuration in
            configuration.keys.flatMap { key in configuration.plugins.map { EnabledPlugin(zone: key.zone.description, name: $0.name) } }
        }
        digest = Self.digest(configurations)
        maxConcurrentForwards = nil
        for case .forward(let forward) in configurations.flatMap(\.plugins) {
            if let limit = forward.maxConcurrent { maxConcurrentForwards = max(maxConcurrentForwards ?? 0, limit) }
        }
        for plugin in configurations.flatMap(\.plugins) {
            switch plugin {
            case .health(let value): health = value
            case .ready(let address): readyAddress = address
            case .prometheus(let address): metricsAddress = address
            case .reload(let value): reload = value
            default: break
            }
        }
    }

    /// `clientIndex`: the cluster domain, when its records index the clients (pods verified).
    private static func blocks(_ configurations: [ServerConfiguration], clientIndex: DNSName?) -> [BlockPlan] {
        let blocks = configurations.map { configuration -> BlockPlan in
            let autopath = configuration.plugins.lazy.compactMap { plugin -> AutopathPlugin? in
                if case .autopath(let value) = plugin { value } else { nil }
            }.first
            let block = Forwarding.Block(
                zones: configuration.keys.map(\.zone),
                rewrites: configuration.plugins.compactMap { plugin in
                    if case .rewrite(let rule) = plugin { rule } else { nil }
                },
                templates: configuration.plugins.compactMap { plugin in
                    if case .template(let template) = plugin { template } else { nil }
                },
                autopath: autopath.flatMap { autopath in
                    guard autopath.source == .kubernetes else { return Forwarding.Autopath(zones: autopath.zones, pods: nil, search: []) }
                    // @kubernetes without the clients' index (pods not verified) walks nothing, as in CoreDNS.
                    return clientIndex.map {
                        Forwarding.Autopath(zones: autopath.zones, pods: (ClusterRecords.clientIndexApex, $0), search: [])
                    }
                })
            let file: String? =
                switch autopath?.source {
                case .kubernetes: "/etc/resolv.conf"
                case .resolvConf(let path): path
                case nil: nil
                }
            return BlockPlan(block: block, autopathSearchFile: file)
        }
        return blocks.contains(where: \.block.hasRules) ? blocks : []
    }

    /// FNV-1a (64 bits) over the blocks as read: equal Corefiles, equal digests.
    private static func digest(_ configurations: [ServerConfiguration]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "\(configurations.map { ($0.keys.map(\.description), $0.plugins) })".utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    /// CoreDNS runs a server per port; this one serves a single port.
    private static func onePort(_ configurations: [ServerConfiguration]) throws(CorefileError) -> Int {
        let keys = configurations.flatMap(\.keys)
        let port = keys[0].port
        if let other = keys.first(where: { $0.port != port }) {
            throw CorefileError(
                "\(other): server blocks on more than one port (\(port), \(other.port)) are not supported by this server",
                at: other.location)
        }
        return port
    }

    /// `bind`'s addresses over every block, or the wildcard when some block
    /// listens everywhere (it would take every address anyway).
    private static func addresses(_ configurations: [ServerConfiguration]) throws(CorefileError) -> [String] {
        var addresses: [String] = []
        for configuration in configurations {
            var bound = false
            for (plugin, location) in zip(configuration.plugins, configuration.pluginLocations) {
                guard case .bind(let list) = plugin else { continue }
                bound = true
                for text in list {
                    guard let address = IPAddress(text) else {
                        throw CorefileError("plugin/bind: \(text): not an IP address (interface names are not supported)", at: location)
                    }
                    if !addresses.contains(address.description) { addresses.append(address.description) }
                }
            }
            if !bound { return ["0.0.0.0"] }
        }
        return addresses
    }
}
