import Corefile

/// The `cache` plugins' settings for the one cache of forwarded answers.
/// CoreDNS keeps a cache per block and kind; here both kinds share one of
/// their capacities summed, with the longest TTLs any block allows.
public struct CachePlan: Sendable, Equatable {
    /// Entries at most; 0 when no block caches.
    public var capacity = 0
    public var maxTTL: UInt32 = 0
    public var maxNegativeTTL: UInt32 = 0
    /// How long past their TTL answers may be served while upstreams fail; zero: never.
    public var serveStale: Duration = .zero
    /// Replies keep the upstream's TTLs (`keepttl` in any block).
    public var keepTTL = false
    /// The most eager `prefetch` of any block; nil: none.
    public var prefetch: CachePlugin.Prefetch?
    /// Settings this server does in its own way, for the log.
    public var notes: [String] = []

    public init(capacity: Int = 0, maxTTL: UInt32 = 0, maxNegativeTTL: UInt32 = 0, serveStale: Duration = .zero) {
        (self.capacity, self.maxTTL, self.maxNegativeTTL, self.serveStale) = (capacity, maxTTL, maxNegativeTTL, serveStale)
    }

    init(_ configurations: [ServerConfiguration]) {
        var notes: Set<String> = []
        for case .cache(let cache) in configurations.flatMap(\.plugins) {
            capacity = max(capacity, cache.success.capacity + cache.denial.capacity)
            maxTTL = max(maxTTL, cache.success.maxTTL)
            maxNegativeTTL = max(maxNegativeTTL, cache.denial.maxTTL)
            if let stale = cache.serveStale { serveStale = max(serveStale, stale) }
            if let asked = cache.prefetch, prefetch.map({ asked.amount < $0.amount || asked.percentage > $0.percentage }) ?? true {
                prefetch = asked
            }
            keepTTL = keepTTL || cache.keepTTL
            if cache.success.minTTL != 5 || cache.denial.minTTL != 5 {
                notes.insert("cache minimum TTL: answers are kept for their own TTL, however short")
            }
            if cache.servfailTTL != .seconds(5) { notes.insert("cache servfail: SERVFAIL is never cached") }
        }
        self.notes = notes.sorted()
    }
}
