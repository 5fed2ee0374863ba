import RecordModel
import RecordPublisher

/// A static cluster read from a file, for the publisher: each read of the
/// file replaces the cluster whole, and is published as a whole table.
/// Once it is, the objects are let go: the table is all that is served,
/// and the next read replaces them anyway (at 100,000 services, keeping
/// them held 16 MiB more RSS: 100 against 84 MiB).
public struct ObjectsFileState: RecordState {
    private var store: ClusterRecordStore
    private var serviceCount = 0
    private var replaced = false
    private var loaded = false

    public init(options: RecordOptions) { store = ClusterRecordStore(options: options) }

    public mutating func apply(_ objects: ClusterObjects) -> [String] {
        store = ClusterRecordStore(options: store.options)
        store.load(objects)
        serviceCount = store.objects.services.count
        (replaced, loaded) = (true, true)
        return store.problems
    }

    public var isComplete: Bool { loaded }

    /// The second of the read, never moving back (RFC 1982).
    public mutating func stamp(epochSeconds: UInt32) {
        store.setSerial(max(epochSeconds, store.options.serial))
    }

    public var hasChanges: Bool { replaced }

    public mutating func takeChanges() -> PendingChanges {
        discardChanges()
        return .whole
    }

    public mutating func discardChanges() {
        store.discardChanges()
        replaced = false
    }

    public var contents: ClusterRecordStore.Contents { store.contents }

    public mutating func tablePublished() { store = ClusterRecordStore(options: store.options) }

    public var summary: String { "\(serviceCount) services" }
}
