import DataPlane
import Logging

/// Logs upstreams that go down, come back, or turn out to be loops, once
/// each time, from the data plane's counters read every second.
public struct UpstreamHealthLog: Sendable {
    private var reported: [String: (down: Bool, looped: Bool)] = [:]
    private let logger: Logger

    public init(logger: Logger) { self.logger = logger }

    /// Reports `server`'s upstreams every second, until cancelled.
    public static func follow(_ server: DNSServer, logger: Logger) async {
        var log = UpstreamHealthLog(logger: logger)
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            log.report(server.upstreamStats())
        }
    }

    public mutating func report(_ stats: [UpstreamStats]) {
        for upstream in stats {
            let before = reported[upstream.address] ?? (false, false)
            if upstream.looped, !before.looped {
                logger.error(
                    "forwarding loop: the upstream sends our queries back to us; not used", metadata: ["upstream": "\(upstream.address)"])
            }
            if upstream.down != before.down {
                if upstream.down {
                    logger.warning(
                        "upstream down; probing it",
                        metadata: ["upstream": "\(upstream.address)", "timeouts": "\(upstream.timeouts)", "errors": "\(upstream.errors)"])
                } else {
                    logger.notice("upstream up", metadata: ["upstream": "\(upstream.address)"])
                }
            }
            reported[upstream.address] = (upstream.down, upstream.looped)
        }
    }
}
