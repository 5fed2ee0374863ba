/// A Kubernetes label selector in its text form, as `kubectl -l` and the
/// API's `labelSelector` parameter take it (apimachinery's
/// `metav1.ParseToLabelSelector`): requirements joined by commas, each
/// `key`, `!key`, `key=value`, `key==value`, `key!=value`,
/// `key in (a,b)` or `key notin (a,b)`. An object matches when it meets
/// every requirement.
public struct LabelSelector: Sendable, Hashable, CustomStringConvertible {
    public enum Requirement: Sendable, Hashable {
        case exists(String)
        case absent(String)
        /// `=`, `==` and `in`: the label is one of the values.
        case oneOf(String, [String])
        /// `!=` and `notin`: the label is missing or none of the values.
        case noneOf(String, [String])

        var key: String {
            switch self {
            case .exists(let key), .absent(let key), .oneOf(let key, _), .noneOf(let key, _): key
            }
        }
    }

    public private(set) var requirements: [Requirement]

    /// Parses `text`; the error says what is wrong where.
    public init(_ text: String) throws(LabelSelectorError) {
        var scanner = SelectorScanner(text)
        requirements = []
        repeat {
            requirements.append(try scanner.requirement())
        } while try scanner.comma()
    }

    /// Whether an object with these labels is selected.
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .exists(let key): labels[key] != nil
            case .absent(let key): labels[key] == nil
            case .oneOf(let key, let values): labels[key].map(values.contains) ?? false
            case .noneOf(let key, let values): !(labels[key].map(values.contains) ?? false)
            }
        }
    }

    /// The label keys it reads.
    public var keys: Set<String> { Set(requirements.map(\.key)) }

    /// The canonical text, as the API server's `labelSelector` parameter takes it.
    public var description: String {
        requirements.map { requirement in
            switch requirement {
            case .exists(let key): key
            case .absent(let key): "!" + key
            case .oneOf(let key, let values):
                values.count == 1 ? "\(key)=\(values[0])" : "\(key) in (\(values.joined(separator: ",")))"
            case .noneOf(let key, let values):
                values.count == 1 ? "\(key)!=\(values[0])" : "\(key) notin (\(values.joined(separator: ",")))"
            }
        }.joined(separator: ",")
    }
}

public struct LabelSelectorError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
}

/// Reads a selector's text one token at a time.
private struct SelectorScanner {
    let text: [Character]
    var position = 0

    init(_ text: String) { self.text = Array(text) }

    mutating func requirement() throws(LabelSelectorError) -> LabelSelector.Requirement {
        skipSpaces()
        if take("!") {
            return .absent(try key())
        }
        let key = try key()
        skipSpaces()
        if atEnd || peek == "," { return .exists(key) }
        if take("!=") { return .noneOf(key, [try value()]) }
        if take("==") || take("=") { return .oneOf(key, [try value()]) }
        if takeWord("notin") { return .noneOf(key, try valueSet()) }
        if takeWord("in") { return .oneOf(key, try valueSet()) }
        throw failure("expected =, ==, !=, in or notin after '\(key)'")
    }

    /// After a requirement: true when a comma starts another.
    mutating func comma() throws(LabelSelectorError) -> Bool {
        skipSpaces()
        if atEnd { return false }
        guard take(",") else { throw failure("expected ',' or the end") }
        return true
    }

    /// `[prefix/]name`: the prefix a DNS subdomain, the name at most 63
    /// characters of letters, digits, `-`, `_` and `.`, alphanumeric at
    /// both ends (Kubernetes' label key syntax).
    private mutating func key() throws(LabelSelectorError) -> String {
        skipSpaces()
        let start = position
        while !atEnd, peek.isLetter || peek.isNumber || "-_./".contains(peek) { position += 1 }
        let key = String(text[start..<position])
        guard !key.isEmpty else { throw failure("expected a label key") }
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last, Self.isName(name),
            parts.count == 1 || Self.isPrefix(parts[0])
        else { throw LabelSelectorError(description: "'\(key)' is not a label key") }
        return key
    }

    private mutating func value() throws(LabelSelectorError) -> String {
        skipSpaces()
        let start = position
        while !atEnd, peek.isLetter || peek.isNumber || "-_.".contains(peek) { position += 1 }
        let value = String(text[start..<position])
        guard value.isEmpty || Self.isName(Substring(value)) else {
            throw LabelSelectorError(description: "'\(value)' is not a label value")
        }
        return value
    }

    private mutating func valueSet() throws(LabelSelectorError) -> [String] {
        skipSpaces()
        guard take("(") else { throw failure("expected '(' to open a set of values") }
        var values: [String] = []
        repeat {
            values.append(try value())
            skipSpaces()
        } while take(",")
        guard take(")") else { throw failure("expected ')' to close the set of values") }
        return values
    }

    private static func isName(_ name: Substring) -> Bool {
        guard let first = name.first, let last = name.last, name.count <= 63 else { return false }
        return (first.isLetter || first.isNumber) && (last.isLetter || last.isNumber) && name.allSatisfy(\.isASCII)
    }

    private static func isPrefix(_ prefix: Substring) -> Bool {
        prefix.count <= 253 && !prefix.isEmpty
            && prefix.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                label.count <= 63 && !label.contains("_") && isName(label) && label == label.lowercased()
            }
    }

    private var atEnd: Bool { position >= text.count }
    private var peek: Character { text[position] }

    private mutating func skipSpaces() {
        while !atEnd, peek == " " { position += 1 }
    }

    private mutating func take(_ token: String) -> Bool {
        let characters = Array(token)
        guard position + characters.count <= text.count, Array(text[position..<position + characters.count]) == characters else {
            return false
        }
        position += characters.count
        return true
    }

    /// A keyword followed by a space or `(`.
    private mutating func takeWord(_ word: String) -> Bool {
        let end = position + word.count
        guard end < text.count, text[end] == " " || text[end] == "(" else { return false }
        return take(word)
    }

    private func failure(_ what: String) -> LabelSelectorError {
        LabelSelectorError(description: "\(what) at character \(position + 1) of '\(String(text))'")
    }
}
