/// A timestamp as the API writes them (RFC 3339, Go's RFC3339Nano:
/// `2024-05-01T12:30:45.123456789Z`, or with an offset such as `+02:00`),
/// read by hand: the record model reads its objects without Foundation,
/// and one fixed form needs no formatter object made or shared.
public enum RFC3339Time {
    /// Seconds since the Unix epoch; nil when `text` is not such a timestamp.
    public static func epochSeconds(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"), bytes[13] == UInt8(ascii: ":"),
            bytes[16] == UInt8(ascii: ":"),
            let year = number(bytes, 0, 4), let month = number(bytes, 5, 2), let day = number(bytes, 8, 2),
            let hour = number(bytes, 11, 2), let minute = number(bytes, 14, 2), let second = number(bytes, 17, 2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var at = 19
        var fraction = 0.0
        if bytes[at] == UInt8(ascii: ".") {
            var scale = 0.1
            at += 1
            let start = at
            while at < bytes.count, let digit = digit(bytes[at]) {
                fraction += Double(digit) * scale
                scale /= 10
                at += 1
            }
            guard at > start else { return nil }
        }
        guard at < bytes.count else { return nil }
        var offset = 0
        switch bytes[at] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            guard at + 1 == bytes.count else { return nil }
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard at + 6 == bytes.count, bytes[at + 3] == UInt8(ascii: ":"), let hours = number(bytes, at + 1, 2),
                let minutes = number(bytes, at + 4, 2)
            else { return nil }
            offset = (hours * 60 + minutes) * 60 * (bytes[at] == UInt8(ascii: "+") ? 1 : -1)
        default:
            return nil
        }
        let days = daysSinceEpoch(year: year, month: month, day: day)
        return Double(days * 86_400 + hour * 3600 + minute * 60 + second - offset) + fraction
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
    /// (the civil-from-days algorithm run backwards, by eras of 400 years).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func number(_ bytes: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for at in start..<start + count {
            guard let digit = digit(bytes[at]) else { return nil }
            value = value * 10 + digit
        }
        return value
    }
}
