import ArgumentParser
import DataPlane
import Foundation
import Health
import KubeAPI
import Logging
import ObjectSources
import RecordModel
import ServerMetrics
import Upstreams

/// `kube-dns` (the default command): watch the objects, keep the record
/// model, answer DNS.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve cluster DNS (the default command).")

    @OptionGroup var records: RecordFlags
    @OptionGroup var api: APIFlags
    @OptionGroup var forwarding: ForwardFlags

    @Option(name: [.customLong("dns-bind-address"), .customLong("dns_bind_address")], help: "Address to serve DNS on (IPv4 or IPv6).")
    var dnsBindAddress = "0.0.0.0"

    @Option(name: [.customLong("dns-port"), .customLong("dns_port")], help: "Port to serve DNS on, UDP and TCP.")
    var dnsPort: UInt16 = 53

    @Option(name: .customLong("threads"), help: "DNS worker threads (default: the number of cores).")
    var threads: Int?

    @Option(name: .customLong("tcp-max-connections"), help: "Open DNS-over-TCP connections at most, over all workers.")
    var tcpMaxConnections = 1024

    @Option(name: .customLong("tcp-idle-timeout"), help: "Seconds before an idle DNS-over-TCP connection is closed (RFC 7766).")
    var tcpIdleTimeout = 10

    @Option(name: [.customLong("healthz-port"), .customLong("healthz_port")], help: "Port of the probe endpoint: GET /readiness.")
    var healthzPort = 8081

    @Option(name: [.customLong("metrics-port"), .customLong("metrics_port")], help: "Port of GET /metrics (Prometheus text); 0: the kernel's choice.")
    var metricsPort = 10055

    @Option(
        name: [.customLong("initial-sync-timeout"), .customLong("initial_sync_timeout")],
        help: "Log an error when the first lists have not loaded by then (the server keeps running and keeps trying).")
    var initialSyncTimeout = GoDuration(.seconds(60), "60s")

    @Option(
        name: .customLong("lameduck"),
        help: "On SIGTERM or SIGINT, keep answering this long after /readiness turns 503, so clients and the Service move away first.")
    var lameduck = GoDuration(.seconds(5), "5s")

    @Option(name: [.customShort("v"), .customLong("v")], help: "Log verbosity: 0 notices and errors, 2 routine events, 4 debugging.")
    var verbosity = 0

    func validate() throws {
        if let threads, !(1...1024).contains(threads) { throw ValidationError("--threads \(threads): from 1 to 1024") }
        guard tcpMaxConnections >= 1 else { throw ValidationError("--tcp-max-connections: at least 1") }
        guard tcpIdleTimeout >= 1 else { throw ValidationError("--tcp-idle-timeout: at least 1 second") }
        guard (0...65535).contains(healthzPort) else { throw ValidationError("--healthz-port \(healthzPort): not a port") }
        guard (0...65535).contains(metricsPort) else { throw ValidationError("--metrics-port \(metricsPort): not a port") }
        if records.kubeObjects != nil, api.kubeMasterURL != nil || api.kubecfgFile != nil {
            throw ValidationError("--kube-objects serves a file instead of the API: give it without --kube-master-url and --kubecfg-file")
        }
    }

    func run() async throws { try await serve() }

    func serve() async throws {
        Verbosity.bootstrap(verbosity)
        let logger = Logger(label: "kube-dns")
        let metrics = MetricsRegistry(version: BuildInfo.version)
        var publisher = Publisher(options: try records.options(serial: 0), metrics: metrics, logger: logger)
        // Fail fast on what cannot work: a bad objects file or kubeconfig.
        var (source, fileObjects) = try Source.open(
            records.kubeObjects, api, watchPods: records.pods == .verified, metrics: metrics, logger: logger)

        // The probe is up first, then DNS, answering SERVFAIL for cluster
        // names ("try again", never "no such name") until the first load.
        let readiness = Readiness(notReadyBecause: "the first lists of the cluster have not loaded")
        let liveness = WorkerLiveness()
        let probe = try await ProbeServer(
            host: "0.0.0.0", port: healthzPort,
            routes: [
                "/readiness": { readiness.notReadyReason.map(ProbeAnswer.failing) ?? .ok() },
                "/healthz": { liveness.problem().map(ProbeAnswer.failing) ?? .ok() },
            ])
        var configuration = DNSServer.Configuration(
            address: dnsBindAddress, port: dnsPort,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount,
            tcpMaxConnections: tcpMaxConnections, tcpIdleTimeoutMilliseconds: tcpIdleTimeout * 1000)
        forwarding.apply(to: &configuration)
        let server = try DNSServer(configuration, initial: try AnswerTable(ClusterRecords.unsyncedZones(options: publisher.options)))
        defer { server.stop() }
        let metricsServer = try await ProbeServer(
            host: "0.0.0.0", port: metricsPort, routes: ["/metrics": { [weak server] in .ok(metrics.exposition(server)) }])
        let upstreams = ForwardingFollower(
            nameservers: try forwarding.defaultNameservers(), configDirectory: forwarding.configDir,
            period: forwarding.configPeriod.duration, clusterDomain: publisher.options.domain,
            timeout: forwarding.forwardTimeout.duration,
            ourselves: SelfAddress(bindAddress: dnsBindAddress, port: server.port), logger: logger)
        let upstreamConfig = upstreams.start(server)
        try server.start()
        liveness.watch(server)
        logger.notice("serving DNS", metadata: [
            "address": "\(dnsBindAddress)", "port": "\(server.port)", "domain": "\(records.domain)",
            "healthz port": "\(probe.port)", "metrics port": "\(metricsServer.port)",
        ])

        let synced = SyncFlag()
        // Published now, and not kept: the table is all that is needed of them.
        if let objects = fileObjects.take() {
            do {
                try publisher.publish(objects, to: server)
                synced.set()
                readiness.markReady()
            } catch {
                logger.error("records not published", metadata: ["error": "\(error)"])
            }
        }
        var tasks: [(name: String, run: @Sendable () async -> Void)] = [
            ("upstreams", { await upstreams.run(server, from: upstreamConfig) })
        ]
        switch source {
        case .file(let watcher, let identity):
            tasks.append(("objects file", { [publisher] in
                var publisher = publisher
                for await objects in watcher.changes(since: identity) {
                    do {
                        try publisher.publish(objects, to: server)
                    } catch {
                        logger.error("records not published; serving the last ones", metadata: ["error": "\(error)"])
                    }
                }
            }))
        case .api(let source):
            let queue = UpdateQueue()
            tasks.append(("informers", { await source.run(into: queue) }))
            tasks.append(("records", { [options = publisher.options] in
                await ClusterFollower(
                    options: options, server: server, readiness: readiness,
                    resourceCount: source.resourceCount, synced: synced, metrics: metrics, logger: logger
                ).run(queue)
            }))
            tasks.append(("initial sync timeout", { [initialSyncTimeout] in
                try? await Task.sleep(for: initialSyncTimeout.duration)
                if !Task.isCancelled, !synced.isSet {
                    // kube-dns exited here and crash-looped; serving SERVFAIL and retrying is better.
                    logger.error("initial sync not done in time; still trying", metadata: ["timeout": "\(initialSyncTimeout)"])
                }
            }))
        }
        if ProcessInfo.processInfo.environment["KUBE_DNS_TEST_HOOKS"] == "1" {
            // Tests only: SIGUSR2 wedges worker 0 for 5 s, so /healthz can be seen to fail.
            tasks.append(("test hooks", {
                for await _ in Signals.stream([SIGUSR2]) { server.blockWorkerForTest(0, for: .seconds(5)) }
            }))
        }
        try await Lifecycle.run(tasks, lameDuck: LameDuck(readiness: readiness, period: lameduck.duration, logger: logger), logger: logger)
        await probe.close()
        await metricsServer.close()
        if case .api(let source) = source { await source.client.shutdown() }
    }
}

