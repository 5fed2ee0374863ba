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

    init(_ s: dp_stats) {
        udpQueries = s.udp_queries
        tcpQueries = s.tcp_queries
        dropped = s.dropped
        replies = withUnsafeBytes(of: s.rcode) { Array($0.bindMemory(to: UInt64.self)) }
        truncated = s.truncated
        sendFailed = s.send_failed
        tcpConnections = s.tcp_connections
        tcpRefused = s.tcp_refused
    }
}
