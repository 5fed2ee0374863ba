/// A JSON text checked against RFC 8259 and indexed in one pass: every
/// value is one entry of `entries`, in document order, so a container's
/// members follow it and it records where they end. Decoding then walks
/// the entries and reads only the values it asks for; the bytes of a
/// skipped value (a Kubernetes object's `managedFields`) are looked at once.
struct JSONTape {
    enum Kind: UInt8 {
        case object, array, string, escapedString, number, `true`, `false`, null
    }

    /// One value. Strings and numbers: their bytes are `bytes[start..<end]`
    /// (a string's without its quotes). Objects and arrays: `start` is
    /// their count of members (an object's are key, value, key, value),
    /// `end` the index of the entry after their last one.
    struct Entry {
        var kind: Kind
        var start: UInt32
        var end: UInt32
    }

    let bytes: [UInt8]
    let entries: [Entry]

    /// Nesting deeper than this is refused rather than followed.
    static let maximumDepth = 512

    init(_ bytes: [UInt8]) throws(JSONSyntaxError) {
        guard bytes.count < Int(UInt32.max) else { throw JSONSyntaxError(offset: 0, reason: "text too long") }
        let scanner = Scanner(bytes: bytes)
        try scanner.scan()
        self.bytes = bytes
        entries = scanner.entries
    }
}

/// Makes a tape's entries. A class: as a struct with mutating methods,
/// every append copied the whole array (the compiler did not keep it
/// unique), which made a list of 1.2 MB take 6 s rather than 30 ms.
private final class Scanner {
    typealias Entry = JSONTape.Entry
    let bytes: [UInt8]
    var entries: [Entry] = []

    init(bytes: [UInt8]) {
        self.bytes = bytes
        entries.reserveCapacity(bytes.count / 8)
    }

