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

    public var routes: [(domain: DNSName, upstreams: [Upstream])]
    /// From the client's query to SERVFAIL when every upstream fails.
    public var timeout: Duration
    /// One upstream's turn before the next is tried.
    public var attemptTimeout: Duration

    public init(routes: [(domain: DNSName, upstreams: [Upstream])], timeout: Duration, attemptTimeout: Duration) {
        self.routes = routes
        self.timeout = timeout
        self.attemptTimeout = attemptTimeout
    }

    public static func == (lhs: Forwarding, rhs: Forwarding) -> Bool {
        lhs.timeout == rhs.timeout && lhs.attemptTimeout == rhs.attemptTimeout
            && lhs.routes.map(\.domain) == rhs.routes.map(\.domain)
            && lhs.routes.map(\.upstreams) == rhs.routes.map(\.upstreams)
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
            guard status == 0 else {
                dp_forwarding_free(f)
                throw DataPlaneError(err)
            }
        }
        return f
    }
}

extension Duration {
    /// Whole milliseconds, for the C side's clocks.
    var wholeMilliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
