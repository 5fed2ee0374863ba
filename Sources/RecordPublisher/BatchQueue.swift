import Synchronization

/// Batches handed from the tasks that read a source (informers, a watch)
/// to the one task that applies them. However many arrive while that task
/// is busy, it takes them in one batch: a burst costs one publication.
public final class BatchQueue<Element: Sendable>: Sendable {
    private let pending = Mutex<[Element]>([])
    private let signal: AsyncStream<Void>.Continuation
    /// Yields once whenever elements may be waiting; ends after `finish()`.
    public let wakeups: AsyncStream<Void>

    public init() {
        (wakeups, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func push(_ element: Element) {
        pending.withLock { $0.append(element) }
        signal.yield()
    }

    /// Wakes the applying task with nothing new: something else needs it.
    public func wake() { signal.yield() }

    /// Ends `wakeups` once what is pushed has been taken: the source is done.
    public func finish() { signal.finish() }

    /// Everything pushed since the last call, oldest first.
    public func take() -> [Element] {
        pending.withLock { queue in
            defer { queue.removeAll(keepingCapacity: true) }
            return queue
        }
    }
}
