import ArgumentParser
import DNSModel
import DataPlane
import Foundation
import Logging
import Upstreams

/// Flags of forwarding: where names outside the cluster go, and the cache.
struct ForwardFlags: ParsableArguments {
    @Option(help: "Upstreams for names outside the cluster, ip[:port],... (default: the nameservers of /etc/resolv.conf).")
    var nameservers: String?

    @Option(
        name: [.customLong("config-dir"), .customLong("config_dir")],
        help: "Directory of the kube-dns ConfigMap: files stubDomains and upstreamNameservers, re-read every --config-period.")
    var configDir = "/kube-dns-config"

    @Option(name: [.customLong("config-period"), .customLong("config_period")], help: "How often --config-dir is read again.")
    var configPeriod = GoDuration(.seconds(10), "10s")

    @Option(name: .customLong("forward-timeout"), help: "From a forwarded query to SERVFAIL when no upstream answers.")
    var forwardTimeout = GoDuration(.seconds(2), "2s")

    @Option(name: .customLong("max-concurrent-forwards"), help: "Forwarded queries in flight at most; beyond, SERVFAIL at once.")
    var maxConcurrentForwards = 4096

    @Option(name: .customLong("cache-size"), help: "Forwarded answers the cache keeps at most (0: no cache).")
    var cacheSize = 10_000

    @Option(
        name: .customLong("serve-stale"),
        help: "Serve expired answers this long past their TTL while every upstream fails (RFC 8767; 0s: never).")
    var serveStale = GoDuration(.zero, "0s")

    func validate() throws {
        try FlagRange.check("max-concurrent-forwards", maxConcurrentForwards, 1...65536)
        try FlagRange.check("cache-size", cacheSize, 0...10_000_000)
        try FlagRange.check("forward-timeout", forwardTimeout, .milliseconds(100) ... .seconds(60))
        try FlagRange.check("config-period", configPeriod, .milliseconds(100) ... .seconds(86400))
        // RFC 8767 section 5: a stale answer is served for 1 to 3 days at most, 7 days being the cap.
        try FlagRange.check("serve-stale", serveStale, .zero ... .seconds(7 * 86400))
        if let nameservers {
            let upstreams: [Forwarding.Upstream]
            do { upstreams = try UpstreamAddress.parseList(nameservers) } catch { throw ValidationError("--nameservers: \(error)") }
            guard upstreams.count <= Forwarding.maxUpstreamsPerRoute else {
                throw ValidationError("--nameservers: \(upstreams.count) servers; at most \(Forwarding.maxUpstreamsPerRoute)")
            }
        }
    }

    /// `--nameservers`, else resolv.conf's (none when it cannot be read).
    func defaultNameservers() throws -> [Forwarding.Upstream] {
        if let nameservers { return try UpstreamAddress.parseList(nameservers) }
        let text = (try? String(contentsOfFile: ResolvConf.path, encoding: .utf8)) ?? ""
        return ResolvConf.nameservers(in: text)
    }

    /// The upstreams these flags and the ConfigMap directory give.
    func follower(clusterDomain: DNSName, logger: Logger) throws -> ForwardingFollower {
        ForwardingFollower(
            nameservers: try defaultNameservers(), configDirectory: configDir, period: configPeriod.duration,
            clusterDomain: clusterDomain, timeout: forwardTimeout.duration, logger: logger)
    }

    func apply(to configuration: inout DNSServer.Configuration) {
        configuration.forwardMaxConcurrent = maxConcurrentForwards
        configuration.cacheSize = cacheSize
        configuration.serveStale = serveStale.duration
    }
}
