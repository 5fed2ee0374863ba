import Synchronization

/// Set once, when the first complete cluster has been published.
final class SyncFlag: Sendable {
    private let value = Atomic(false)

    var isSet: Bool { value.load(ordering: .acquiring) }

    func set() { value.store(true, ordering: .releasing) }
}
