import Etcd
import KubeAPI
import Logging
import RecordModel
import RecordPublisher

/// skydns's view of etcd: every key under the domain's directory
/// (`/skydns/local/cluster/...` for `cluster.local`), read whole and then
/// followed with a watch from the revision of that read.
///
/// Each value is read once, when its key is put; a key that makes no
/// record (not skydns's JSON) is logged then and left out.
///
/// What it reads goes into a queue, for a `Publisher` of `SkyDNSState`:
/// each whole read, then the watched changes. When etcd cannot be reached,
/// or has compacted the history the watch needs, the keys are read whole
/// again after a backoff; nothing is pushed meanwhile, so the last records
/// keep being served.
public struct SkyDNSFollower: Sendable {
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

    /// Follows the keys until cancelled, pushing what it reads into `queue`.
    public func run(into queue: BatchQueue<SkyDNSBatch>) async {
        let prefix = SkyDNSLayout.path(of: domain) + "/"
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                let (kvs, revision) = try await etcd.range(prefix: prefix)
                queue.push(.read(kvs.compactMap(record), revision: revision))
                logger.info("skydns keys read", metadata: ["keys": "\(kvs.count)", "revision": "\(revision)"])
                backoff.reset()
                try await etcd.watch(prefix: prefix, from: revision + 1) { batch in
                    queue.push(.events(batch.events.compactMap(event), revision: batch.revision))
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
