import CDataPlane
import DNSModel

/// Where the data plane sends names that are not ours: each domain with
/// its upstreams (a name goes to the longest domain it lies under; the root
/// is the default), and how long a query may take.
public struct Forwarding: Sendable, Equatable {
    public struct Upstream: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: UInt16
        /// Asked over TLS (RFC 7858), with its route's TLS settings.
        public var tls: Bool

        public init(host: String, port: UInt16 = 53, tls: Bool = false) {
            self.host = host
            self.port = port
            self.tls = tls
        }

        public var description: String { (tls ? "tls://" : "") + (host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)") }
    }

    /// How a route's TLS upstreams are asked: the name their certificates
    /// carry (nil: their address), the CA that signs them (nil: the
    /// system's), a client certificate, how long a connection idle is kept.
    public struct TLS: Sendable, Equatable {
        public var serverName: String?
        public var ca: String?
        public var certificate: String?
        public var key: String?
        public var expire: Duration

        public init(
            serverName: String? = nil, ca: String? = nil, certificate: String? = nil, key: String? = nil, expire: Duration = .seconds(10)
        ) {
            (self.serverName, self.ca, self.certificate, self.key, self.expire) = (serverName, ca, certificate, key, expire)
        }
    }

    /// A domain and where its names go.
    public struct Route: Sendable, Equatable {
        /// Which upstream a query tries first; the others follow in turn.
        public enum Order: Sendable, Equatable { case sequential, roundRobin, random }

        public var domain: DNSName
        /// None: the domain's names get SERVFAIL (they never go to another domain's upstreams).
        public var upstreams: [Upstream]
        public var order = Order.sequential
        /// Every query over TCP, not only those whose UDP reply was truncated.
        public var forceTCP = false
        /// Whether its answers are kept in the cache and taken from it.
        public var cached = true
        /// Failures in a row that set an upstream aside; 0: never.
        public var maxFails = 3
        /// How long its answers, and its denials, stay in the cache at most,
        /// below the server's caps (its server block's `cache`; 0: not
        /// kept); `.max`: the server's.
        public var cacheMaxTTL: UInt32 = .max
        public var cacheMaxNegativeTTL: UInt32 = .max
        /// Its TLS upstreams' settings.
        public var tls = TLS()

        public init(_ domain: DNSName, _ upstreams: [Upstream]) {
            self.domain = domain
            self.upstreams = upstreams
        }
    }

    /// Upstreams of one route (one domain) at most.
    public static let maxUpstreamsPerRoute = Int(DP_MAX_ROUTE_UPSTREAMS)

    public var routes: [Route]
    /// Server blocks whose rules run before any answer; none: nothing runs.
    public var blocks: [Block] = []
    /// From the client's query to SERVFAIL when every upstream fails.
    public var timeout: Duration
    /// One upstream's turn before the next is tried.
    public var attemptTimeout: Duration

    /// A server block's zones, and its rules: a query goes to the block of
    /// the longest zone it lies under, whose rewrite rules, then
    /// templates, apply to it.
    public struct Block: Sendable, Equatable {
        public var zones: [DNSName]
        public var rewrites: [RewriteRule]
        public var templates: [TemplateRule]
        public var autopath: Autopath?

        public init(zones: [DNSName], rewrites: [RewriteRule], templates: [TemplateRule] = [], autopath: Autopath? = nil) {
            self.zones = zones
            self.rewrites = rewrites
            self.templates = templates
            self.autopath = autopath
        }

        /// Whether it has any rule to run.
        public var hasRules: Bool { !rewrites.isEmpty || !templates.isEmpty || autopath != nil }
    }

    /// Search domains of an autopath at most (after a pod's own three).
    public static let maxAutopathSearch = Int(DP_MAX_AUTOPATH_SEARCH)

    /// A block's autopath: the zones whose queries walk a search path,
    /// the pods' own first (`<ns>.svc.<cluster domain>` from the clients'
    /// index) when `pods` is given, then `search`.
    public struct Autopath: Sendable, Equatable {
        public var zones: [DNSName]
        public var pods: (indexApex: DNSName, clusterDomain: DNSName)?
        public var search: [DNSName]

