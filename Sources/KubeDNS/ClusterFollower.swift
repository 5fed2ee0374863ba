import DataPlane
import Foundation
import Health
import Logging
import ObjectSources
import RecordModel
import ServerMetrics

/// Applies the informers' updates to the record store and publishes the
/// answers: every batch that arrives while a publication runs goes into
/// the next one, and a publication rebuilds only the answers of the names
/// the batch changed. Nothing is published before every resource has been
/// listed once; then a whole table is, and the server is ready.
struct ClusterFollower {
    let options: RecordOptions
    let server: DNSServer
    let readiness: Readiness
    /// How many resources make a complete cluster.
    let resourceCount: Int
    let synced: SyncFlag
    let metrics: MetricsRegistry
    let logger: Logger

    /// A delta touching more than this share of the names is slower than a whole table.
    static let wholeTableShare = 4

    /// Loads the first lists, then follows the changes on `executor` when
    /// given: the thread that reads the watch streams, so that an event is
    /// read, applied and published without waking another thread. The first
    /// lists are not: their pages go into the store while that thread
    /// reads the next ones.
    func run(_ queue: UpdateQueue, followingOn executor: (any TaskExecutor)? = nil) async {
        var wakeups = queue.wakeups.makeAsyncIterator()
        guard case (var store, let tableNames)? = await sync(queue, &wakeups) else { return }
        await withTaskExecutorPreference(executor) {
            await follow(queue, &wakeups, &store, tableNames: tableNames)
        }
    }

    /// Puts the first lists into a store and publishes its whole table;
    /// the store and the table's name count, or nil when the queue ended first.
    private func sync(
        _ queue: UpdateQueue, _ wakeups: inout AsyncStream<Void>.Iterator
    ) async -> (ClusterRecordStore, Int)? {
        var listed: Set<String> = []
        var store = ClusterRecordStore(options: options)
        let clock = ContinuousClock()
        let start = clock.now
        while await wakeups.next() != nil {
            let batch = queue.take()
            guard !batch.isEmpty else { continue }
            let received = clock.now
            // Pages go into the store as they arrive, so that when the last
            // list ends little is left but the table; nothing is published
            // until every resource is listed, and then the table is made whole.
            apply(batch, to: &store)
            for update in batch { if let resource = update.listedResource { listed.insert(resource) } }
            let complete = listed.count == resourceCount
            if complete { store.setSerial(Self.serial(after: 0)) }
            store.discardChanges()
            guard complete, let names = publishWhole(store, received: received) else { continue }
            metrics.published(after: clock.now - received, names: names, bytes: server.tableByteCount())
            synced.set()
            readiness.markReady()
            logger.notice("initial sync done; ready", metadata: [
                "services": "\(store.objects.services.count)", "after": "\(clock.now - start)",
            ])
            return (store, names)
        }
        return nil
    }

    /// Applies each batch of changes and publishes what it touched.
    private func follow(
        _ queue: UpdateQueue, _ wakeups: inout AsyncStream<Void>.Iterator, _ store: inout ClusterRecordStore,
        tableNames: Int
    ) async {
        var tableNames = tableNames
        let clock = ContinuousClock()
        while await wakeups.next() != nil {
            let batch = queue.take()
            guard !batch.isEmpty else { continue }
            let received = clock.now
            apply(batch, to: &store)
            guard store.hasChanges else { continue }
            store.setSerial(Self.serial(after: store.options.serial))
            let changes = store.takeChanges()
            let changed = changes.regions.reduce(changes.removed.count) { $0 + $1.names.count }
            // A delta touching much of the table is slower than a whole one.
            if changed * Self.wholeTableShare > tableNames {
                guard let names = publishWhole(store, received: received) else { continue }
                tableNames = names
            } else {
                guard let names = publishDelta(store, changes, received: received) else { continue }
                tableNames = names
            }
            metrics.published(after: clock.now - received, names: tableNames, bytes: server.tableByteCount())
        }
    }

    /// Applies a batch's updates in order, and logs the objects that made no records.
    private func apply(_ batch: [ObjectUpdate], to store: inout ClusterRecordStore) {
        for update in batch {
            store.apply(store.objects.changes(for: update))
            for problem in store.problems { logger.warning("object skipped", metadata: ["reason": "\(problem)"]) }
        }
    }

    /// Publishes a whole table; returns its name count, nil when it failed.
    private func publishWhole(_ store: ClusterRecordStore, received: ContinuousClock.Instant) -> Int? {
        do {
            return try server.publishWhole(store, modelStart: received, logger: logger)
        } catch {
            logger.error("records not published; serving the last ones", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Publishes the changes as a delta; returns the new table's name count, nil when it failed.
    private func publishDelta(_ store: ClusterRecordStore, _ changes: ClusterRecordStore.Changes, received: ContinuousClock.Instant) -> Int? {
        let clock = ContinuousClock()
        let modelled = clock.now
        do {
            let names = try server.publish(store.zoneHeads, changes: changes)
            logger.debug("changes published", metadata: [
                "regions": "\(changes.regions.count)", "removed names": "\(changes.removed.count)", "names": "\(names)",
                "serial": "\(store.options.serial)", "model": "\(modelled - received)", "table": "\(clock.now - modelled)",
            ])
            return names
        } catch {
            logger.error("changes not published; serving the last records", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// The SOA serial for a change after one numbered `serial`: the second
    /// of the change, as CoreDNS's kubernetes plugin numbers them (the time
    /// of the last change), never moving back (RFC 1982). Changes within one
    /// second share a serial, so a stream of updates republishes the zones'
    /// apexes, where the SOA is, once a second rather than with every change.
    static func serial(after serial: UInt32) -> UInt32 {
        max(UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)), serial)
    }
}
