import DNSModel

/// Records that a source's batches change, in DNS terms: what a
/// `Publisher` turns into answer tables. Each source of records (the
/// Kubernetes API's informers, an objects file, skydns's etcd tree)
/// conforms with its own model; the publisher owns the value and calls it
/// from one task, in this order: `apply` for each batch, then, once
/// `isComplete`, `stamp` and `takeChanges` (or `discardChanges` before),
/// and `tablePublished` once a whole table built from `contents` is out.
public protocol RecordState: Sendable {
    associatedtype Batch: Sendable
    associatedtype Contents: TableContents

    /// Applies one batch, in the order they came; returns what in it made
    /// no records, and why, for the log.
    mutating func apply(_ batch: Batch) -> [String]

    /// Whether the source has been read whole once (every resource
    /// listed, the file loaded, the keys read): nothing is published before.
    var isComplete: Bool { get }

    /// Sets the SOA serial of what is published next, at `epochSeconds`
    /// (a state that numbers its serials otherwise, by etcd revision, ignores it).
    mutating func stamp(epochSeconds: UInt32)

    /// Whether anything changed since the last `takeChanges` or `discardChanges`.
    var hasChanges: Bool { get }

    /// What changed since the last call.
    mutating func takeChanges() -> PendingChanges

    /// Forgets what changed: the next publication is whole.
    mutating func discardChanges()

    /// Everything, for a whole table.
    var contents: Contents { get }

    /// A whole table made from `contents` is served: what was kept only to
    /// build it can go (a file's objects, which the next read replaces).
    mutating func tablePublished()

    /// A few words for the log line of a whole publication ("120 services").
    var summary: String { get }

    /// Changes applied since the last call that carry the time they were
    /// made at their source, taken once they are published.
    mutating func takeTimedChanges() -> [TimedChange]
}

extension RecordState {
    public mutating func tablePublished() {}
    public mutating func takeTimedChanges() -> [TimedChange] { [] }
}

/// A change that says when it happened at its source (an EndpointSlice's
/// last-change-trigger-time): how long it took to be served is DNS
/// programming latency.
public struct TimedChange: Sendable, Equatable {
    /// `cluster_ip` or `headless_with_selector`, as CoreDNS labels it.
    public var serviceKind: String
    /// Seconds since the epoch.
    public var madeAt: Double

    public init(serviceKind: String, madeAt: Double) { (self.serviceKind, self.madeAt) = (serviceKind, madeAt) }
}

/// What a state has to publish.
public enum PendingChanges: Sendable {
    /// Some names changed: answer them again, under these zone heads.
    case delta(heads: ZoneSet, changes: ZoneChanges)
    /// Everything was replaced (a file read again, etcd's keys read again).
    case whole
}
