import DataPlane
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Open files: the soft limit raised to the hard one at start, then the
/// caps that hold descriptors (DNS-over-TCP connections, forwarded queries
/// in flight, each with its socket, and HTTP connections) fitted inside it
/// with a reserve, so that however many clients connect, the probes and
/// the data plane's own sockets still get one.
struct DescriptorBudget {
    /// Listeners, upstream TCP, the API client, files read, logs.
    static let reserve = 64

    var limit: Int
    var tcpConnections: Int
    var forwardedQueries: Int
    var httpConnectionsPerPort: Int

    /// The soft limit, raised to the hard one.
    static func raisedLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur >= rlim_t(Int.max / 4) ? Int.max / 4 : Int(limit.rlim_cur)
    }

    /// What fits in `limit`: HTTP first (an eighth of what is left at most,
    /// so the probes keep room), then TCP and forwarding in the proportion asked.
    static func fit(
        limit: Int, threads: Int, tcpConnections: Int, forwardedQueries: Int, httpPorts: Int, httpConnectionsPerPort: Int
    ) -> DescriptorBudget {
        let available = max(0, limit - reserve - 4 * threads)
        let http = min(httpConnectionsPerPort, max(4, available / 8 / max(1, httpPorts)))
        let rest = max(0, available - http * httpPorts)
        var budget = DescriptorBudget(
            limit: limit, tcpConnections: tcpConnections, forwardedQueries: forwardedQueries, httpConnectionsPerPort: http)
        if tcpConnections + forwardedQueries > rest {
            let share = Double(rest) / Double(tcpConnections + forwardedQueries)
            budget.tcpConnections = max(threads, Int(Double(tcpConnections) * share))
            budget.forwardedQueries = max(threads, Int(Double(forwardedQueries) * share))
        }
        return budget
    }

    /// Fits `configuration` and the HTTP cap into the process's limit, and says so when it cuts.
    static func apply(
        to configuration: inout DNSServer.Configuration, httpPorts: Int, httpConnectionsPerPort: Int, logger: Logger
    ) -> DescriptorBudget {
        let budget = fit(
            limit: raisedLimit(), threads: configuration.threads, tcpConnections: configuration.tcpMaxConnections,
            forwardedQueries: configuration.forwardMaxConcurrent, httpPorts: httpPorts,
            httpConnectionsPerPort: httpConnectionsPerPort)
        let metadata: Logger.Metadata = [
            "limit": "\(budget.limit)", "tcp connections": "\(budget.tcpConnections)",
            "forwarded queries": "\(budget.forwardedQueries)", "http connections per port": "\(budget.httpConnectionsPerPort)",
        ]
        if budget.tcpConnections < configuration.tcpMaxConnections || budget.forwardedQueries < configuration.forwardMaxConcurrent
            || budget.httpConnectionsPerPort < httpConnectionsPerPort
        {
            logger.notice("open-file limit too low for the caps asked; caps lowered to fit", metadata: metadata)
        } else {
            logger.info("open-file limit", metadata: metadata)
        }
        configuration.tcpMaxConnections = budget.tcpConnections
        configuration.forwardMaxConcurrent = budget.forwardedQueries
        return budget
    }
}
