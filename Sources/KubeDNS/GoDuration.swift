import ArgumentParser

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
        if let seconds = Double(argument), seconds >= 0 {
            self.init(.milliseconds(Int64(seconds * 1000)), argument)
            return
        }
        let units: [(String, Double)] = [("ms", 0.001), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(argument)
        var total = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        guard !argument.isEmpty else { return nil }
        self.init(.milliseconds(Int64(total * 1000)), argument)
    }

    var defaultValueDescription: String { description }
}
