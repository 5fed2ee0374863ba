import ArgumentParser
import CorefilePlan
import CorefileReload
import DNSModel
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
    @OptionGroup var corefile: CorefileFlags

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
        try FlagRange.check("healthz-port", healthzPort, FlagRange.port)
        try FlagRange.check("initial-sync-timeout", initialSyncTimeout, .seconds(1) ... .seconds(86400))
        if records.kubeObjects != nil, api.kubeMasterURL != nil || api.kubecfgFile != nil {
            throw ValidationError("--kube-objects serves a file instead of the API: give it without --kube-master-url and --kubecfg-file")
        }
    }

    func run() async throws { try await serve() }

    /// What to serve, from the flags or a Corefile.
    struct Setup {
        var records: RecordPipeline.Plan
        /// Each later `kubernetes` plugin of a reloaded Corefile.
        var clusterChanges: AsyncStream<ClusterPlan?>
        var dns: DNSServer.Configuration
        var endpoints: [DNSFrontEnd.Endpoint]
        var upstreams: any UpstreamFollowing
        var lameduck: Duration
    }

    /// What another mode adds to the server (node-cache's): HTTP
    /// endpoints, and tasks run beside it until the shutdown.
    struct Additions {
        var metrics = MetricsRegistry(version: BuildInfo.version)
        var endpoints: [DNSFrontEnd.Endpoint] = []
        var tasks: [(name: String, run: @Sendable () async -> Void)] = []
    }

    func serve(_ additions: Additions = Additions()) async throws {
        Verbosity.bootstrap(serverFlags.verbosity)
        let logger = Logger(label: "kube-dns")
        try corefile.writePID()
        let metrics = additions.metrics
        let setup = try corefile.conf.map { try corefileSetup($0, metrics: metrics, logger: logger) } ?? flagSetup(logger: logger)
        let open: @Sendable (RecordPipeline.Plan) throws -> RecordPipeline = { [records, api] plan in
            try RecordPipeline(plan, records: records, settings: api.informerSettings, metrics: metrics, logger: logger)
        }
        // Fail fast on what cannot work: a bad objects file or kubeconfig.
        let pipeline = try open(setup.records)
        let frontEnd = try await DNSFrontEnd.start(
            dns: setup.dns, endpoints: setup.endpoints + additions.endpoints, unsynced: pipeline.unsyncedZones,
            notReadyReason: "the first lists of the cluster have not loaded", upstreams: setup.upstreams,
            portFile: serverFlags.portFile, metrics: metrics, logger: logger)
        let (server, readiness) = (frontEnd.server, frontEnd.readiness)
        let initialSyncTimeout = initialSyncTimeout.duration
        let run: @Sendable (RecordPipeline, Bool) async -> Void = { pipeline, first in
            await pipeline.run(
                server: server, readiness: readiness, metrics: metrics, initialSyncTimeout: first ? initialSyncTimeout : nil,
                logger: logger)
        }
        let clusterChanges = setup.clusterChanges
        let records: @Sendable () async -> Void = {
            await RecordPipeline.follow(pipeline, changes: clusterChanges, open: { try open(Self.records($0)) }, run: run, logger: logger)
        }
        try await frontEnd.run(
            [("records", records)] + additions.tasks,
            lameduck: setup.lameduck, logger: logger)
    }

    /// kube-dns's flags.
    private func flagSetup(logger: Logger) throws -> Setup {
        let options = try records.options(serial: 0)
        return Setup(
            records: .init(options: options, access: { [api] in try api.access() }), clusterChanges: AsyncStream { $0.finish() },
            dns: serverFlags.dnsConfiguration(address: dnsBindAddress, port: dnsPort, forwarding: forwarding),
            endpoints: DNSFrontEnd.Endpoint.kubeDNS(serverFlags, healthzPort: healthzPort),
            upstreams: try forwarding.follower(clusterDomain: options.domain, logger: logger),
            lameduck: serverFlags.lameduck.duration)
    }

    /// A Corefile: its blocks and plugins decide; the server's own flags
    /// (threads, TCP limits, forwarding timeouts) still apply.
    private func corefileSetup(_ path: String, metrics: MetricsRegistry, logger: Logger) throws -> Setup {
        let environment = ProcessInfo.processInfo.environment
        let plan = try CorefileFollower.load(path: path, environment: environment, defaultPort: corefile.dnsPort)
        var dns = serverFlags.dnsConfiguration(
            address: plan.addresses.joined(separator: ","), port: UInt16(plan.port), forwarding: forwarding)
        dns.cacheSize = plan.cache.capacity
        if plan.cache.capacity > 0 {
            dns.cacheMaxTTL = Int(plan.cache.maxTTL)
            dns.cacheMaxNegativeTTL = Int(plan.cache.maxNegativeTTL)
        }
        dns.serveStale = plan.cache.serveStale
        dns.cacheKeepsTTL = plan.cache.keepTTL
        dns.cacheTTLsWithinLifetime = true
        dns.prefetch = plan.cache.prefetch.map { .init(amount: $0.amount, gap: $0.window, percentage: $0.percentage) }
        if let limit = plan.maxConcurrentForwards { dns.forwardMaxConcurrent = limit }
        // CoreDNS's forward refuses what is beyond max_concurrent.
        dns.overCapReply = .refused
        let follower = CorefileFollower(
            path: path, plan: plan, environment: environment, defaultPort: corefile.dnsPort,
            timeout: forwarding.forwardTimeout.duration, metrics: metrics, logger: logger)
        if !corefile.quiet { logger.notice("Corefile loaded", metadata: ["path": "\(path)"]) }
        return Setup(
            records: Self.records(plan.cluster), clusterChanges: follower.clusterChanges, dns: dns,
            endpoints: try plan.endpoints, upstreams: follower, lameduck: plan.health?.lameduck ?? .zero)
    }

    /// The records a Corefile's `kubernetes` plugin asks for.
    private static func records(_ cluster: ClusterPlan?) -> RecordPipeline.Plan {
        let plugin = cluster?.plugin
        return RecordPipeline.Plan(
            options: cluster?.options, access: { try cluster!.access() },
            selection: APISource.Selection(
                labels: plugin?.labels?.description, namespaceLabels: plugin?.namespaceLabels?.description,
                endpoints: !(plugin?.noEndpoints ?? false), serviceImports: !(plugin?.multiclusterZones.isEmpty ?? true)))
    }
}

