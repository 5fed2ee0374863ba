import NIOCore

/// Runs the jobs of tasks that prefer it on one event loop's thread. A task
/// handling what that loop reads then runs on the thread that read it,
/// rather than waking a thread of the global pool for every chunk.
public final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
