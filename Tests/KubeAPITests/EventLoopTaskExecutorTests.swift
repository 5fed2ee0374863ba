import NIOCore
import NIOPosix
import Testing

@testable import KubeAPI

@Suite struct EventLoopTaskExecutorTests {
    /// A task preferring the executor runs on the loop's thread, and comes
    /// back to it after a suspension.
    @Test func aTaskPreferringItRunsOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let executor = EventLoopTaskExecutor(group.next())
        let onLoop = await Task(executorPreference: executor) {
            let first = executor.loop.inEventLoop
            try? await Task.sleep(for: .milliseconds(5))
            return [first, executor.loop.inEventLoop]
        }.value
        #expect(onLoop == [true, true])
        let elsewhere = await Task { executor.loop.inEventLoop }.value
        #expect(!elsewhere)
        try await group.shutdownGracefully()
    }
}
