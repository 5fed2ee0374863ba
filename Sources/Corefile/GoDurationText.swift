/// Go's duration syntax (`time.ParseDuration`), which CoreDNS's plugins
/// read: a sequence of decimal numbers each with a unit (`ns`, `us`,
/// `µs`, `ms`, `s`, `m`, `h`), as `1m30s` or `500ms`; `0` alone is zero.
public enum GoDurationText {
    public static func parse(_ text: String) -> Duration? {
        if text == "0" { return .zero }
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(text)
        var seconds = 0.0
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let (unit, scale) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            seconds += value * scale
        }
        // Go refuses a duration past int64 nanoseconds (about 292 years).
        guard !text.isEmpty, seconds * 1e9 < 9.2e18 else { return nil }
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
