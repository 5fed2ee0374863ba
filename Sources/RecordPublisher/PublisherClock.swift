import Foundation

/// The time a publisher reads: the wall clock's second, which SOA serials
/// are made of, and sleeps (the initial sync deadline). Injected, so that
/// tests set the time rather than wait for it.
public protocol PublisherClock: Sendable {
    /// Seconds since the Unix epoch, as 32 bits (RFC 1982 serial arithmetic wraps them).
    var epochSeconds: UInt32 { get }
    func sleep(for duration: Duration) async throws
}

/// The system's clocks.
public struct SystemPublisherClock: PublisherClock {
    public init() {}

    public var epochSeconds: UInt32 { UInt32(truncatingIfNeeded: Int(Date().timeIntervalSince1970)) }

    public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
