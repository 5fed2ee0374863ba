import DataPlane
import Foundation
import Health
import Logging
import ObjectSources
import RecordModel

/// Applies the informers' updates to the record store and publishes the
/// answers: every batch that arrives while a publication runs goes into
/// the next one, and a publication rebuilds only the answers of the names
/// the batch changed. Nothing is published before every resource has been
/// listed once; after that the server is ready.
struct ClusterFollower {
    let options: RecordOptions
    let server: DNSServer
    let readiness: Readiness
    /// How many resources make a complete cluster.
    let resourceCount: Int
    let synced: SyncFlag
    let logger: Logger

    /// A delta touching more than this share of the names is slower than a whole table.
    static let wholeTableShare = 4

    func run(_ queue: UpdateQueue) async {
        var loading: ClusterObjects? = ClusterObjects()
        var listed: Set<String> = []
        var store = ClusterRecordStore(options: options)
        let clock = ContinuousClock()
        let start = clock.now
        for await _ in queue.wakeups {
            let batch = queue.take()
            guard !batch.isEmpty else { continue }
            let received = clock.now
            if var objects = loading {
                // Before the first complete list: gather, then load at once.
                for update in batch {
                    for change in objects.changes(for: update) { objects.apply(change) }
                    if let resource = update.listedResource { listed.insert(resource) }
                }
                guard listed.count == resourceCount else {
                    loading = objects
                    continue
                }
                loading = nil
                store.setSerial(Self.nextSerial(after: 0))
                store.load(objects)
                publishWhole(store, received: received)
                synced.set()
                readiness.markReady()
                logger.notice("initial sync done; ready", metadata: [
                    "services": "\(store.objects.services.count)", "after": "\(clock.now - start)",
                ])
                continue
            }
            for update in batch { store.apply(store.objects.changes(for: update)) }
            for problem in store.problems { logger.warning("object skipped", metadata: ["reason": "\(problem)"]) }
            let changed = store.takeChangedNames()
            guard changed.contains(where: { !$0.isEmpty }) else { continue }
            store.setSerial(Self.nextSerial(after: store.options.serial))
            let changedNames = zip(changed, store.takeChangedNames()).map { $0.union($1) }
            let count = changedNames.reduce(0) { $0 + $1.count }
            if count * Self.wholeTableShare > store.zones.reduce(0, { $0 + $1.names.count }) {
                publishWhole(store, received: received)
            } else {
                publishDelta(store, changedNames, received: received)
            }
        }
    }

    private func publishWhole(_ store: ClusterRecordStore, received: ContinuousClock.Instant) {
        let clock = ContinuousClock()
        let modelled = clock.now
        do {
            let table = try AnswerTable(store.zoneSet)
            let built = clock.now
            let names = table.nameCount
            let bytes = table.byteCount
            server.publish(table)
            logger.info("records published", metadata: [
                "services": "\(store.objects.services.count)", "names": "\(names)", "serial": "\(store.options.serial)",
                "table MiB": "\(bytes >> 20)",
                "model": "\(modelled - received)", "table": "\(built - modelled)", "swap": "\(clock.now - built)",
            ])
        } catch {
            logger.error("records not published; serving the last ones", metadata: ["error": "\(error)"])
        }
    }

    private func publishDelta(_ store: ClusterRecordStore, _ changed: [Set<DNSName>], received: ContinuousClock.Instant) {
        let clock = ContinuousClock()
        let modelled = clock.now
        do {
            let (names, _) = try server.publish(store.zoneSet, changed: changed)
            logger.debug("changes published", metadata: [
                "changed names": "\(changed.reduce(0) { $0 + $1.count })", "names": "\(names)",
                "serial": "\(store.options.serial)", "model": "\(modelled - received)", "table": "\(clock.now - modelled)",
            ])
        } catch {
            logger.error("changes not published; serving the last records", metadata: ["error": "\(error)"])
        }
    }

    /// RFC 1982 serials: the clock's seconds, always moving forward.
    static func nextSerial(after serial: UInt32) -> UInt32 {
        max(UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)), serial &+ 1)
    }
}
