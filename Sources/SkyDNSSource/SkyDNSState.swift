import RecordModel
import RecordPublisher

/// What the etcd follower reads, as the publisher takes it.
public enum SkyDNSBatch: Sendable {
    /// Every key under the domain, read at `revision`: replaces what was read before.
    case read([SkyDNSRecords.Record], revision: Int64)
    /// Changes watched up to `revision`.
    case events([SkyDNSTree.Event], revision: Int64)
}

/// skydns's records for the publisher: the tree of the keys read, whose
/// SOA serial is the etcd revision they reflect.
public struct SkyDNSState: RecordState {
    private var tree: SkyDNSTree
    private var revision: Int64 = 0
    private var read = false
    private var replaced = false
    private var changed = false
    /// The whole zone, made when a read was taken (making it indexes the
    /// tree's targets), until it is published or the next batch comes.
    private var whole: ZoneSet?

    public init(domain: DNSName, ttl: UInt32) { tree = SkyDNSTree(domain: domain, ttl: ttl) }

    public mutating func apply(_ batch: SkyDNSBatch) -> [String] {
        whole = nil
        switch batch {
        case .read(let records, let revision):
            tree = SkyDNSTree(domain: tree.domain, ttl: tree.ttl)
            for record in records { tree.put(record) }
            (self.revision, read, replaced) = (revision, true, true)
        case .events(let events, let revision):
            for event in events { tree.apply(event) }
            self.revision = revision
            changed = changed || !events.isEmpty
        }
        return []
    }

    public var isComplete: Bool { read }

    /// The serial is the revision, not the time.
    public mutating func stamp(epochSeconds: UInt32) {}

    public var hasChanges: Bool { replaced || changed }

    public mutating func takeChanges() -> PendingChanges {
        guard !replaced else {
            discardChanges()
            return .whole
        }
        changed = false
        let (heads, changes) = tree.takeChanges(serial: serial)
        return .delta(heads: heads, changes: changes)
    }

    public mutating func discardChanges() {
        whole = tree.wholeZones(serial: serial)
        (replaced, changed) = (false, false)
    }

    /// The whole zone, as last made or (after deltas) made now from a
    /// copy of the tree, whose own index the deltas keep.
    public var contents: ZoneSet {
        if let whole { return whole }
        var copy = tree
        return copy.wholeZones(serial: serial)
    }

    public mutating func tablePublished() { whole = nil }

    public var summary: String { "\(tree.recordCount) keys, revision \(revision)" }

    private var serial: UInt32 { UInt32(truncatingIfNeeded: revision) }
}