        public init(zones: [DNSName], pods: (indexApex: DNSName, clusterDomain: DNSName)?, search: [DNSName]) {
            self.zones = zones
            self.pods = pods
            self.search = search
        }

        public static func == (a: Autopath, b: Autopath) -> Bool {
            a.zones == b.zones && a.search == b.search && a.pods?.indexApex == b.pods?.indexApex
                && a.pods?.clusterDomain == b.pods?.clusterDomain
        }
    }

    public init(routes: [Route], blocks: [Block] = [], timeout: Duration, attemptTimeout: Duration) {
        self.routes = routes
        self.blocks = blocks
        self.timeout = timeout
        self.attemptTimeout = attemptTimeout
    }

    func makeC() throws(DataPlaneError) -> OpaquePointer {
        var err = [CChar](repeating: 0, count: 512)
        guard let f = dp_forwarding_new(UInt32(timeout.wholeMilliseconds), UInt32(attemptTimeout.wholeMilliseconds)) else {
            throw DataPlaneError("out of memory")
        }
        for route in routes {
            var status = route.domain.wire.withUnsafeBufferPointer { dp_forwarding_add_route(f, $0.baseAddress, $0.count, &err, err.count) }
            for upstream in route.upstreams where status == 0 {
                status =
                    upstream.tls
                    ? dp_forwarding_add_upstream_tls(f, upstream.host, upstream.port, &err, err.count)
                    : dp_forwarding_add_upstream(f, upstream.host, upstream.port, &err, err.count)
            }
            if status == 0, route.upstreams.contains(where: \.tls) {
                let tls = route.tls
                status = dp_forwarding_set_route_tls(
                    f, tls.serverName, tls.ca, tls.certificate, tls.key, UInt32(clamping: tls.expire.wholeMilliseconds), &err, err.count)
            }
            if status == 0 {
                status = dp_forwarding_set_route_options(
                    f, route.order.c, route.forceTCP, route.cached, UInt32(max(0, route.maxFails)), &err, err.count)
            }
            if status == 0 {
                status = dp_forwarding_set_route_cache_ttls(f, route.cacheMaxTTL, route.cacheMaxNegativeTTL, &err, err.count)
            }
            guard status == 0 else {
                dp_forwarding_free(f)
                throw DataPlaneError(err)
            }
        }
        do {
            for block in blocks { try block.add(to: f) }
        } catch {
            dp_forwarding_free(f)
            throw error
        }
        return f
    }
}

extension Forwarding.Block {
    fileprivate func add(to f: OpaquePointer) throws(DataPlaneError) {
        var err = [CChar](repeating: 0, count: 512)
        var status = dp_forwarding_add_block(f, &err, err.count)
        for zone in zones where status == 0 {
            status = zone.wire.withUnsafeBufferPointer { dp_forwarding_add_block_zone(f, $0.baseAddress, $0.count, &err, err.count) }
        }
        for rule in rewrites where status == 0 {
            status = rule.add(to: f, &err)
        }
        for template in templates where status == 0 {
            status = template.add(to: f, &err)
        }
        if let autopath, status == 0 {
            status =
                autopath.pods.map { pods in
                    pods.indexApex.wire.withUnsafeBufferPointer { apex in
                        pods.clusterDomain.wire.withUnsafeBufferPointer { zone in
                            dp_forwarding_set_autopath(f, apex.baseAddress, apex.count, zone.baseAddress, zone.count, &err, err.count)
                        }
                    }
                } ?? dp_forwarding_set_autopath(f, nil, 0, nil, 0, &err, err.count)
            for zone in autopath.zones where status == 0 {
                status = zone.wire.withUnsafeBufferPointer { dp_forwarding_add_autopath_zone(f, $0.baseAddress, $0.count, &err, err.count) }
            }
            for domain in autopath.search where status == 0 {
                status = domain.wire.withUnsafeBufferPointer {
                    dp_forwarding_add_autopath_search(f, $0.baseAddress, $0.count, &err, err.count)
                }
            }
        }
        guard status == 0 else { throw DataPlaneError(err) }
    }
}

