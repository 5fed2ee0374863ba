import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// SIGHUP and SIGUSR1 ask for the configuration to be read again now: the
/// objects file, the ConfigMap directory, the Corefile (CoreDNS reloads on
/// SIGUSR1; SIGHUP is the Unix convention). Each follower waits on it
/// between its periodic reads.
final class ReloadSignal: Sendable {
    /// Signals are the process's: one instance follows them for its life.
    static let shared = ReloadSignal()

    private let subscribers = Mutex<[Int: AsyncStream<Void>.Continuation]>([:])
    private let nextSubscriber = Atomic<Int>(0)

    private init() {
        Task { [self] in
            for await _ in Signals.stream([SIGHUP, SIGUSR1]) {
                for subscriber in subscribers.withLock({ Array($0.values) }) { subscriber.yield() }
            }
        }
    }

    /// Each signal from now on as an element, the last one kept while
    /// the reader is busy.
    func requests() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let id = nextSubscriber.add(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[id] = continuation }
        continuation.onTermination = { _ in self.subscribers.withLock { _ = $0.removeValue(forKey: id) } }
        return stream
    }

    /// Waits `period` or until a reload signal; true when signalled.
    @Sendable func wait(upTo period: Duration) async -> Bool {
        let signals = requests()
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(for: period)
                return false
            }
            group.addTask {
                var iterator = signals.makeAsyncIterator()
                return await iterator.next() != nil
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
