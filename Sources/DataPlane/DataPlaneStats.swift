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

/// Observations in buckets: per bucket (not cumulative), the last for
/// larger than every bound, and the sum of what was observed.
public struct Histogram: Sendable, Equatable {
    public var counts: [UInt64]
    public var sum: Double

    public init(counts: [UInt64], sum: Double) { (self.counts, self.sum) = (counts, sum) }

    public var count: UInt64 { counts.reduce(0, +) }
}

/// What made a reply: the `plugin` label of CoreDNS's responses metric.
public enum ReplySource: Int, CaseIterable, Sendable {
    /// A malformed query, a name of no route.
    case none
    /// The answer table (the cluster's records).
    case table
    case hosts
    case cache
    /// An upstream's reply, or the forwarder giving up on it.
    case forward
    case template
}

/// The data plane's counters, summed over workers at the time of reading.
public struct DataPlaneStats: Sendable, Equatable {
    /// Requests counted by transport, the client's address family and type.
    public struct RequestKey: Sendable, Hashable {
        /// `udp`, `tcp`.
        public var transport: String
        /// 4 or 6.
        public var family: Int
        /// `A`, ..., `other` (countedTypes).
        public var type: String

        public init(transport: String, family: Int, type: String) { (self.transport, self.family, self.type) = (transport, family, type) }
    }

    /// Every counter of the list (DataPlaneCounter.all), by its field.
    public var counters: [String: UInt64]
    /// Replies by what made them, then the header's RCODE (index 0 is NOERROR).
    public var repliesBySource: [ReplySource: [UInt64]]
    public var requests: [RequestKey: UInt64]
    /// Sizes of requests and of replies (`sizeBounds`), in the order of `transports`.
    public var requestSizes: [Histogram]
    public var replySizes: [Histogram]
    /// How long replies took (`durationBounds`, seconds).
    public var durations: Histogram
    /// The cache's positive answers and denials (NXDOMAIN, NODATA), and
    /// how many of each it evicted.
    public var cacheEntries: CacheKinds
    public var cacheEvictions: CacheKinds

    /// A count of the cache's, for each kind of answer it keeps.
    public struct CacheKinds: Sendable, Equatable {
        public var success: UInt64
        public var denial: UInt64
    }

    /// A counter of the list by its C field (`forward_over_cap`); nil for a name not in the list.
    public subscript(_ field: String) -> UInt64? { counters[field] }

    /// Replies by RCODE, whatever made them.
    public var replies: [UInt64] {
        (0..<16).map { rcode in repliesBySource.values.reduce(0) { $0 + $1[rcode] } }
    }

    /// The transports, in the order of the C arrays.
    public static let transports = ["udp", "tcp"]
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
        let bySource = counts(s.rcode)
        repliesBySource = Dictionary(
            uniqueKeysWithValues: ReplySource.allCases.map { ($0, Array(bySource[$0.rawValue * 16..<($0.rawValue + 1) * 16])) })
        let perRequest = counts(s.requests)
        let types = Int(DP_QTYPE_BUCKETS)
        requests = [:]
        for (t, transport) in Self.transports.enumerated() {
            for (f, family) in [4, 6].enumerated() {
                for (bucket, type) in Self.countedTypes.enumerated() {
                    requests[RequestKey(transport: transport, family: family, type: type)] =
                        perRequest[(t * 2 + f) * types + bucket]
                }
            }
        }
        let sizes = Int(DP_SIZE_BUCKETS) + 1
        let requestBuckets = counts(s.request_size_bucket)
        let replyBuckets = counts(s.size_bucket)
        let requestSums = counts(s.request_size_sum)
        let replySums = counts(s.size_sum)
        requestSizes = Self.transports.indices.map { t in
            Histogram(counts: Array(requestBuckets[t * sizes..<(t + 1) * sizes]), sum: Double(requestSums[t]))
        }
        replySizes = Self.transports.indices.map { t in
            Histogram(counts: Array(replyBuckets[t * sizes..<(t + 1) * sizes]), sum: Double(replySums[t]))
        }
        durations = Histogram(counts: counts(s.duration_bucket), sum: Double(s.duration_sum_us) / 1_000_000)
        cacheEntries = CacheKinds(success: s.cache_entries.0, denial: s.cache_entries.1)
        cacheEvictions = CacheKinds(success: s.cache_evictions.0, denial: s.cache_evictions.1)
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
    /// Probes of it, while set aside, that failed.
    public var healthFailures: UInt64
    /// Its replies by RCODE (the mnemonic), by how long they took from the
    /// query sent (`DataPlaneStats.durationBounds`); RCODEs it never gave are absent.
    public var durations: [String: Histogram]

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
        healthFailures = s.health_failures
        let buckets = counts(s.duration_bucket)
        let sums = counts(s.duration_sum_us)
        let width = Int(DP_DURATION_BUCKETS) + 1
        durations = [:]
        for rcode in 0..<16 {
            let counts = Array(buckets[rcode * width..<(rcode + 1) * width])
            guard counts.contains(where: { $0 > 0 }) else { continue }
            durations[ResponseCode.mnemonic(UInt8(rcode))] = Histogram(counts: counts, sum: Double(sums[rcode]) / 1_000_000)
        }
    }
}
