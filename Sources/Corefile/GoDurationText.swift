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

    /// A duration as Go writes it (`time.Duration.String`): `30s`,
    /// `5m0s`, `1h0m0s`, `1.5s`, `250ms`.
    public static func format(_ duration: Duration) -> String {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        if nanoseconds == 0 { return "0s" }
        if nanoseconds < 1_000_000_000 {
            let (unit, scale): (String, Int64) =
                nanoseconds < 1000 ? ("ns", 1) : nanoseconds < 1_000_000 ? ("µs", 1000) : ("ms", 1_000_000)
            return decimal(nanoseconds, scale) + unit
        }
        let hours = nanoseconds / 3_600_000_000_000
        let minutes = nanoseconds / 60_000_000_000 % 60
        let seconds = decimal(nanoseconds % 60_000_000_000, 1_000_000_000) + "s"
        if hours > 0 { return "\(hours)h\(minutes)m" + seconds }
        return minutes > 0 ? "\(minutes)m" + seconds : seconds
    }

    /// `value / scale` with the fraction's trailing zeros left out.
    private static func decimal(_ value: Int64, _ scale: Int64) -> String {
        let whole = value / scale
        var fraction = String(value % scale)
        guard value % scale != 0 else { return "\(whole)" }
        fraction = String(repeating: "0", count: String(scale).count - 1 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(whole).\(fraction)"
    }
}
