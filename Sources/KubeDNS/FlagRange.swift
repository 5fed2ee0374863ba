import ArgumentParser

/// The ranges of numeric flags. A value outside its range is a one-line
/// error naming the flag and the range, at start, rather than a trap where
/// the value meets a 32-bit field of the data plane.
enum FlagRange {
    static func check(_ flag: String, _ value: Int, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ValidationError("--\(flag) \(value): from \(range.lowerBound) to \(range.upperBound)")
        }
    }

    static func check(_ flag: String, _ value: GoDuration, _ range: ClosedRange<Duration>) throws {
        guard range.contains(value.duration) else {
            throw ValidationError("--\(flag) \(value): from \(text(range.lowerBound)) to \(text(range.upperBound))")
        }
    }

    static let port = 0...65535

    /// A duration as the flags take it: `100ms`, `30s`, `5m`, `168h`.
    private static func text(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        if seconds == 0 && attoseconds == 0 { return "0s" }
        if attoseconds != 0 { return "\(seconds * 1000 + attoseconds / 1_000_000_000_000_000)ms" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
