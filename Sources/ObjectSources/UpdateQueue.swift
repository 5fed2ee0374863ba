import Synchronization

/// Updates handed from the informers to the one task that applies them.
/// However many arrive while that task is busy, it takes them in one batch:
/// a burst of events costs one publication.
public final class UpdateQueue: Sendable {
    private let pending = Mutex<[ObjectUpdate]>([])
    private let signal: AsyncStream<Void>.Continuation
    /// Yields once whenever updates may be waiting.
    public let wakeups: AsyncStream<Void>

    public init() {
        (wakeups, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func push(_ update: ObjectUpdate) {
        pending.withLock { $0.append(update) }
        signal.yield()
    }

    /// Wakes the applying task with nothing new: something else needs it.
    public func wake() { signal.yield() }

    /// Everything pushed since the last call, oldest first.
    public func take() -> [ObjectUpdate] {
        pending.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}
