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

    private let waiters = Mutex<[Int: CheckedContinuation<Bool, Never>]>([:])
    private let nextWaiter = Atomic<Int>(0)

    private init() {
        Task { [self] in
            for await _ in Signals.stream([SIGHUP, SIGUSR1]) {
                let woken = waiters.withLock { waiters in
                    defer { waiters.removeAll() }
                    return Array(waiters.values)
                }
                for waiter in woken { waiter.resume(returning: true) }
            }
        }
    }

    /// Waits `period` or until a reload signal; true when signalled.
    @Sendable func wait(upTo period: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                try? await Task.sleep(for: period)
                return false
            }
            group.addTask { await self.signalled() }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Each signal as an element, for a follower that only reloads on request.
    func requests() -> AsyncStream<Void> {
        AsyncStream(bufferingPolicy: .bufferingNewest(1)) { continuation in
            let task = Task {
                while !Task.isCancelled {
                    if await wait(upTo: .seconds(3600)) { continuation.yield() }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    private func signalled() async -> Bool {
        let id = nextWaiter.add(1, ordering: .relaxed).newValue
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let cancelled = waiters.withLock { waiters in
                    guard !Task.isCancelled else { return true }
                    waiters[id] = continuation
                    return false
                }
                if cancelled { continuation.resume(returning: false) }
            }
        } onCancel: {
            waiters.withLock { $0.removeValue(forKey: id) }?.resume(returning: false)
        }
    }
}
