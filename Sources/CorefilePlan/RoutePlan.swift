import Corefile
import DNSModel
import DataPlane

/// Where the names of a domain go that the records do not answer: its
/// server block's `forward`, or SERVFAIL when the block has none (CoreDNS
/// answers a name that no plugin of its block handles with SERVFAIL, and a
/// name of no block with REFUSED, which is what a name of no route gets).
public struct RoutePlan: Sendable, Equatable {
    public var domain: DNSName
    /// `forward`'s upstreams, resolv.conf files to be read; none: SERVFAIL.
    public var targets: [ForwardPlugin.Target]
    public var order: Forwarding.Route.Order
    public var forceTCP: Bool
    public var cached: Bool
    public var maxFails: Int
    /// Its block's `cache` TTL caps (success, denial; 0: not kept, as
    /// `disable success|denial` asks); `.max`: the server's.
    public var cacheMaxTTL: UInt32 = .max
    public var cacheMaxNegativeTTL: UInt32 = .max
    /// How its `tls://` upstreams are asked.
    public var tls = Forwarding.TLS()

    init(_ domain: DNSName, cached: Bool) {
        self.domain = domain
        targets = []
        order = .sequential
        forceTCP = false
        self.cached = cached
        maxFails = 3
    }

    init(_ domain: DNSName, cache: CachePlugin?) {
        self.init(domain, cached: cache?.caches(domain) ?? false)
        if cached, let cache {
            let disabled = { (zones: [DNSName]) in zones.contains { domain.isSubdomain(of: $0) } }
            cacheMaxTTL = disabled(cache.disableSuccess) ? 0 : cache.success.maxTTL
            cacheMaxNegativeTTL = disabled(cache.disableDenial) ? 0 : cache.denial.maxTTL
        }
    }

    /// The routes of every block: a query goes to the block of the longest
    /// zone it lies under, and there to the first `forward` (in written
    /// order, as CoreDNS chains them) whose FROM covers it and no `except`
    /// of which does; a name no forward takes gets SERVFAIL.
    static func routes(_ configurations: [ServerConfiguration]) -> [RoutePlan] {
        let blockZones = configurations.flatMap { $0.keys.map(\.zone) }
        var routes: [DNSName: RoutePlan] = [:]
        for configuration in configurations {
            let forwards = configuration.plugins.compactMap { plugin -> ForwardPlugin? in
                if case .forward(let value) = plugin { value } else { nil }
            }
            let cache = configuration.plugins.lazy.compactMap { plugin -> CachePlugin? in
                if case .cache(let value) = plugin { value } else { nil }
            }.first
            for zone in configuration.keys.map(\.zone) {
                // A domain under a longer zone of another block is that block's.
                func owned(_ domain: DNSName) -> Bool {
                    !blockZones.contains { $0 != zone && $0.isSubdomain(of: zone) && domain.isSubdomain(of: $0) }
                }
                var zoneRoutes: [DNSName: RoutePlan] = [zone: RoutePlan(zone, cache: cache)]
                // The last forward first: each earlier one takes its names from those after it.
                for forward in forwards.reversed() {
                    guard let covered = deeper(zone, forward.from), owned(covered) else { continue }
                    let excepted = forward.except.filter { $0.isSubdomain(of: covered) && owned($0) }
                    // What its except names get: the route the forwards after it give them.
                    let passedOn = excepted.map { except in
                        var route = Self.longestMatch(except, in: zoneRoutes) ?? RoutePlan(except, cached: false)
                        let cachePlan = RoutePlan(except, cache: cache)
                        route.domain = except
                        (route.cached, route.cacheMaxTTL, route.cacheMaxNegativeTTL) =
                            (cachePlan.cached, cachePlan.cacheMaxTTL, cachePlan.cacheMaxNegativeTTL)
                        return route
                    }
                    zoneRoutes = zoneRoutes.filter { domain, _ in
                        !domain.isSubdomain(of: covered) || excepted.contains { domain.isSubdomain(of: $0) }
                    }
                    var forwarded = RoutePlan(covered, cache: cache)
                    forwarded.targets = forward.to
                    forwarded.order = Self.order(forward.policy)
                    forwarded.forceTCP = forward.forceTCP
                    forwarded.maxFails = forward.maxFails
                    forwarded.tls = Forwarding.TLS(
                        serverName: forward.tlsServerName, ca: forward.tls.ca, certificate: forward.tls.certificate, key: forward.tls.key,
                        expire: forward.expire)
                    zoneRoutes[covered] = forwarded
                    for route in passedOn where zoneRoutes[route.domain] == nil { zoneRoutes[route.domain] = route }
                }
                routes.merge(zoneRoutes) { _, new in new }
            }
        }
        return routes.values.sorted { $0.domain.description < $1.domain.description }
    }

    /// The route of the longest domain `name` lies under.
    private static func longestMatch(_ name: DNSName, in routes: [DNSName: RoutePlan]) -> RoutePlan? {
        routes.filter { name.isSubdomain(of: $0.key) }.max { $0.key.labelCount < $1.key.labelCount }?.value
    }

    /// Forward options this server does in its own way, said once at start.
    static func notes(_ configurations: [ServerConfiguration]) -> [String] {
        var notes: Set<String> = []
        for case .forward(let forward) in configurations.flatMap(\.plugins) {
            let tls = forward.to.contains { if case .tls = $0 { true } else { false } }
            if forward.expire != .seconds(10) && !tls {
                notes.insert("forward expire: each query has a socket of its own; no connection is kept to expire")
            }
            if forward.healthCheck != .milliseconds(500) {
                notes.insert("forward health_check: an upstream set aside is probed every second")
            }
        }
        return notes.sorted()
    }

    /// The longer of two domains when one lies under the other.
    private static func deeper(_ a: DNSName, _ b: DNSName) -> DNSName? {
        if a.isSubdomain(of: b) { return a }
        if b.isSubdomain(of: a) { return b }
        return nil
    }

    private static func order(_ policy: ForwardPlugin.Policy) -> Forwarding.Route.Order {
        switch policy {
        case .random: .random
        case .roundRobin: .roundRobin
        case .sequential: .sequential
        }
    }
}

extension CachePlugin {
    /// Whether forwarded answers for names of `domain` are kept: the
    /// plugin's zones cover it, and neither kind is disabled for it (the
    /// cache is one for both kinds here).
    func caches(_ domain: DNSName) -> Bool {
        zones.contains { domain.isSubdomain(of: $0) }
            && !(disableSuccess.contains { domain.isSubdomain(of: $0) } && disableDenial.contains { domain.isSubdomain(of: $0) })
    }
}
