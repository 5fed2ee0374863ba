import ArgumentParser
import Corefile

/// A duration as Go's flag package writes it (`60s`, `1m30s`, `500ms`,
/// `2h`), or a plain number of seconds.
struct GoDuration: ExpressibleByArgument, Equatable, CustomStringConvertible {
    var duration: Duration
    var description: String

    init(_ duration: Duration, _ description: String) {
        self.duration = duration
        self.description = description
    }

    init?(argument: String) {
        if let seconds = Double(argument), seconds >= 0, seconds < 9.2e9 {
            self.init(.milliseconds(Int64(seconds * 1000)), argument)
        } else if let duration = GoDurationText.parse(argument) {
            self.init(duration, argument)
        } else {
            return nil
        }
    }

    var defaultValueDescription: String { description }
}
