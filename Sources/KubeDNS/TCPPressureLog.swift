import DataPlane
import Logging

/// Says, at most once per interval, that DNS-over-TCP is under pressure:
/// accepting paused for lack of file descriptors, connections closed for
/// messages that did not arrive in time or to make room. The data plane
/// only counts (it never logs per connection, which a flood would turn
/// into a flood of log lines).
enum TCPPressureLog {
    static let interval: Duration = .seconds(10)
    static let counters = [
        ("tcp_accept_pauses", "accepting paused: no file descriptor left"),
        ("tcp_message_timeouts", "closed: a message not whole 2 s after its first byte"),
        ("tcp_evicted", "closed to make room for a new one: idle or incomplete the longest"),
        ("tcp_refused", "refused: over the cap with every connection busy"),
    ]

    static func follow(_ server: DNSServer, logger: Logger) async {
        var last = counts(server)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            let now = counts(server)
            for ((field, what), (before, after)) in zip(counters, zip(last, now)) where after > before {
                logger.warning(
                    "TCP connections under pressure",
                    metadata: ["what": "\(what)", "counter": "\(field)", "times": "\(after - before)", "in": "\(interval)"])
            }
            last = now
        }
    }

    private static func counts(_ server: DNSServer) -> [UInt64] {
        let stats = server.stats().counters
        return counters.map { stats[$0.0] ?? 0 }
    }
}