/// Where the objects come from, checked before anything is served.
enum Source {
    case none
    case file(ObjectsFileWatcher, FileIdentity?)
    case api(APISource)

    enum Origin {
        case none
        case file(String, allowEmpty: Bool)
        case api(@Sendable () throws -> ClusterAccess)
    }

    /// The source, and for a file the objects it holds now.
    static func open(
        _ origin: Origin, settings: InformerSettings, watchPods: Bool, selection: APISource.Selection, metrics: MetricsRegistry,
        logger: Logger
    ) throws -> (Source, ClusterObjects?) {
        switch origin {
        case .none:
            return (.none, nil)
        case .file(let path, let allowEmpty):
            let watcher = ObjectsFileWatcher(path: path, allowEmpty: allowEmpty, pause: ReloadSignal.shared.wait(upTo:), logger: logger)
            let (objects, identity) = try watcher.load()
            return (.file(watcher, identity), objects)
        case .api(let access):
            do {
                let client = try APIClient(access: try access(), userAgent: "kube-dns/\(BuildInfo.version) (linux) swift")
                var settings = settings
                settings.observe = { resource, activity in
                    switch activity {
                    case .event(let type): metrics.informerCounter("events", resource: resource, type: type).increment()
                    case .relist: metrics.informerCounter("relists", resource: resource).increment()
                    case .error: metrics.informerCounter("errors", resource: resource).increment()
                    case .skipped: metrics.informerCounter("skipped", resource: resource).increment()
                    }
                }
                return (
                    .api(APISource(client: client, watchPods: watchPods, selection: selection, settings: settings, logger: logger)), nil
                )
            } catch {
                throw ValidationError("\(error)")
            }
        }
    }
}
