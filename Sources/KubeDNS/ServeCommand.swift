import ArgumentParser
import DataPlane
import Foundation
import Health
import KubeAPI
import Logging
import ObjectSources
import RecordModel
import RecordPublisher
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

    @Option(
        name: [.customLong("healthz-port"), .customLong("healthz_port")], help: "Port of the probe endpoint: GET /readiness and /healthz.")
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
        func publisher<State: RecordState>(_: State.Type) -> Publisher<State> {
            Publisher(server: server, readiness: readiness, metrics: metrics, logger: logger)
        }
        var tasks: [(name: String, run: @Sendable () async -> Void)] = []
        switch source {
        case .file(let watcher, let identity):
            let queue = BatchQueue<ClusterObjects>()
            // Handed over, not kept: the publisher lets them go once they are served.
            if let objects = fileObjects.take() { queue.push(objects) }
            tasks.append(
                (
                    "objects file",
                    {
                        for await objects in watcher.changes(since: identity) { queue.push(objects) }
                    }
                ))
            let publisher = publisher(ObjectsFileState.self)
            tasks.append(("records", { await publisher.run(ObjectsFileState(options: options), from: queue) }))
        case .api(let source):
            let queue = UpdateQueue()
            let publisher = publisher(ClusterState.self)
            tasks.append(("informers", { await source.run(into: queue) }))
            tasks.append(
                (
                    "records",
                    {
                        await publisher.run(
                            ClusterState(options: options, resources: source.resources), from: queue,
                            followingOn: source.client.streamExecutor)
                    }
                ))
            tasks.append(
                (
                    "initial sync timeout",
                    { [initialSyncTimeout] in
                        await publisher.warnUnlessReady(after: initialSyncTimeout.duration, what: "initial sync")
                    }
                ))
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
