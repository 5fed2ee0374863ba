/// Waits between failed attempts: doubling from 0.8 s up to 30 s, each
/// wait stretched by up to as much again at random, and starting over only
/// after two minutes without a failure, as client-go's reflector backs off
/// (NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0)). A request that
/// fails slowly, or a watch that breaks soon after it was made, does not
/// count as having worked: a hundred replicas must not hammer a struggling
/// API server.
public struct Backoff: Sendable {
    public var initial: Duration = .milliseconds(800)
    public var cap: Duration = .seconds(30)
    public var resetAfter: Duration = .seconds(120)
    private var current: Duration?
    private var lastFailure: ContinuousClock.Instant?

    public init() {}

    /// The wait after a failure at `now`, longer than the last one unless
    /// that was `resetAfter` ago.
    public mutating func next<R: RandomNumberGenerator>(at now: ContinuousClock.Instant = .now, using random: inout R) -> Duration {
        if let lastFailure, now - lastFailure >= resetAfter { current = nil }
        lastFailure = now
        let base = current.map { min($0 * 2, cap) } ?? initial
        current = base
        return base * (1 + Double.random(in: 0..<1, using: &random))
    }

    public mutating func next(at now: ContinuousClock.Instant = .now) -> Duration {
        var random = SystemRandomNumberGenerator()
        return next(at: now, using: &random)
    }

    /// Starts over, for a caller that knows the attempt has succeeded.
    public mutating func reset() {
        current = nil
        lastFailure = nil
    }
}
