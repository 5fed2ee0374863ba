import RecordModel
import RecordPublisher

/// The cluster as the informers report it, for the publisher: the record
/// store, and the gate that opens once every resource has been listed.
/// The first lists go into the store page by page as they arrive, so that
/// when the last one ends little is left to do but the table.
public struct ClusterState: RecordState {
    public private(set) var store: ClusterRecordStore
    private var gate: SyncGate<ClusterResource>
    private var timed: [TimedChange] = []
    /// Timed changes kept at most while publications fail.
    static let timedLimit = 10_000

    public init(options: RecordOptions, resources: Set<ClusterResource>) {
        store = ClusterRecordStore(options: options)
        gate = SyncGate(required: resources)
    }

    public mutating func apply(_ update: ObjectUpdate) -> [String] {
        if gate.isOpen, let change = timedChange(update), timed.count < Self.timedLimit { timed.append(change) }
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

    public mutating func takeTimedChanges() -> [TimedChange] {
        defer { timed = [] }
        return timed
    }

    /// A watched slice's change, timed by the controller, of a Service
    /// known here (CoreDNS's programming latency measures only those; the
    /// initial lists are not changes).
    private func timedChange(_ update: ObjectUpdate) -> TimedChange? {
        switch update {
        case .endpointSlices(.added(let slice)), .endpointSlices(.modified(let slice)):
            guard let madeAt = slice.lastChangeTriggerTime, let key = slice.serviceKey,
                let service = store.objects.services[key]
            else { return nil }
            return TimedChange(serviceKind: service.isHeadless ? "headless_with_selector" : "cluster_ip", madeAt: madeAt)
        default:
            return nil
        }
    }
}
