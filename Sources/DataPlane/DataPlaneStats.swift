import CDataPlane
import DNSModel

/// The data plane's counters, summed over workers at the time of reading.
public struct DataPlaneStats: Sendable, Equatable {
    public var udpQueries: UInt64
    public var tcpQueries: UInt64
    /// Queries that got no reply: responses, runts.
    public var dropped: UInt64
    /// Replies by the header's RCODE (index 0 is NOERROR).
    public var replies: [UInt64]
    /// UDP replies sent with TC set.
    public var truncated: UInt64
    /// UDP replies the kernel would not take (a full socket buffer).
    public var sendFailed: UInt64
    public var tcpConnections: UInt64
    /// TCP connections closed at once because of the connection cap.
    public var tcpRefused: UInt64
    /// Queries sent upstream (cache misses that found room).
    public var forwarded: UInt64
    public var cacheHits: UInt64
    public var cacheMisses: UInt64
    /// SERVFAIL at once: too many forwarded queries in flight.
    public var forwardOverCap: UInt64
    /// SERVFAIL after every upstream failed.
    public var forwardFailed: UInt64
    /// Stale answers given while every upstream failed (RFC 8767).
    public var staleServed: UInt64
    /// Loop probes that came back to us.
    public var loopsRefused: UInt64
    public var cacheEntries: UInt64
    /// Requests by transport (`udp`, `tcp`) and type (`A`, ..., `other`).
    public var requests: [String: [String: UInt64]]
    /// Replies by size: per bucket (not cumulative), the last for larger
    /// than every bound (`sizeBounds`), and the sum of their sizes.
    public var sizeBuckets: [UInt64]
    public var sizeSum: UInt64
    /// Replies by how long they took, likewise (`durationBounds`).
    public var durationBuckets: [UInt64]
    public var durationSum: Duration

    /// The types counted apart, in the order of the C buckets; the last is "other".
    public static let countedTypes: [String] = (0..<Int(DP_QTYPE_BUCKETS)).map { bucket in
        typeName(dp_stats_qtype(UInt32(bucket)))
    }
    /// Upper bounds of the size buckets, in bytes.
    public static let sizeBounds: [Double] = (0..<Int(DP_SIZE_BUCKETS)).map { Double(dp_stats_size_bound(UInt32($0))) }
    /// Upper bounds of the duration buckets, in seconds.
    public static let durationBounds: [Double] = (0..<Int(DP_DURATION_BUCKETS)).map {
        Double(dp_stats_duration_bound_us(UInt32($0))) / 1_000_000
    }

    /// A bucket's type by its mnemonic; 0 is the bucket of every other type.
    static func typeName(_ type: UInt16) -> String {
        type == 0 ? "other" : RecordType(rawValue: type).description
    }

    init(_ s: dp_stats) {
        udpQueries = s.udp_queries
        tcpQueries = s.tcp_queries
        dropped = s.dropped
        replies = counts(s.rcode)
        truncated = s.truncated
        sendFailed = s.send_failed
        tcpConnections = s.tcp_connections
        tcpRefused = s.tcp_refused
        forwarded = s.forwarded
        cacheHits = s.cache_hits
        cacheMisses = s.cache_misses
        forwardOverCap = s.forward_over_cap
        forwardFailed = s.forward_failed
        staleServed = s.stale_served
        loopsRefused = s.loops_refused
        cacheEntries = s.cache_entries
        let perTransport = counts(s.requests)
        let buckets = Int(DP_QTYPE_BUCKETS)
        requests = [:]
        for (index, transport) in ["udp", "tcp"].enumerated() {
            var byType: [String: UInt64] = [:]
            for (bucket, type) in Self.countedTypes.enumerated() { byType[type] = perTransport[index * buckets + bucket] }
            requests[transport] = byType
        }
        sizeBuckets = counts(s.size_bucket)
        sizeSum = s.size_sum
        durationBuckets = counts(s.duration_bucket)
        durationSum = .microseconds(Int64(clamping: s.duration_sum_us))
    }
}

/// The counters of a C array (a tuple in Swift), in order.
private func counts<Tuple>(_ array: Tuple) -> [UInt64] {
    withUnsafeBytes(of: array) { Array($0.bindMemory(to: UInt64.self)) }
}

/// One upstream address the server has forwarded to, and how it went.
public struct UpstreamStats: Sendable, Equatable {
    /// `ip:port`, or `[ip]:port`.
    public var address: String
    public var queries: UInt64
    public var replies: UInt64
    public var timeouts: UInt64
    /// Refused, unreachable, malformed.
    public var errors: UInt64
    /// Truncated over UDP and asked again over TCP.
    public var tcpRetries: UInt64
    /// Replies dropped for a wrong ID or question.
    public var mismatched: UInt64
    /// Set aside after repeated failures, probed until it answers.
    public var down: Bool
    /// Sends our own queries back to us: never used.
    public var looped: Bool

    init(_ s: dp_upstream_stats) {
        address = withUnsafeBytes(of: s.address) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        queries = s.queries
        replies = s.replies
        timeouts = s.timeouts
        errors = s.errors
        tcpRetries = s.tcp_retries
        mismatched = s.mismatched
        down = s.down != 0
        looped = s.looped != 0
    }
}