extension TemplateRule {
    /// The template as the data plane's, added to the last block.
    fileprivate func add(to f: OpaquePointer, _ err: inout [CChar]) -> Int32 {
        var status = dp_forwarding_add_template(f, qclass, qtype.rawValue, rcode, fallthroughZones != nil, &err, err.count)
        for (zone, fallsThrough) in zones.map({ ($0, false) }) + (fallthroughZones ?? []).map({ ($0, true) }) where status == 0 {
            status = zone.wire.withUnsafeBufferPointer {
                dp_forwarding_add_template_zone(f, $0.baseAddress, $0.count, fallsThrough, &err, err.count)
            }
        }
        for pattern in patterns where status == 0 {
            let named = pattern.namedGroups.map { Int8(clamping: $0) }
            status = named.withUnsafeBufferPointer {
                dp_forwarding_add_template_match(f, pattern.posix, $0.baseAddress, $0.count, &err, err.count)
            }
        }
        let sections: [(dp_template_section, [Text])] = [
            (DP_TEMPLATE_ANSWER, answer), (DP_TEMPLATE_ADDITIONAL, additional), (DP_TEMPLATE_AUTHORITY, authority),
        ]
        for (section, records) in sections {
            for record in records where status == 0 {
                status = dp_forwarding_add_template_record(f, section, record.marked, &err, err.count)
            }
        }
        return status
    }
}

extension RewriteRule {
    /// The rule as the data plane's spec, added to the last block.
    fileprivate func add(to f: OpaquePointer, _ err: inout [CChar]) -> Int32 {
        var spec = dp_rewrite_spec()
        spec.stop = stop
        switch action {
        case .type(let from, let to):
            spec.field = DP_REWRITE_TYPE
            (spec.from_code, spec.to_code) = (from.rawValue, to.rawValue)
            return dp_forwarding_add_rewrite(f, &spec, &err, err.count)
        case .class(let from, let to):
            spec.field = DP_REWRITE_CLASS
            (spec.from_code, spec.to_code) = (from, to)
            return dp_forwarding_add_rewrite(f, &spec, &err, err.count)
        case .ttl(let match, let name, let min, let max):
            spec.field = DP_REWRITE_TTL
            spec.match = match.c
            (spec.ttl_min, spec.ttl_max) = (min, max)
            return name.withCString { from in
                spec.from = from
                return dp_forwarding_add_rewrite(f, &spec, &err, err.count)
            }
        case .name(let match, let from, let to, let answerAuto, let answerNames):
            spec.field = DP_REWRITE_NAME
            spec.match = match.c
            spec.answer_auto = answerAuto
            var status = from.withCString { fromText in
                to.withCString { toText in
                    spec.from = fromText
                    spec.to = toText
                    return dp_forwarding_add_rewrite(f, &spec, &err, err.count)
                }
            }
            for answer in answerNames where status == 0 {
                status = dp_forwarding_add_rewrite_answer(f, answer.pattern, answer.replacement, &err, err.count)
            }
            return status
        }
    }
}

extension RewriteRule.Match {
    var c: dp_match_kind {
        switch self {
        case .exact: DP_MATCH_EXACT
        case .prefix: DP_MATCH_PREFIX
        case .suffix: DP_MATCH_SUFFIX
        case .substring: DP_MATCH_SUBSTRING
        case .regex: DP_MATCH_REGEX
        }
    }
}

extension Forwarding.Route.Order {
    var c: dp_upstream_order {
        switch self {
        case .sequential: DP_ORDER_SEQUENTIAL
        case .roundRobin: DP_ORDER_ROUND_ROBIN
        case .random: DP_ORDER_RANDOM
        }
    }
}

extension Duration {
    /// Whole milliseconds, for the C side's clocks.
    var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
