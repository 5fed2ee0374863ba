import DataPlane
import Health
import Logging
import ObjectSources
import RecordModel

/// Applies the informers' updates to the cluster's objects and publishes
/// the records: every batch that arrives while a publication runs goes
/// into the next one. Nothing is published before every resource has
/// been listed once; after that the server is ready.
struct ClusterFollower {
    var publisher: Publisher
    let server: DNSServer
    let readiness: Readiness
    /// How many resources make a complete cluster.
    let resourceCount: Int
    let synced: SyncFlag
    let logger: Logger

    func run(_ queue: UpdateQueue) async {
        var publisher = publisher
        var objects = ClusterObjects()
        var listed: Set<String> = []
        let clock = ContinuousClock()
        let start = clock.now
        for await _ in queue.wakeups {
            let batch = queue.take()
            guard !batch.isEmpty else { continue }
            for update in batch {
                objects.apply(update)
                if let resource = update.listedResource { listed.insert(resource) }
            }
            guard listed.count == resourceCount else { continue }
            do {
                try publisher.publish(objects, to: server)
            } catch {
                logger.error("records not published; serving the last ones", metadata: ["error": "\(error)"])
                continue
            }
            if !synced.isSet {
                synced.set()
                readiness.markReady()
                logger.notice("initial sync done; ready", metadata: [
                    "services": "\(objects.services.count)", "after": "\(clock.now - start)",
                ])
            }
        }
    }
}