    func scan() throws(JSONSyntaxError) {
        var position = skipWhitespace(from: 0)
        // The containers open around `position`, innermost last.
        var open: [Int] = []
        var expectValue = true
        while true {
            if expectValue { position = try scanValue(at: position, open: &open) }
            position = skipWhitespace(from: position)
            guard let container = open.last else { break }
            guard position < bytes.count else { throw JSONSyntaxError(offset: position, reason: "unexpected end") }
            let isObject = entries[container].kind == .object
            if bytes[position] == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                entries[container].end = UInt32(entries.count)
                open.removeLast()
                position += 1
                expectValue = false
                continue
            }
            // A member after the first comes after a comma.
            if entries[container].start > 0 {
                guard bytes[position] == UInt8(ascii: ",") else {
                    throw JSONSyntaxError(offset: position, reason: isObject ? "expected , or }" : "expected , or ]")
                }
                position = skipWhitespace(from: position + 1)
            }
            entries[container].start += 1
            if isObject { position = try scanKey(at: position) }
            expectValue = true
        }
        guard position == bytes.count else { throw JSONSyntaxError(offset: position, reason: "text after the value") }
    }

    /// One value, or the opening of a container (pushed on `open`, its
    /// members read by `scan`); returns the position after what it read.
    private func scanValue(at start: Int, open: inout [Int]) throws(JSONSyntaxError) -> Int {
        guard start < bytes.count else { throw JSONSyntaxError(offset: start, reason: "expected a value") }
        switch bytes[start] {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            guard open.count < JSONTape.maximumDepth else { throw JSONSyntaxError(offset: start, reason: "nested too deep") }
            open.append(entries.count)
            entries.append(Entry(kind: bytes[start] == UInt8(ascii: "{") ? .object : .array, start: 0, end: 0))
            return start + 1
        case UInt8(ascii: "\""):
            return try scanString(at: start)
        case UInt8(ascii: "t"):
            return try scanLiteral("true", .true, at: start)
        case UInt8(ascii: "f"):
            return try scanLiteral("false", .false, at: start)
        case UInt8(ascii: "n"):
            return try scanLiteral("null", .null, at: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try scanNumber(at: start)
        default:
            throw JSONSyntaxError(offset: start, reason: "expected a value")
        }
    }

    /// A member's key and its colon; returns where its value starts.
    private func scanKey(at start: Int) throws(JSONSyntaxError) -> Int {
        guard start < bytes.count, bytes[start] == UInt8(ascii: "\"") else {
            throw JSONSyntaxError(offset: start, reason: "expected a string key")
        }
        let afterKey = skipWhitespace(from: try scanString(at: start))
        guard afterKey < bytes.count, bytes[afterKey] == UInt8(ascii: ":") else {
            throw JSONSyntaxError(offset: afterKey, reason: "expected :")
        }
        return skipWhitespace(from: afterKey + 1)
    }

    private func scanString(at quote: Int) throws(JSONSyntaxError) -> Int {
        var position = quote + 1
        var escaped = false
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: "\""):
                entries.append(Entry(kind: escaped ? .escapedString : .string, start: UInt32(quote + 1), end: UInt32(position)))
                return position + 1
            case UInt8(ascii: "\\"):
                escaped = true
                guard position + 1 < bytes.count else { throw JSONSyntaxError(offset: quote, reason: "unterminated string") }
                switch bytes[position + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 2
                case UInt8(ascii: "u"):
                    guard position + 5 < bytes.count, bytes[position + 2...position + 5].allSatisfy(\.isHexDigit) else {
                        throw JSONSyntaxError(offset: position, reason: "bad \\u escape")
                    }
                    position += 6
                default:
                    throw JSONSyntaxError(offset: position, reason: "bad escape")
                }
            case 0..<0x20:
                // RFC 8259 section 7: control characters must be escaped.
                throw JSONSyntaxError(offset: position, reason: "control character in a string")
            default:
                position += 1
            }
        }
        throw JSONSyntaxError(offset: quote, reason: "unterminated string")
    }

    private func scanLiteral(_ literal: StaticString, _ kind: JSONTape.Kind, at start: Int) throws(JSONSyntaxError) -> Int {
        let length = literal.utf8CodeUnitCount
        guard start + length <= bytes.count,
            UnsafeBufferPointer(start: literal.utf8Start, count: length).elementsEqual(bytes[start..<start + length])
        else { throw JSONSyntaxError(offset: start, reason: "expected a value") }
        entries.append(Entry(kind: kind, start: UInt32(start), end: UInt32(start + length)))
        return start + length
    }

    /// RFC 8259 section 6: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    private func scanNumber(at start: Int) throws(JSONSyntaxError) -> Int {
        var position = start
        func digits() -> Int {
            let first = position
            while position < bytes.count, bytes[position].isDigit { position += 1 }
            return position - first
        }
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = digits()
        guard integerDigits > 0, integerDigits == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
            throw JSONSyntaxError(offset: start, reason: "bad number")
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            position += 1
            guard digits() > 0 else { throw JSONSyntaxError(offset: start, reason: "bad number") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard digits() > 0 else { throw JSONSyntaxError(offset: start, reason: "bad number") }
        }
        entries.append(Entry(kind: .number, start: UInt32(start), end: UInt32(position)))
        return position
    }

    private func skipWhitespace(from start: Int) -> Int {
        var position = start
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): position += 1
            default: return position
            }
        }
        return position
    }
}

/// Why a text is not JSON, and where.
public struct JSONSyntaxError: Error, CustomStringConvertible {
    /// The byte the problem was found at.
    public let offset: Int
    public let reason: String

    public var description: String { "not JSON at byte \(offset): \(reason)" }
}

extension UInt8 {
    var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }

    var isHexDigit: Bool {
        isDigit || (self >= UInt8(ascii: "a") && self <= UInt8(ascii: "f")) || (self >= UInt8(ascii: "A") && self <= UInt8(ascii: "F"))
    }
}
