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
    @OptionGroup var serverFlags: ServerFlags

    @Option(name: [.customLong("dns-bind-address"), .customLong("dns_bind_address")], help: "Address to serve DNS on (IPv4 or IPv6).")
    var dnsBindAddress = "0.0.0.0"

    @Option(name: [.customLong("dns-port"), .customLong("dns_port")], help: "Port to serve DNS on, UDP and TCP.")
    var dnsPort: UInt16 = 53

    @Option(name: [.customLong("healthz-port"), .customLong("healthz_port")], help: "Port of the probe endpoint: GET /readiness and /healthz.")
    var healthzPort = 8081

    @Option(
        name: [.customLong("initial-sync-timeout"), .customLong("initial_sync_timeout")],
        help: "Log an error when the first lists have not loaded by then (the server keeps running and keeps trying).")
    var initialSyncTimeout = GoDuration(.seconds(60), "60s")

    func validate() throws {
        guard (0...65535).contains(healthzPort) else { throw ValidationError("--healthz-port \(healthzPort): not a port") }
        if records.kubeObjects != nil, api.kubeMasterURL != nil || api.kubecfgFile != nil {
            throw ValidationError("--kube-objects serves a file instead of the API: give it without --kube-master-url and --kubecfg-file")
        }
    }

    func run() async throws { try await serve() }

    func serve() async throws {
        Verbosity.bootstrap(serverFlags.verbosity)
        let logger = Logger(label: "kube-dns")
        let options = try records.options(serial: 0)
        let metrics = MetricsRegistry(version: BuildInfo.version)
        // Fail fast on what cannot work: a bad objects file or kubeconfig.
        var (source, fileObjects) = try Source.open(
            records.kubeObjects, api, watchPods: records.pods == .verified, metrics: metrics, logger: logger)
        let frontEnd = try await DNSFrontEnd.start(
            address: dnsBindAddress, port: dnsPort, healthzPort: healthzPort, domain: options.domain,
            unsynced: ClusterRecords.unsyncedZones(options: options),
            notReadyReason: "the first lists of the cluster have not loaded", server: serverFlags, forwarding: forwarding,
            metrics: metrics, logger: logger)
        let (server, readiness) = (frontEnd.server, frontEnd.readiness)
        var publisher = Publisher(options: options, metrics: metrics, logger: logger)

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
        var tasks: [(name: String, run: @Sendable () async -> Void)] = []
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
            tasks.append(("records", {
                await ClusterFollower(
                    options: options, server: server, readiness: readiness,
                    resourceCount: source.resourceCount, synced: synced, metrics: metrics, logger: logger
                ).run(queue, followingOn: source.client.streamExecutor)
            }))
            tasks.append(("initial sync timeout", { [initialSyncTimeout] in
                try? await Task.sleep(for: initialSyncTimeout.duration)
                if !Task.isCancelled, !synced.isSet {
                    // kube-dns exited here and crash-looped; serving SERVFAIL and retrying is better.
                    logger.error("initial sync not done in time; still trying", metadata: ["timeout": "\(initialSyncTimeout)"])
                }
            }))
        }
        try await frontEnd.run(tasks, lameduck: serverFlags.lameduck.duration, logger: logger)
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

/// Turns objects into a published answer table, with the SOA serial of
/// the second it is published in (ClusterFollower.serial(after:)).
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
        options.serial = ClusterFollower.serial(after: options.serial)
        let clock = ContinuousClock()
        let start = clock.now
        var store = ClusterRecordStore(options: options)
        store.load(objects)
        for problem in store.problems { logger.warning("object skipped", metadata: ["reason": "\(problem)"]) }
        let names = try server.publishWhole(store, modelStart: start, logger: logger)
        metrics.published(after: clock.now - start, names: names, bytes: server.tableByteCount())
    }
}
