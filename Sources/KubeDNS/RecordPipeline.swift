import ArgumentParser
import CorefilePlan
import DNSModel
import DataPlane
import Health
import KubeAPI
import Logging
import ObjectSources
import RecordModel
import RecordPublisher
import ServerMetrics

/// The cluster's records: a source opened (the API or an objects file)
/// and the publisher that turns it into answer tables, run until a new
/// `kubernetes` plugin replaces it. The table served stays until the new
/// source has been read whole and its own table is out, so a reload
/// loses no query.
struct RecordPipeline: Sendable {
    /// What the records are made with; nil: no cluster records.
    struct Plan: Sendable {
        var options: RecordOptions?
        var access: @Sendable () throws -> ClusterAccess
        var selection = APISource.Selection()
    }

    let options: RecordOptions?
    let source: Source
    /// A file's objects as first read, handed to the publisher.
    let fileObjects: ClusterObjects?

    /// Opens the plan's source: a bad objects file or kubeconfig is an error here.
    init(_ plan: Plan, records: RecordFlags, settings: InformerSettings, metrics: MetricsRegistry, logger: Logger) throws {
        options = plan.options
        let file = records.kubeObjects.map { Source.Origin.file($0, allowEmpty: records.allowEmptyCluster) }
        if file != nil, plan.selection.labels != nil || plan.selection.namespaceLabels != nil {
            throw ValidationError("plugin/kubernetes: labels and namespace_labels pick objects from the API, not from --kube-objects")
        }
        TargetPodName.isRead.store(plan.options?.endpointPodNames ?? false, ordering: .relaxed)
        (source, fileObjects) = try Source.open(
            plan.options == nil ? .none : file ?? .api(plan.access), settings: settings,
            watchPods: plan.options?.pods == .verified, selection: plan.selection, metrics: metrics, logger: logger)
    }

    /// Zones served until the first table: the cluster's, answering SERVFAIL.
    var unsyncedZones: ZoneSet { options.map { ClusterRecords.unsyncedZones(options: $0) } ?? ZoneSet(zones: []) }

    /// Reads and publishes until cancelled; with `initialSyncTimeout`,
    /// says when the first table is not out by then.
    func run(
        server: DNSServer, readiness: Readiness, metrics: MetricsRegistry, initialSyncTimeout: Duration?, logger: Logger
    ) async {
        func publisher<State: RecordState>(_: State.Type) -> Publisher<State> {
            Publisher(server: server, readiness: readiness, metrics: metrics, logger: logger)
        }
        switch source {
        case .none:
            do {
                server.publish(try AnswerTable(unsyncedZones))
            } catch {
                logger.error("records not cleared", metadata: ["error": "\(error)"])
            }
            readiness.markReady()
        case .file(let watcher, let identity):
            let (options, queue) = (options!, BatchQueue<ClusterObjects>())
            if let fileObjects { queue.push(fileObjects) }
            let publisher = publisher(ObjectsFileState.self)
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await objects in watcher.changes(since: identity) { queue.push(objects) }
                }
                group.addTask { await publisher.run(ObjectsFileState(options: options), from: queue) }
                await group.waitForAll()
            }
        case .api(let source):
            let (options, queue) = (options!, UpdateQueue())
            let publisher = publisher(ClusterState.self)
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await source.run(into: queue) }
                group.addTask {
                    await publisher.run(
                        ClusterState(options: options, resources: source.resources), from: queue,
                        followingOn: source.client.streamExecutor)
                }
                if let initialSyncTimeout {
                    group.addTask { await publisher.warnUnlessReady(after: initialSyncTimeout, what: "initial sync") }
                }
                await group.waitForAll()
            }
            await source.client.shutdown()
        }
    }

    /// Runs `first`, and in its place each pipeline a changed plan opens;
    /// a plan whose source cannot be opened is logged and the running one stays.
    static func follow(
        _ first: RecordPipeline, changes: AsyncStream<ClusterPlan?>, open: @escaping @Sendable (ClusterPlan?) throws -> RecordPipeline,
        run: @escaping @Sendable (RecordPipeline, _ first: Bool) async -> Void, logger: Logger
    ) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await run(first, true) }
            for await plan in changes {
                let next: RecordPipeline
                do {
                    next = try open(plan)
                } catch {
                    logger.error("kubernetes plugin not applied; the running one stays", metadata: ["error": "\(error)"])
                    continue
                }
                group.cancelAll()
                await group.waitForAll()
                logger.notice(
                    "kubernetes plugin applied; the cluster is read again",
                    metadata: ["domain": "\(next.options?.domain.description ?? "none")"])
                group.addTask { await run(next, false) }
            }
            await group.waitForAll()
        }
    }
}
