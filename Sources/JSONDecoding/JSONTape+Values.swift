/// Reading the values of a tape: strings (unescaped when asked for),
/// numbers, and where in the document an entry is.
extension JSONTape {
    /// The index of the entry after `index` and all it holds.
    func after(_ index: Int) -> Int {
        switch entries[index].kind {
        case .object, .array: return Int(entries[index].end)
        default: return index + 1
        }
    }

    /// A string entry's text. Invalid UTF-8 becomes U+FFFD, as Go's
    /// encoding/json (the API server's) reads it.
    func string(at index: Int) -> String {
        let entry = entries[index]
        let raw = bytes[Int(entry.start)..<Int(entry.end)]
        return entry.kind == .string ? String(decoding: raw, as: UTF8.self) : Self.unescaped(raw)
    }

    /// Whether a string entry (a key) is exactly `text`, compared as bytes
    /// where it has no escapes.
    func string(at index: Int, equals text: inout String) -> Bool {
        let entry = entries[index]
        guard entry.kind == .string else { return string(at: index) == text }
        return text.withUTF8 { wanted in
            wanted.count == Int(entry.end - entry.start)
                && wanted.elementsEqual(bytes[Int(entry.start)..<Int(entry.end)])
        }
    }

    /// A number entry's text.
    func numberText(at index: Int) -> Substring {
        let entry = entries[index]
        return Substring(decoding: bytes[Int(entry.start)..<Int(entry.end)], as: UTF8.self)
    }

    /// The keys and array positions from the document's root down to
    /// `index`, for errors: worked out only when one is thrown.
    func path(to index: Int) -> [any CodingKey] {
        var path: [any CodingKey] = []
        var current = 0
        while current != index {
            let isObject = entries[current].kind == .object
            var member = current + 1
            var position = 0
            while true {
                let value = isObject ? member + 1 : member
                if index >= value && index < after(value) {
                    path.append(isObject ? TapeKey(string(at: member)) : TapeKey(position))
                    current = value
                    break
                }
                if index == member { return path }  // a key's own entry
                member = after(value)
                position += 1
            }
        }
        return path
    }

    /// RFC 8259 section 7's escapes; an unpaired surrogate becomes U+FFFD,
    /// as in Go.
    private static func unescaped(_ raw: ArraySlice<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var i = raw.startIndex
        func hex4(_ at: Int) -> UInt32 {
            raw[at..<at + 4].reduce(0) { value, digit in
                let nibble: UInt8 =
                    digit <= UInt8(ascii: "9") ? digit - UInt8(ascii: "0") : (digit | 0x20) - UInt8(ascii: "a") + 10
                return value << 4 | UInt32(nibble)
            }
        }
        while i < raw.endIndex {
            guard raw[i] == UInt8(ascii: "\\") else {
                out.append(raw[i])
                i += 1
                continue
            }
            let escape = raw[i + 1]
            i += 2
            switch escape {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(i)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= raw.endIndex, raw[i] == UInt8(ascii: "\\"),
                    raw[i + 1] == UInt8(ascii: "u"), (0xDC00..<0xE000).contains(hex4(i + 2))
                {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex4(i + 2) - 0xDC00)
                    i += 6
                }
                out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
            default: out.append(escape)  // \" \\ \/
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A coding key of an error's path: an object's key or an array's position.
struct TapeKey: CodingKey {
    var stringValue: String
    var intValue: Int?

    init(_ string: String) { stringValue = string }
    init(_ position: Int) {
        stringValue = "Index \(position)"
        intValue = position
    }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(intValue) }
}
