import Etcd
import KubeAPI
import Logging
import RecordModel
import Synchronization

/// skydns's view of etcd: every key under the domain's directory
/// (`/skydns/local/cluster/...` for `cluster.local`), read whole and then
/// followed with a watch from the revision of that read.
///
/// Each value is read once, when its key is put; a key that makes no
/// record (not skydns's JSON) is logged then and left out.
///
/// What to serve is handed on one publication at a time: a whole zone after
/// each read, then the names a batch of changes touched (`SkyDNSTree`).
/// Changes that arrive while a publication runs go into the next one, so a
/// burst costs one. When etcd cannot be reached, or has compacted the
/// history the watch needs, the keys are read whole again after a backoff;
/// nothing is handed on meanwhile, so the last records keep being served.
public struct SkyDNSFollower: Sendable {
    public enum Publication: Sendable {
        case whole(ZoneSet, records: Int)
        case delta(heads: ZoneSet, changes: ClusterRecordStore.Changes)
    }

    let etcd: EtcdClient
    let domain: DNSName
    let ttl: UInt32
    let logger: Logger

    public init(etcd: EtcdClient, domain: DNSName, ttl: UInt32, logger: Logger) {
        self.etcd = etcd
        self.domain = domain
        self.ttl = ttl
        self.logger = logger
    }

    /// Follows the keys until cancelled, handing each publication to
    /// `publish` with the etcd revision it reflects.
    public func run(_ publish: @escaping @Sendable (Publication, Int64) async -> Void) async {
        let inbox = Inbox()
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withDiscardingTaskGroup { group in
            group.addTask { [domain, ttl] in
                var tree = SkyDNSTree(domain: domain, ttl: ttl)
                for await _ in wakeups {
                    let (read, events, revision) = inbox.take()
                    let serial = UInt32(truncatingIfNeeded: revision)
                    if let read {
                        tree = SkyDNSTree(domain: domain, ttl: ttl)
                        for record in read { tree.put(record) }
                        for event in events { tree.apply(event) }
                        await publish(.whole(tree.wholeZones(serial: serial), records: tree.recordCount), revision)
                    } else if !events.isEmpty {
                        for event in events { tree.apply(event) }
                        let (heads, changes) = tree.takeChanges(serial: serial)
                        await publish(.delta(heads: heads, changes: changes), revision)
                    }
                }
            }
            group.addTask {
                await follow(into: inbox, wake: wake)
                wake.finish()
            }
        }
    }

    private func follow(into inbox: Inbox, wake: AsyncStream<Void>.Continuation) async {
        let prefix = SkyDNSLayout.path(of: domain) + "/"
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                let (kvs, revision) = try await etcd.range(prefix: prefix)
                inbox.replace(kvs.compactMap(record), revision: revision)
                wake.yield()
                logger.info("skydns keys read", metadata: ["keys": "\(kvs.count)", "revision": "\(revision)"])
                backoff.reset()
                try await etcd.watch(prefix: prefix, from: revision + 1) { batch in
                    inbox.add(batch.events.compactMap(event), revision: batch.revision)
                    wake.yield()
                }
            } catch EtcdError.compacted(let revision) {
                logger.notice("etcd compacted the history the watch needs; reading the keys again", metadata: ["revision": "\(revision)"])
            } catch {
                if Task.isCancelled { return }
                let wait = backoff.next()
                logger.error("etcd watch failed; serving the last records", metadata: ["error": "\(error)", "retry in": "\(wait)"])
                try? await Task.sleep(for: wait)
            }
        }
    }

    /// A watched change as the tree takes it: a put of a key that makes no
    /// record removes what the key made before.
    private func event(_ event: EtcdEvent) -> SkyDNSTree.Event? {
        switch event {
        case .put(let kv):
            if let record = record(kv) { return .put(record) }
            return SkyDNSLayout.name(ofDirectory: kv.key).map(SkyDNSTree.Event.remove)
        case .delete(let key, _):
            return SkyDNSLayout.name(ofDirectory: key).map(SkyDNSTree.Event.remove)
        }
    }

    /// A key's record: its path read back as a name (the leaf label
    /// included) and its value; nil, and a log line, when it makes none.
    private func record(_ kv: EtcdKeyValue) -> SkyDNSRecords.Record? {
        do {
            guard let name = SkyDNSLayout.name(ofDirectory: kv.key) else { throw SkyDNSRecordError("\(kv.key) is not a name") }
            return try SkyDNSRecords.Record(name: name, json: kv.value, domain: domain)
        } catch {
            logger.warning("key skipped", metadata: ["key": "\(kv.key)", "reason": "\(error)"])
            return nil
        }
    }
}

/// What the watch has read and the publisher has not taken yet.
private final class Inbox: Sendable {
    private struct Pending {
        /// A whole read, replacing everything before it.
        var read: [SkyDNSRecords.Record]?
        var events: [SkyDNSTree.Event] = []
        var revision: Int64 = 0
    }
    private let pending = Mutex(Pending())

    func replace(_ records: [SkyDNSRecords.Record], revision: Int64) {
        pending.withLock { $0 = Pending(read: records, revision: revision) }
    }

    func add(_ events: [SkyDNSTree.Event], revision: Int64) {
        pending.withLock {
            $0.events += events
            $0.revision = revision
        }
    }

    func take() -> (read: [SkyDNSRecords.Record]?, events: [SkyDNSTree.Event], revision: Int64) {
        pending.withLock { pending in
            defer { pending = Pending(revision: pending.revision) }
            return (pending.read, pending.events, pending.revision)
        }
    }
}
