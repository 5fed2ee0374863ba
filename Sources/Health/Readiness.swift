import Synchronization

/// Whether the server should get traffic, and why not: shared between
/// whoever learns it and the probe that reports it.
public final class Readiness: Sendable {
    private let state: Mutex<String?>

    /// Starts not ready, for `reason`.
    public init(notReadyBecause reason: String) { state = Mutex(reason) }

    public func markReady() { state.withLock { $0 = nil } }

    public func markNotReady(_ reason: String) { state.withLock { $0 = reason } }

    /// nil when ready, else the reason.
    public var notReadyReason: String? { state.withLock { $0 } }
}
