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
        guard maxConcurrentForwards >= 1 else { throw ValidationError("--max-concurrent-forwards: at least 1") }
        guard cacheSize >= 0 else { throw ValidationError("--cache-size: not negative") }
        guard forwardTimeout.duration >= .milliseconds(100) else { throw ValidationError("--forward-timeout: at least 100ms") }
        guard configPeriod.duration >= .milliseconds(100) else { throw ValidationError("--config-period: at least 100ms") }
        if let nameservers {
            do { _ = try UpstreamAddress.parseList(nameservers) } catch { throw ValidationError("--nameservers: \(error)") }
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
