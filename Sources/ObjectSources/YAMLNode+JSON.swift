import Yams

/// A YAML document as JSON text, as kubectl sends YAML to the API: plain
/// scalars that YAML reads as null, booleans or numbers become those
/// (`yes` and `on` are booleans in YAML 1.1, as in kubectl's YAML), every
/// other scalar a string, and mapping keys strings.
///
/// Each alias is written out in full, so a few nested aliases can stand for
/// gigabytes ("billion laughs"): the text stops at `limit` bytes and at
/// `maximumDepth` levels, with an error instead.
extension Node {
    static let maximumDepth = 64

    func jsonText(limit: Int) throws(ObjectsFileError) -> [UInt8] {
        var text: [UInt8] = []
        try appendJSON(to: &text, limit: limit, depth: 0)
        return text
    }

    private func appendJSON(to text: inout [UInt8], limit: Int, depth: Int) throws(ObjectsFileError) {
        guard depth < Self.maximumDepth else {
            throw ObjectsFileError(path: "", reason: "line \(mark?.line ?? 0): nested deeper than \(Self.maximumDepth) levels")
        }
        guard text.count <= limit else {
            throw ObjectsFileError(
                path: "", reason: "line \(mark?.line ?? 0): aliases expand the document past \(limit) bytes; written out, it is too big")
        }
        switch self {
        case .scalar(let scalar):
            text += (scalarJSON ?? Self.quoted(scalar.string)).utf8
        case .mapping(let mapping):
            text.append(UInt8(ascii: "{"))
            for (number, (key, value)) in mapping.enumerated() {
                guard case .scalar(let name) = key else {
                    throw ObjectsFileError(path: "", reason: "line \(key.mark?.line ?? 0): a mapping key that is not a scalar")
                }
                if number > 0 { text.append(UInt8(ascii: ",")) }
                text += Self.quoted(name.string).utf8
                text.append(UInt8(ascii: ":"))
                try value.appendJSON(to: &text, limit: limit, depth: depth + 1)
            }
            text.append(UInt8(ascii: "}"))
        case .sequence(let sequence):
            text.append(UInt8(ascii: "["))
            for (number, element) in sequence.enumerated() {
                if number > 0 { text.append(UInt8(ascii: ",")) }
                try element.appendJSON(to: &text, limit: limit, depth: depth + 1)
            }
            text.append(UInt8(ascii: "]"))
        case .alias:
            // The parser puts the anchored node in place of each alias.
            throw ObjectsFileError(path: "", reason: "line \(mark?.line ?? 0): an alias left unresolved")
        }
    }

    /// A scalar YAML reads as null, a boolean or a number, in JSON; nil for
    /// one that stays a string.
    private var scalarJSON: String? {
        switch Tag.Name(rawValue: tag.rawValue) {
        case .null: return "null"
        case .bool: return bool.map { String($0) }
        case .int: return int.map { String($0) }
        case .float: return float.flatMap { $0.isFinite ? "\($0)" : nil }
        default: return nil
        }
    }

    /// A JSON string (RFC 8259 section 7).
    private static func quoted(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case _ where scalar.value < 0x20: result += "\\u00" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
