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
/// The records are handed on as a whole set, one call at a time: changes
/// that arrive while a call runs go into the next one, so a burst costs
/// one publication. When etcd cannot be reached, or has compacted the
/// history the watch needs, the keys are read whole again after a backoff;
/// nothing is handed on meanwhile, so the last records keep being served.
public struct SkyDNSFollower: Sendable {
    public typealias Records = [SkyDNSRecords.Record]

    let etcd: EtcdClient
    let domain: DNSName
    let logger: Logger

    public init(etcd: EtcdClient, domain: DNSName, logger: Logger) {
        self.etcd = etcd
        self.domain = domain
        self.logger = logger
    }

    /// Follows the keys until cancelled, handing each new set to `publish`
    /// with the etcd revision it was read at.
    public func run(_ publish: @escaping @Sendable (Records, Int64) async -> Void) async {
        let keys = KeyValues()
        let (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        await withDiscardingTaskGroup { group in
            group.addTask {
                for await _ in changes {
                    let (map, revision) = keys.map.withLock { ($0, keys.revision.load(ordering: .relaxed)) }
                    await publish(Array(map.values), revision)
                }
            }
            group.addTask {
                await follow(into: keys, changed: changed)
                changed.finish()
            }
        }
    }

    private func follow(into keys: KeyValues, changed: AsyncStream<Void>.Continuation) async {
        let prefix = SkyDNSLayout.path(of: domain) + "/"
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                let (kvs, revision) = try await etcd.range(prefix: prefix)
                keys.map.withLock { map in
                    map.removeAll(keepingCapacity: true)
                    for kv in kvs { map[kv.key] = record(kv) }
                    keys.revision.store(revision, ordering: .relaxed)
                }
                changed.yield()
                logger.info("skydns keys read", metadata: ["keys": "\(kvs.count)", "revision": "\(revision)"])
                backoff.reset()
                try await etcd.watch(prefix: prefix, from: revision + 1) { batch in
                    keys.map.withLock { map in
                        for event in batch.events {
                            switch event {
                            case .put(let kv): map[kv.key] = record(kv)
                            case .delete(let key, _): map[key] = nil
                            }
                        }
                        keys.revision.store(batch.revision, ordering: .relaxed)
                    }
                    changed.yield()
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

/// The keys as last read and watched, shared by the watch and the publisher.
private final class KeyValues: Sendable {
    let map = Mutex<[String: SkyDNSRecords.Record]>([:])
    /// The revision `map` is at; written and read under `map`'s lock.
    let revision = Atomic<Int64>(0)
}
