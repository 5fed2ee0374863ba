import RecordModel
import RecordPublisher

/// A static cluster read from a file, for the publisher: each read of the
/// file replaces the cluster whole, and is published as a whole table.
public struct ObjectsFileState: RecordState {
    public private(set) var store: ClusterRecordStore
    private var replaced = false
    private var loaded = false

    public init(options: RecordOptions) { store = ClusterRecordStore(options: options) }

    public mutating func apply(_ objects: ClusterObjects) -> [String] {
        store = ClusterRecordStore(options: store.options)
        store.load(objects)
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

    public var summary: String { "\(store.objects.services.count) services" }
}
