import Etcd
import Health
import KubeAPI
import Logging
import ObjectSources
import RecordModel
import RecordPublisher
import Synchronization

/// kube2sky's job: keeps the skydns layout in etcd equal to the cluster.
///
/// Nothing is written before every resource has been listed once; then the
/// whole tree it owns (`/skydns/<D>/svc/` and `/pod/`) is reconciled with
/// the cluster, stale keys deleted. After that each batch of updates
/// rewrites only the directories it touched, and of those only the keys
/// that changed: new keys and deletions of a directory go in one etcd
/// transaction, so a reader never sees a name without its records (kube2sky
/// deleted a service's subtree and wrote it again). Any etcd failure makes
/// /readiness 503 and, once etcd answers again, a whole reconcile: what was
/// lost meanwhile, or changed in etcd by hand, is mended. etcd is also
/// asked every `checkPeriod` while nothing changes, so an outage shows on
/// /readiness even in a quiet cluster.
public struct Kube2SkyWriter: Sendable {
    let etcd: EtcdClient
    let domain: DNSName
    let readiness: Readiness
    /// The resources that make a complete cluster.
    let resources: Set<ClusterResource>
    let checkPeriod: Duration
    let logger: Logger

    public init(
        etcd: EtcdClient, domain: DNSName, readiness: Readiness, resources: Set<ClusterResource>, checkPeriod: Duration = .seconds(2),
        logger: Logger
    ) {
        self.etcd = etcd
        self.domain = domain
        self.readiness = readiness
        self.resources = resources
        self.checkPeriod = checkPeriod
        self.logger = logger
    }

    public func run(_ queue: UpdateQueue) async {
        let lost = LostFlag()
        await withDiscardingTaskGroup { group in
            group.addTask { await write(queue, lost: lost) }
            group.addTask { await check(queue, lost: lost) }
        }
    }

    /// Asks etcd for one key every period; when it does not answer, says so
    /// and wakes the writer, which reconciles once etcd is back.
    private func check(_ queue: UpdateQueue, lost: LostFlag) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: checkPeriod)
            do {
                _ = try await etcd.get(SkyDNSLayout.path(of: domain))
            } catch {
                if Task.isCancelled { return }
                readiness.markNotReady("etcd: \(error)")
                lost.flag.store(true, ordering: .releasing)
                queue.wake()
            }
        }
    }

    private func write(_ queue: UpdateQueue, lost: LostFlag) async {
        var state = ClusterKeys(domain: domain)
        var gate = SyncGate(required: resources)
        // What etcd holds, as last read or written; nil: read it again whole.
        var stored: [String: [String: String]]?
        var backoff = Backoff()
        for await _ in queue.wakeups {
            take(queue, into: &state, gate: &gate)
            guard gate.isOpen else { continue }
            if lost.flag.exchange(false, ordering: .acquiring) { stored = nil }
            while !Task.isCancelled {
                do {
                    if stored == nil {
                        stored = try await reconcile(state)
                        state.dirty.removeAll()
                        readiness.markReady()
                    }
                    try await writeDirty(&state, stored: &stored)
                    backoff.reset()
                    break
                } catch {
                    stored = nil
                    let wait = backoff.next()
                    readiness.markNotReady("etcd: \(error)")
                    logger.error("etcd write failed; reconciling when it answers", metadata: ["error": "\(error)", "retry in": "\(wait)"])
                    try? await Task.sleep(for: wait)
                    take(queue, into: &state, gate: &gate)
                }
            }
        }
    }

    private func take(_ queue: UpdateQueue, into state: inout ClusterKeys, gate: inout SyncGate<ClusterResource>) {
        for update in queue.take() {
            state.apply(update)
            if let resource = update.listedResource { gate.listed(resource) }
        }
    }

    /// Reads what kube2sky owns in etcd and makes it the cluster's keys;
    /// returns what etcd then holds, by directory.
    private func reconcile(_ state: ClusterKeys) async throws(EtcdError) -> [String: [String: String]] {
        var stored: [String: [String: String]] = [:]
        for prefix in SkyDNSLayout.ownedPrefixes(domain: domain) {
            for kv in try await etcd.range(prefix: prefix).kvs {
                guard let directory = SkyDNSLayout.ownerDirectory(ofKey: kv.key, domain: domain) else { continue }
                stored[directory, default: [:]][kv.key] = kv.value
            }
        }
        let wanted = state.allKeys()
        var writes: [EtcdClient.Write] = []
        for (directory, keys) in wanted { writes += Self.writes(from: stored[directory] ?? [:], to: keys, directory: directory) }
        for (directory, keys) in stored where wanted[directory] == nil { writes += Self.writes(from: keys, to: [:], directory: directory) }
        try await etcd.apply(writes)
        logger.notice(
            "etcd reconciled with the cluster",
            metadata: [
                "directories": "\(wanted.count)", "writes": "\(writes.count)",
            ])
        return wanted
    }

    /// Writes the dirty directories. `stored` is taken while the writes run
    /// (so it is changed in place, not copied whole) and given back only
    /// when they succeed: after a failure, etcd is read again.
    private func writeDirty(_ state: inout ClusterKeys, stored: inout [String: [String: String]]?) async throws(EtcdError) {
        guard !state.dirty.isEmpty, var current = stored.take() else { return }
        let directories = state.dirty
        var writes: [EtcdClient.Write] = []
        for directory in directories {
            let keys = state.keys(of: directory)
            writes += Self.writes(from: current[directory] ?? [:], to: keys, directory: directory)
            current[directory] = keys.isEmpty ? nil : keys
        }
        try await etcd.apply(writes)
        stored = current
        state.dirty.subtract(directories)
        logger.info("etcd updated", metadata: ["directories": "\(directories.count)", "writes": "\(writes.count)"])
    }

    /// The writes that turn a directory's `old` keys into `new`: puts of
    /// what is new or changed, deletes of what went; a directory left empty
    /// is deleted whole, as a Service's subtree is when it is deleted.
    static func writes(from old: [String: String], to new: [String: String], directory: String) -> [EtcdClient.Write] {
        if new.isEmpty { return old.isEmpty ? [] : [.deletePrefix(directory + "/")] }
        var writes: [EtcdClient.Write] = []
        for (key, value) in new.sorted(by: { $0.key < $1.key }) where old[key] != value { writes.append(.put(key: key, value: value)) }
        for key in old.keys.sorted() where new[key] == nil { writes.append(.delete(key: key)) }
        return writes
    }
}

/// Set when a check found etcd unreachable; the writer reconciles after it.
private final class LostFlag: Sendable {
    let flag = Atomic(false)
}
