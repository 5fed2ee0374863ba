import CorefileReload
import DataPlane
import Foundation
import Health
import Logging
import RecordModel
import ServerMetrics
import Upstreams

/// What every DNS-serving command runs around its source of records: the
/// HTTP endpoints (up first), the DNS server answering SERVFAIL for the
/// cluster's zones until the first records are published, and the
/// upstreams followed from the flags and the ConfigMap, or a Corefile.
struct DNSFrontEnd {
    /// An HTTP endpoint: its name in `--port-file`, where it listens, and its paths.
    struct Endpoint {
        enum Page {
            /// 200 with `body` once the source is ready, else 503 with why not.
            case readiness(body: String)
            /// 200 with `body` while every DNS worker's loop turns, else 503 naming the wedged one.
            case liveness(body: String)
            case metrics
        }

        var name: String
        var host: String
        var port: Int
        var pages: [String: Page]
    }

    let server: DNSServer
    let readiness: Readiness
    private let endpoints: [ProbeServer]
    private let upstreams: @Sendable () async -> Void

    /// Starts them all; `notReadyReason` is what the readiness pages say
    /// until the source calls `readiness.markReady()`.
    static func start(
        dns configuration: DNSServer.Configuration, endpoints: [Endpoint], unsynced: ZoneSet, notReadyReason: String,
        upstreams: any UpstreamFollowing, portFile: String?, metrics: MetricsRegistry, logger: Logger
    ) async throws -> DNSFrontEnd {
        var configuration = configuration
        let budget = DescriptorBudget.apply(
            to: &configuration, httpPorts: endpoints.count, httpConnectionsPerPort: HTTPConnectionLimits().maxConnections,
            logger: logger)
        let readiness = Readiness(notReadyBecause: notReadyReason)
        let liveness = WorkerLiveness()
        var servers: [ProbeServer] = []
        for endpoint in endpoints {
            let checks = endpoint.pages.mapValues { page -> ProbeServer.Check in
                switch page {
                case .readiness(let body): { readiness.notReadyReason.map(ProbeAnswer.failing) ?? .ok(body) }
                case .liveness(let body): { liveness.problem().map(ProbeAnswer.failing) ?? .ok(body) }
                case .metrics: { .ok(metrics.exposition(liveness.server)) }
                }
            }
            servers.append(
                try await ProbeServer(
                    host: endpoint.host, port: endpoint.port, routes: checks,
                    limits: HTTPConnectionLimits(maxConnections: budget.httpConnectionsPerPort)))
        }
        let server = try DNSServer(configuration, initial: try AnswerTable(unsynced))
        let follow = upstreams.follow(server, ourselves: SelfAddress(bindAddress: configuration.address, port: server.port))
        try server.start()
        liveness.watch(server)
        let ports = [("dns", Int(server.port))] + zip(endpoints, servers).map { ($0.name, $1.port) }
        try PortFile.write(ports, to: portFile)
        logger.notice(
            "serving DNS",
            metadata: [
                "address": "\(configuration.address)", "port": "\(server.port)",
                "endpoints": "\(zip(endpoints, servers).map { "\($0.name) \($0.host):\($1.port)" }.joined(separator: ", "))",
            ])
        return DNSFrontEnd(server: server, readiness: readiness, endpoints: servers, upstreams: follow)
    }

    /// Runs `tasks` and the upstreams' follower until SIGTERM or SIGINT, then
    /// the lame-duck period; then closes the endpoints and stops DNS.
    func run(_ tasks: [(name: String, run: @Sendable () async -> Void)], lameduck: Duration, logger: Logger) async throws {
        let server = server
        var all = tasks
        all.append(("upstreams", upstreams))
        all.append(("upstream health", { await UpstreamHealthLog.follow(server, logger: logger) }))
        all.append(("tcp pressure", { await TCPPressureLog.follow(server, logger: logger) }))
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
        for endpoint in endpoints { await endpoint.close() }
    }
}

/// Where names outside the cluster go, kept up to date while the server runs.
protocol UpstreamFollowing: Sendable {
    /// Configures `server`'s forwarding (before it starts); returns what
    /// follows the configuration's sources while it runs.
    func follow(_ server: DNSServer, ourselves: SelfAddress) -> @Sendable () async -> Void
}

extension ForwardingFollower: UpstreamFollowing {
    func follow(_ server: DNSServer, ourselves: SelfAddress) -> @Sendable () async -> Void {
        let config = start(server, ourselves: ourselves)
        return { await run(server, from: config, ourselves: ourselves, pause: ReloadSignal.shared.wait(upTo:)) }
    }
}

extension CorefileFollower: UpstreamFollowing {
    func follow(_ server: DNSServer, ourselves: SelfAddress) -> @Sendable () async -> Void {
        start(server, ourselves: ourselves)
        return { [self] in
            await run(server, requests: ReloadSignal.shared.requests())
        }
    }
}

extension DNSFrontEnd.Endpoint {
    /// kube-dns's endpoints: `/readiness` and `/healthz` on the probe port, `/metrics` on its own.
    static func kubeDNS(_ flags: ServerFlags, healthzPort: Int) -> [DNSFrontEnd.Endpoint] {
        [
            .init(
                name: "healthz", host: flags.httpBindAddress, port: healthzPort,
                pages: ["/readiness": .readiness(body: "ok"), "/healthz": .liveness(body: "ok")]),
            .init(name: "metrics", host: flags.httpBindAddress, port: flags.metricsPort, pages: ["/metrics": .metrics]),
        ]
    }
}

extension ServerFlags {
    /// The DNS server's settings from the flags, on `address` and `port`.
    func dnsConfiguration(address: String, port: UInt16, forwarding: ForwardFlags) -> DNSServer.Configuration {
        var configuration = DNSServer.Configuration(
            address: address, port: port, threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
            tcpMaxConnections: tcpMaxConnections, tcpIdleTimeoutMilliseconds: tcpIdleTimeout * 1000)
        if rrlResponsesPerSecond > 0 {
            configuration.rateLimit = .init(
                responsesPerSecond: rrlResponsesPerSecond, slip: rrlSlip, ipv4PrefixLength: rrlIPv4PrefixLength,
                ipv6PrefixLength: rrlIPv6PrefixLength)
        }
        forwarding.apply(to: &configuration)
        return configuration
    }
}
