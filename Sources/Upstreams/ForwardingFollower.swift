import DNSModel
import DataPlane
import Foundation
import Logging

/// Keeps the data plane's forwarding in step with its sources: the
/// nameservers (`--nameservers`, else resolv.conf) and the ConfigMap
/// directory, re-read every period. An invalid file keeps the previous
/// configuration and says why; upstreams that go down, come back, or turn
/// out to be loops are logged once each time.
public struct ForwardingFollower: Sendable {
    public var nameservers: [Forwarding.Upstream]
    public var configDirectory: String
    public var period: Duration
    public var clusterDomain: DNSName
    public var timeout: Duration
    public var logger: Logger

    public init(
        nameservers: [Forwarding.Upstream], configDirectory: String, period: Duration, clusterDomain: DNSName,
        timeout: Duration, logger: Logger
    ) {
        self.nameservers = nameservers
        self.configDirectory = configDirectory
        self.period = period
        self.clusterDomain = clusterDomain
        self.timeout = timeout
        self.logger = logger
    }

    /// Reads the sources and configures `server`, refusing upstreams that
    /// are `ourselves`; returns what was read (defaults when the directory
    /// is invalid), to follow from.
    public func start(_ server: DNSServer, ourselves: SelfAddress) -> ConfigDirectory {
        let config = read() ?? ConfigDirectory()
        apply(config, to: server, ourselves: ourselves)
        return config
    }

    /// Re-reads the directory every period, until cancelled.
    /// `pause` waits out the period, or less when a reload is asked for.
    public func run(
        _ server: DNSServer, from config: ConfigDirectory, ourselves: SelfAddress,
        pause: @Sendable (Duration) async -> Bool = { period in
            try? await Task.sleep(for: period)
            return false
        }
    ) async {
        var current = config
        while !Task.isCancelled {
            _ = await pause(period)
            if let config = read(), config != current {
                current = config
                apply(config, to: server, ourselves: ourselves)
                logger.notice("upstream configuration reloaded", metadata: ["directory": "\(configDirectory)"])
            }
        }
    }

    private func read() -> ConfigDirectory? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return ConfigDirectory()
        }
        do {
            return try ConfigDirectory.read(configDirectory)
        } catch {
            logger.error("upstream configuration invalid; keeping the previous one", metadata: ["error": "\(error)"])
            return nil
        }
    }

    private func apply(_ config: ConfigDirectory, to server: DNSServer, ourselves: SelfAddress) {
        let (forwarding, ignored) = ForwardingPlan.make(
            nameservers: nameservers, config: config, clusterDomain: clusterDomain, timeout: timeout, ourselves: ourselves)
        for reason in ignored { logger.error("upstream refused", metadata: ["reason": "\(reason)"]) }
        do {
            try server.forward(forwarding)
        } catch {
            logger.error("forwarding not configured; keeping the previous configuration", metadata: ["error": "\(error)"])
            return
        }
        logger.info("forwarding", metadata: ["routes": "\(forwarding?.summary ?? "none: names outside the cluster get REFUSED")"])
    }
}
