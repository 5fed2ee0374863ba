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
    /// Stub-domain servers given by name, and their addresses.
    let resolver: StubNameResolver

    public init(
        nameservers: [Forwarding.Upstream], configDirectory: String, period: Duration, clusterDomain: DNSName,
        timeout: Duration, logger: Logger, resolver: StubNameResolver = StubNameResolver()
    ) {
        self.resolver = resolver
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
        let config: ConfigDirectory
        do {
            config = try read()
        } catch {
            logger.error("upstream configuration invalid; using the defaults", metadata: ["error": "\(error)"])
            config = ConfigDirectory()
        }
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
        var resolved: [DNSName: [String]] = [:]
        // Stub servers given by name: resolved through the default upstreams
        // before the first period, then again when their TTL runs out.
        func resolve(_ config: ConfigDirectory, force: Bool) async -> [DNSName: [String]] {
            let names = config.stubServerNames
            guard !names.isEmpty, force || resolver.isDue(names) else { return names.isEmpty ? [:] : resolved }
            return await resolver.resolve(names, through: config.upstreamNameservers ?? nameservers)
        }
        if !config.stubServerNames.isEmpty {
            resolved = await resolve(config, force: true)
            apply(config, resolved: resolved, to: server, ourselves: ourselves)
        }
        // What start() said, if the directory is still as it was then.
        var problem: String? = {
            do {
                _ = try read()
                return nil
            } catch { return "\(error)" }
        }()
        while !Task.isCancelled {
            _ = await pause(period)
            let config: ConfigDirectory
            do {
                config = try read()
                problem = nil
            } catch {
                // Said once; an unchanged bad file is not news every period.
                if problem != error.description {
                    logger.error("upstream configuration invalid; keeping the previous one", metadata: ["error": "\(error)"])
                }
                problem = error.description
                continue
            }
            let addresses = await resolve(config, force: config != current)
            if config != current || addresses != resolved {
                if config != current {
                    logger.notice("upstream configuration reloaded", metadata: ["directory": "\(configDirectory)"])
                } else {
                    logger.notice("stub server addresses changed", metadata: ["addresses": "\(addresses)"])
                }
                (current, resolved) = (config, addresses)
                apply(config, resolved: resolved, to: server, ourselves: ourselves)
            }
        }
    }

    private func read() throws(UpstreamError) -> ConfigDirectory {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: configDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return ConfigDirectory()
        }
        return try ConfigDirectory.read(configDirectory)
    }

    private func apply(
        _ config: ConfigDirectory, resolved: [DNSName: [String]] = [:], to server: DNSServer, ourselves: SelfAddress
    ) {
        let (forwarding, ignored) = ForwardingPlan.make(
            nameservers: nameservers, config: config, clusterDomain: clusterDomain, timeout: timeout, ourselves: ourselves,
            resolved: resolved)
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
