import DataPlane
import Foundation
import Health
import Logging
import RecordModel
import ServerMetrics
import Upstreams

/// What every DNS-serving command runs around its source of records: the
/// probe endpoint (up first), the DNS server answering SERVFAIL for the
/// domain until the first records are published, /metrics, and the
/// upstreams followed from the flags and the ConfigMap directory.
struct DNSFrontEnd {
    let server: DNSServer
    let readiness: Readiness
    private let probe: ProbeServer
    private let metricsServer: ProbeServer
    private let upstreams: ForwardingFollower
    private let upstreamConfig: ConfigDirectory

    /// Starts them all; `notReadyReason` is what /readiness says until the
    /// source calls `readiness.markReady()`.
    static func start(
        address: String, port: UInt16, healthzPort: Int, domain: DNSName, unsynced: ZoneSet, notReadyReason: String,
        server flags: ServerFlags, forwarding: ForwardFlags, metrics: MetricsRegistry, logger: Logger
    ) async throws -> DNSFrontEnd {
        let readiness = Readiness(notReadyBecause: notReadyReason)
        let liveness = WorkerLiveness()
        let probe = try await ProbeServer(
            host: "0.0.0.0", port: healthzPort,
            routes: [
                "/readiness": { readiness.notReadyReason.map(ProbeAnswer.failing) ?? .ok() },
                "/healthz": { liveness.problem().map(ProbeAnswer.failing) ?? .ok() },
            ])
        var configuration = DNSServer.Configuration(
            address: address, port: port, threads: flags.threads ?? ProcessInfo.processInfo.activeProcessorCount,
            tcpMaxConnections: flags.tcpMaxConnections, tcpIdleTimeoutMilliseconds: flags.tcpIdleTimeout * 1000)
        forwarding.apply(to: &configuration)
        let server = try DNSServer(configuration, initial: try AnswerTable(unsynced))
        let metricsServer = try await ProbeServer(
            host: "0.0.0.0", port: flags.metricsPort, routes: ["/metrics": { [weak server] in .ok(metrics.exposition(server)) }])
        let upstreams = ForwardingFollower(
            nameservers: try forwarding.defaultNameservers(), configDirectory: forwarding.configDir,
            period: forwarding.configPeriod.duration, clusterDomain: domain, timeout: forwarding.forwardTimeout.duration,
            ourselves: SelfAddress(bindAddress: address, port: server.port), logger: logger)
        let upstreamConfig = upstreams.start(server)
        try server.start()
        liveness.watch(server)
        try PortFile.write(
            ["dns": Int(server.port), "healthz": probe.port, "metrics": metricsServer.port], to: flags.portFile)
        logger.notice(
            "serving DNS",
            metadata: [
                "address": "\(address)", "port": "\(server.port)", "domain": "\(domain)",
                "healthz port": "\(probe.port)", "metrics port": "\(metricsServer.port)",
            ])
        return DNSFrontEnd(
            server: server, readiness: readiness, probe: probe, metricsServer: metricsServer,
            upstreams: upstreams, upstreamConfig: upstreamConfig)
    }

    /// Runs `tasks` and the upstreams' follower until SIGTERM or SIGINT, then
    /// the lame-duck period; then closes the endpoints and stops DNS.
    func run(_ tasks: [(name: String, run: @Sendable () async -> Void)], lameduck: Duration, logger: Logger) async throws {
        let server = server
        var all = tasks
        all.append(("upstreams", { [upstreams, upstreamConfig] in await upstreams.run(server, from: upstreamConfig) }))
        if ProcessInfo.processInfo.environment["KUBE_DNS_TEST_HOOKS"] == "1" {
            // Tests only: SIGUSR2 wedges worker 0 for 5 s, so /healthz can be seen to fail.
            all.append(
                (
                    "test hooks",
                    {
                        for await _ in Signals.stream([SIGUSR2]) { server.blockWorkerForTest(0, for: .seconds(5)) }
                    }
                ))
        }
        defer { server.stop() }
        try await Lifecycle.run(all, lameDuck: LameDuck(readiness: readiness, period: lameduck, logger: logger), logger: logger)
        await probe.close()
        await metricsServer.close()
    }
}