/// Where the objects come from, checked before anything is served.
enum Source {
    case file(ObjectsFileWatcher, FileIdentity?)
    case api(APISource)

    /// The source, and for a file the objects it holds now.
    static func open(
        _ objectsFile: String?, _ api: APIFlags, watchPods: Bool, metrics: MetricsRegistry, logger: Logger
    ) throws -> (Source, ClusterObjects?) {
        if let objectsFile {
            let watcher = ObjectsFileWatcher(path: objectsFile, logger: logger)
            let (objects, identity) = try watcher.load()
            return (.file(watcher, identity), objects)
        }
        do {
            let client = try APIClient(access: try api.access(), userAgent: "kube-dns/\(BuildInfo.version) (linux) swift")
            var settings = api.informerSettings
            settings.observe = { resource, activity in
                switch activity {
                case .event(let type): metrics.informerCounter("events", resource: resource, type: type).increment()
                case .relist: metrics.informerCounter("relists", resource: resource).increment()
                case .error: metrics.informerCounter("errors", resource: resource).increment()
                }
            }
            return (.api(APISource(client: client, watchPods: watchPods, settings: settings, logger: logger)), nil)
        } catch {
            throw ValidationError("\(error)")
        }
    }
}

/// Turns objects into a published answer table, with a fresh SOA serial.
struct Publisher: Sendable {
    private(set) var options: RecordOptions
    let metrics: MetricsRegistry
    let logger: Logger

    init(options: RecordOptions, metrics: MetricsRegistry, logger: Logger) {
        self.options = options
        self.metrics = metrics
        self.logger = logger
    }

    mutating func publish(_ objects: ClusterObjects, to server: DNSServer) throws {
        options.serial = ClusterFollower.nextSerial(after: options.serial)
        let clock = ContinuousClock()
        let start = clock.now
        var store = ClusterRecordStore(options: options)
        store.load(objects)
        for problem in store.problems { logger.warning("object skipped", metadata: ["reason": "\(problem)"]) }
        let names = try server.publishWhole(store, modelStart: start, logger: logger)
        metrics.published(after: clock.now - start, names: names, bytes: server.tableByteCount())
    }
}
