import ArgumentParser
import Upstreams

/// Flags of the DNS server process, shared by the default command and
/// `skydns`: workers, TCP limits, the probe and metrics ports, shutdown.
struct ServerFlags: ParsableArguments {
    @Option(name: .customLong("threads"), help: "DNS worker threads (default: the number of cores).")
    var threads: Int?

    @Option(name: .customLong("tcp-max-connections"), help: "Open DNS-over-TCP connections at most, over all workers.")
    var tcpMaxConnections = 1024

    @Option(name: .customLong("tcp-idle-timeout"), help: "Seconds before an idle DNS-over-TCP connection is closed (RFC 7766).")
    var tcpIdleTimeout = 10

    @Option(
        name: [.customLong("metrics-port"), .customLong("metrics_port")],
        help: "Port of GET /metrics (Prometheus text); 0: the kernel's choice.")
    var metricsPort = 10055

    @Option(
        name: .customLong("http-bind-address"),
        help: "Address of the HTTP ports (/readiness, /healthz, /metrics), IPv4 or IPv6.")
    var httpBindAddress = "0.0.0.0"

    @Option(
        name: .customLong("lameduck"),
        help: "On SIGTERM or SIGINT, keep answering this long after /readiness turns 503, so clients and the Service move away first.")
    var lameduck = GoDuration(.seconds(5), "5s")

    @Option(
        name: .customLong("rrl-responses-per-second"),
        help:
            "Response rate limiting for a DNS port reachable from outside the cluster: UDP replies a second to each source prefix at most (0: off)."
    )
    var rrlResponsesPerSecond = 0

    @Option(
        name: .customLong("rrl-slip"),
        help: "Of the replies over the rate limit, every Nth goes out truncated (TC) instead of being dropped (0: none).")
    var rrlSlip = 2

    @Option(name: .customLong("rrl-ipv4-prefix-length"), help: "The IPv4 prefix that shares one rate limit.")
    var rrlIPv4PrefixLength = 24

    @Option(name: .customLong("rrl-ipv6-prefix-length"), help: "The IPv6 prefix that shares one rate limit.")
    var rrlIPv6PrefixLength = 56

    @Option(
        name: .customLong("port-file"),
        help: "Write the ports bound (dns, healthz, metrics), one name=port a line, to this file once they are bound.")
    var portFile: String?

    @Option(name: [.customShort("v"), .customLong("v")], help: "Log verbosity: 0 notices and errors, 2 routine events, 4 debugging.")
    var verbosity = 0

    func validate() throws {
        if let threads { try FlagRange.check("threads", threads, 1...1024) }
        try FlagRange.check("tcp-max-connections", tcpMaxConnections, 1...65536)
        try FlagRange.check("tcp-idle-timeout", tcpIdleTimeout, 1...3600)
        try FlagRange.check("metrics-port", metricsPort, FlagRange.port)
        guard UpstreamAddress.isAddress(httpBindAddress) else {
            throw ValidationError("--http-bind-address \(httpBindAddress): not an IP address")
        }
        try FlagRange.check("lameduck", lameduck, .zero ... .seconds(3600))
        try FlagRange.check("v", verbosity, 0...10)
        try FlagRange.check("rrl-responses-per-second", rrlResponsesPerSecond, 0...1_000_000)
        try FlagRange.check("rrl-slip", rrlSlip, 0...10)
        try FlagRange.check("rrl-ipv4-prefix-length", rrlIPv4PrefixLength, 0...32)
        try FlagRange.check("rrl-ipv6-prefix-length", rrlIPv6PrefixLength, 0...128)
    }
}
