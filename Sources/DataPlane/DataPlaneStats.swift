import CDataPlane
import DNSModel

/// One counter of the data plane's list (dataplane.h, DP_COUNTERS).
public struct DataPlaneCounter: Sendable, Hashable {
    /// Its field in the C structures (`cache_hits`).
    public let field: String
    /// Its metric under /metrics, nil for none.
    public let metric: String?
    /// Whether the metric carries the `server` label.
    public let hasServerLabel: Bool
    public let help: String
    let offset: Int

    /// Every counter of the list, in its order.
    public static let all: [DataPlaneCounter] = (0..<dp_counter_count()).map { index in
        let info = dp_counter_describe(index)!.pointee
        let metric = String(cString: info.metric)
        return DataPlaneCounter(
            field: String(cString: info.field), metric: metric.isEmpty ? nil : metric, hasServerLabel: info.server_label != 0,
            help: String(cString: info.help), offset: info.offset)
    }
}

/// The data plane's counters, summed over workers at the time of reading.
public struct DataPlaneStats: Sendable, Equatable {
    /// Every counter of the list (DataPlaneCounter.all), by its field.
    public var counters: [String: UInt64]
    /// Replies by the header's RCODE (index 0 is NOERROR).
    public var replies: [UInt64]
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

    /// A counter of the list by its C field (`forward_over_cap`); nil for a name not in the list.
    public subscript(_ field: String) -> UInt64? { counters[field] }

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
        counters = withUnsafeBytes(of: s) { bytes in
            Dictionary(
                uniqueKeysWithValues: DataPlaneCounter.all.map { ($0.field, bytes.load(fromByteOffset: $0.offset, as: UInt64.self)) })
        }
        replies = counts(s.rcode)
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
