import RecordModel
import RecordPublisher

/// The cluster as the informers report it, for the publisher: the record
/// store, and the gate that opens once every resource has been listed.
/// The first lists go into the store page by page as they arrive, so that
/// when the last one ends little is left to do but the table.
public struct ClusterState: RecordState {
    public private(set) var store: ClusterRecordStore
    private var gate: SyncGate<ClusterResource>

    public init(options: RecordOptions, resources: Set<ClusterResource>) {
        store = ClusterRecordStore(options: options)
        gate = SyncGate(required: resources)
    }

    public mutating func apply(_ update: ObjectUpdate) -> [String] {
        store.apply(store.objects.changes(for: update))
        if let resource = update.listedResource { gate.listed(resource) }
        return store.problems
    }

    public var isComplete: Bool { gate.isOpen }

    /// The second of the change, as CoreDNS's kubernetes plugin numbers
    /// its serials, never moving back (RFC 1982). Changes within one second
    /// share a serial, so a stream of updates republishes the zones' apexes,
    /// where the SOA is, once a second rather than with every change.
    public mutating func stamp(epochSeconds: UInt32) {
        store.setSerial(max(epochSeconds, store.options.serial))
    }

    public var hasChanges: Bool { store.hasChanges }

    public mutating func takeChanges() -> PendingChanges {
        let changes = store.takeChanges()
        return .delta(heads: store.zoneHeads, changes: changes)
    }

    public mutating func discardChanges() { store.discardChanges() }

    public var contents: ClusterRecordStore.Contents { store.contents }

    public var summary: String { "\(store.objects.services.count) services" }
}
