import DNSModel
import DataPlane
import Foundation
import Health
import Logging
import ServerMetrics

/// The one publication loop: takes a source's batches, applies them to its
/// `RecordState`, and publishes answer tables to the data plane.
///
/// Nothing is published before the state is complete; then a whole table
/// is, and readiness is marked. After that each batch's changes are
/// published as a delta that rebuilds only the names they touched, or as a
/// whole table when they replaced everything or touch a large share of
/// the names. A table that cannot be built is logged, and the last one
/// keeps being served. Batches that arrive while a publication runs go
/// into the next one.
public struct Publisher<State: RecordState>: Sendable {
    let server: DNSServer
    let readiness: Readiness
    let metrics: MetricsRegistry
    let clock: any PublisherClock
    let logger: Logger

    /// A delta touching more than a share of 1 in this many of the names
    /// is slower than a whole table.
    static var wholeTableShare: Int { 4 }

    public init(
        server: DNSServer, readiness: Readiness, metrics: MetricsRegistry, clock: any PublisherClock = SystemPublisherClock(),
        logger: Logger
    ) {
        self.server = server
        self.readiness = readiness
        self.metrics = metrics
        self.clock = clock
        self.logger = logger
    }

    /// Applies and publishes the queue's batches until it ends or the task
    /// is cancelled. Once the first table is out, the loop runs on
    /// `executor` when given (the thread that reads the source, so that a
    /// change is read, applied and published without waking another one).
    public func run(
        _ state: State, from queue: BatchQueue<State.Batch>, followingOn executor: (any TaskExecutor)? = nil
    ) async {
        var wakeups = queue.wakeups.makeAsyncIterator()
        var state = state
        guard var tableNames = await sync(&state, queue, &wakeups) else { return }
        await withTaskExecutorPreference(executor) {
            while await wakeups.next() != nil {
                let names = publishChanges(&state, queue.take(), tableNames: tableNames)
                // Served now: published, or changing nothing that was served.
                let served = Date().timeIntervalSince1970
                for change in state.takeTimedChanges() {
                    metrics.programmed(serviceKind: change.serviceKind, after: served - change.madeAt)
                }
                if let names { tableNames = names }
            }
        }
    }

    /// Logs an error when the first table is not out after `timeout`:
    /// the server keeps serving SERVFAIL for its zones and keeps trying
    /// (kube-dns exited here and crash-looped).
    public func warnUnlessReady(after timeout: Duration, what: String) async {
        try? await clock.sleep(for: timeout)
        guard !Task.isCancelled, readiness.notReadyReason != nil else { return }
        logger.error("\(what) not done in time; still trying", metadata: ["timeout": "\(timeout)"])
    }

    /// Applies batches until the state is complete and its whole table is
    /// published; that table's name count, or nil when the queue ended first.
    private func sync(
        _ state: inout State, _ queue: BatchQueue<State.Batch>, _ wakeups: inout AsyncStream<Void>.Iterator
    ) async -> Int? {
        let start = ContinuousClock.now
        while await wakeups.next() != nil {
            let batch = queue.take()
            guard !batch.isEmpty else { continue }
            let received = ContinuousClock.now
            apply(batch, to: &state)
            // Until it is complete, what changed is published with the rest, whole.
            guard state.isComplete else {
                state.discardChanges()
                continue
            }
            state.stamp(epochSeconds: clock.epochSeconds)
            state.discardChanges()
            guard let names = publishWhole(&state, received: received) else { continue }
            readiness.markReady()
            logger.notice("initial sync done; ready", metadata: ["records": "\(state.summary)", "after": "\(ContinuousClock.now - start)"])
            return names
        }
        return nil
    }

    /// Applies a batch and publishes what it changed; the table's name
    /// count, or nil when nothing was published.
    private func publishChanges(_ state: inout State, _ batch: [State.Batch], tableNames: Int) -> Int? {
        guard !batch.isEmpty else { return nil }
        let received = ContinuousClock.now
        apply(batch, to: &state)
        guard state.hasChanges else { return nil }
        state.stamp(epochSeconds: clock.epochSeconds)
        switch state.takeChanges() {
        case .whole:
            return publishWhole(&state, received: received)
        case .delta(let heads, let changes):
            if changes.nameCount * Self.wholeTableShare > tableNames { return publishWhole(&state, received: received) }
            return publishDelta(heads, changes, received: received)
        }
    }

    private func apply(_ batch: [State.Batch], to state: inout State) {
        for each in batch {
            for problem in state.apply(each) { logger.warning("object skipped", metadata: ["reason": "\(problem)"]) }
        }
    }

    /// Builds and publishes the whole table; its name count, nil when it failed.
    private func publishWhole(_ state: inout State, received: ContinuousClock.Instant) -> Int? {
        let modelled = ContinuousClock.now
        do {
            let contents = state.contents
            let table = try AnswerTable(contents)
            let built = ContinuousClock.now
            let (names, answers, bytes) = (table.nameCount, table.answerCount, table.byteCount)
            server.publish(table)
            state.tablePublished()
            let done = ContinuousClock.now
            logger.info(
                "records published",
                metadata: [
                    "records": "\(state.summary)", "names": "\(names)", "answers": "\(answers)", "table MiB": "\(bytes >> 20)",
                    "serial": "\(contents.heads.serial ?? 0)", "model": "\(modelled - received)", "table": "\(built - modelled)",
                    "swap": "\(done - built)",
                ])
            metrics.published(after: done - received, names: names, bytes: server.tableByteCount())
            return names
        } catch {
            logger.error("records not published; serving the last ones", metadata: ["error": "\(error)"])
            return nil
        }
    }

    /// Publishes the changes as a delta; the new table's name count, nil when it failed.
    private func publishDelta(_ heads: ZoneSet, _ changes: ZoneChanges, received: ContinuousClock.Instant) -> Int? {
        let modelled = ContinuousClock.now
        do {
            let names = try server.publish(heads, changes: changes)
            let done = ContinuousClock.now
            logger.debug(
                "changes published",
                metadata: [
                    "answered": "\(changes.answered.count)", "removed": "\(changes.removed.count)", "names": "\(names)",
                    "serial": "\(heads.serial ?? 0)", "model": "\(modelled - received)", "table": "\(done - modelled)",
                ])
            metrics.published(after: done - received, names: names, bytes: server.tableByteCount())
            return names
        } catch {
            logger.error("changes not published; serving the last records", metadata: ["error": "\(error)"])
            return nil
        }
    }
}
