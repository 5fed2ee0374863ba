import RecordPublisher
import Synchronization

/// A publisher's clock that tests move by hand: the epoch second is set,
/// and sleepers wake when `advance` passes their deadline, never by
/// themselves.
public final class ManualClock: PublisherClock {
    private struct Sleeper {
        var id: Int
        var deadline: Duration
        var continuation: CheckedContinuation<Void, Never>
    }
    private struct State {
        var epochSeconds: UInt32
        var elapsed: Duration = .zero
        var sleepers: [Sleeper] = []
        var nextID = 0
    }
    private let state: Mutex<State>

    public init(epochSeconds: UInt32) { state = Mutex(State(epochSeconds: epochSeconds)) }

    public var epochSeconds: UInt32 {
        get { state.withLock { $0.epochSeconds } }
        set { state.withLock { $0.epochSeconds = newValue } }
    }

    /// Tasks asleep on this clock now.
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    public func sleep(for duration: Duration) async throws {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let due = state.withLock { state -> Bool in
                    let deadline = state.elapsed + duration
                    guard deadline > state.elapsed, !Task.isCancelled else { return true }
                    state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
                    return false
                }
                if due { continuation.resume() }
            }
        } onCancel: {
            wake { $0.id == id }
        }
        try Task.checkCancellation()
    }

    /// Moves the time on by `duration` (the epoch second too) and wakes the sleepers now due.
    public func advance(by duration: Duration) {
        let elapsed = state.withLock { state in
            state.elapsed += duration
            state.epochSeconds &+= UInt32(truncatingIfNeeded: duration.components.seconds)
            return state.elapsed
        }
        wake { $0.deadline <= elapsed }
    }

    private func wake(_ which: (Sleeper) -> Bool) {
        let due = state.withLock { state in
            let due = state.sleepers.filter(which)
            state.sleepers.removeAll(where: which)
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }
}
