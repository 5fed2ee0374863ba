import CDataPlane
import DNSModel

/// Where the data plane sends names that are not ours: each domain with
/// its upstreams (a name goes to the longest domain it lies under; the root
/// is the default), and how long a query may take.
public struct Forwarding: Sendable, Equatable {
    public struct Upstream: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: UInt16

        public init(host: String, port: UInt16 = 53) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
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

        public init(_ domain: DNSName, _ upstreams: [Upstream]) {
            self.domain = domain
            self.upstreams = upstreams
        }
    }

    /// Upstreams of one route (one domain) at most.
    public static let maxUpstreamsPerRoute = Int(DP_MAX_ROUTE_UPSTREAMS)

    public var routes: [Route]
    /// From the client's query to SERVFAIL when every upstream fails.
    public var timeout: Duration
    /// One upstream's turn before the next is tried.
    public var attemptTimeout: Duration

    public init(routes: [Route], timeout: Duration, attemptTimeout: Duration) {
        self.routes = routes
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
                status = dp_forwarding_add_upstream(f, upstream.host, upstream.port, &err, err.count)
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
        return f
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
