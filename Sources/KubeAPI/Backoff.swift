/// Waits between failed attempts: doubling from 0.8 s up to 30 s, each
/// wait stretched by up to as much again at random, as client-go's
/// reflector backs off (NewExponentialBackoffManager(800ms, 30s, 2m, 2.0, 1.0)).
public struct Backoff: Sendable {
    public var initial: Duration = .milliseconds(800)
    public var cap: Duration = .seconds(30)
    /// Doubling starts over once attempts succeed again.
    private var current: Duration?

    public init() {}

    /// The next wait, and a longer one the time after.
    public mutating func next<R: RandomNumberGenerator>(using random: inout R) -> Duration {
        let base = current.map { min($0 * 2, cap) } ?? initial
        current = base
        return base * (1 + Double.random(in: 0..<1, using: &random))
    }

    public mutating func next() -> Duration {
        var random = SystemRandomNumberGenerator()
        return next(using: &random)
    }

    public mutating func reset() { current = nil }
}
