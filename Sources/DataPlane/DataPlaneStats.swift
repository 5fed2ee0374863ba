import CDataPlane

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

    init(_ s: dp_stats) {
        udpQueries = s.udp_queries
        tcpQueries = s.tcp_queries
        dropped = s.dropped
        replies = withUnsafeBytes(of: s.rcode) { Array($0.bindMemory(to: UInt64.self)) }
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
    }
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
