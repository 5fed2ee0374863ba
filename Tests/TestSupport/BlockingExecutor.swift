import Dispatch

/// A task executor on Dispatch's own threads, not the cooperative pool.
/// Tests that block (dig, polling loops, waiting for a process) run on it
/// so that they cannot starve async tests of the pool's few threads (two
/// on a two-core machine).
public final class BlockingExecutor: TaskExecutor {
    public static let shared = BlockingExecutor()

    private let queue = DispatchQueue(label: "tests.blocking", attributes: .concurrent)

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Runs `body` with its tasks on the blocking executor.
public func offThePool<T: Sendable>(_ body: () async throws -> T) async rethrows -> T {
    try await withTaskExecutorPreference(BlockingExecutor.shared, operation: body)
}
