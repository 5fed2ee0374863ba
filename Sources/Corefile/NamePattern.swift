#if canImport(Glibc)
    import Glibc
#endif

/// A regular expression of a Corefile (Go's RE2 syntax) as the data plane
/// runs it: a POSIX extended regular expression (regcomp). The common
/// shorthands are written out (`\d`: `[0-9]`), named groups (`(?P<a>...)`)
/// become plain groups whose numbers are kept by name; RE2's other own
/// constructs (`(?i)`, `(?:...)`, lazy quantifiers) are refused rather
/// than read with another meaning.
public struct NamePattern: Sendable, Equatable {
    /// The pattern in POSIX extended syntax.
    public var posix: String
    /// The number of each named group.
    public var groups: [String: Int]

    /// CoreDNS's limit on a pattern's length.
    static let maximumLength = 10000

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public init(_ pattern: String) throws(Invalid) {
        guard pattern.utf8.count <= Self.maximumLength else {
            throw Invalid(description: "longer than \(Self.maximumLength) characters")
        }
        for lazy in ["*?", "+?", "??", "}?"] where pattern.contains(lazy) {
            throw Invalid(description: "the lazy quantifier \(lazy) is Go's, not POSIX extended regular expressions")
        }
        (posix, groups) = try Self.rewritten(pattern)
        var compiled = regex_t()
        let status = regcomp(&compiled, posix, REG_EXTENDED)
        defer { if status == 0 { regfree(&compiled) } }
        guard status == 0 else {
            var reason = [CChar](repeating: 0, count: 128)
            regerror(status, &compiled, &reason, reason.count)
            throw Invalid(description: String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }

    /// The pattern with `\d`, `\D` and named groups written the POSIX way:
    /// every `(` outside a bracket expression opens a group, numbered in order.
    private static func rewritten(_ pattern: String) throws(Invalid) -> (String, [String: Int]) {
        let text = Array(pattern)
        var out = ""
        var groups: [String: Int] = [:]
        var count = 0
        var i = 0
        var inBracket = false
        while i < text.count {
            let c = text[i]
            if c == "\\", i + 1 < text.count {
                let next = text[i + 1]
                out += inBracket ? "\\\(next)" : next == "d" ? "[0-9]" : next == "D" ? "[^0-9]" : "\\\(next)"
                i += 2
                continue
            }
            if inBracket {
                if c == "]" { inBracket = false }
                out.append(c)
                i += 1
                continue
            }
            if c == "[" {
                inBracket = true
                out.append(c)
                // A `]` first in the bracket is one of its characters.
                if i + 1 < text.count, text[i + 1] == "]" || (text[i + 1] == "^" && i + 2 < text.count && text[i + 2] == "]") {
                    let extra = text[i + 1] == "^" ? 2 : 1
                    out += String(text[(i + 1)...(i + extra)])
                    i += extra
                }
                i += 1
                continue
            }
            if c == "(" {
                count += 1
                if i + 1 < text.count, text[i + 1] == "?" {
                    let rest = String(text[(i + 2)...])
                    let prefix = rest.hasPrefix("P<") ? 2 : rest.hasPrefix("<") ? 1 : 0
                    guard prefix > 0, let close = rest.firstIndex(of: ">") else {
                        throw Invalid(description: "(?...) groups and flags are Go's, not POSIX extended regular expressions")
                    }
                    let name = String(rest[rest.index(rest.startIndex, offsetBy: prefix)..<close])
                    groups[name] = count
                    out.append("(")
                    i += 2 + rest.distance(from: rest.startIndex, to: close) + 1
                    continue
                }
            }
            out.append(c)
            i += 1
        }
        return (out, groups)
    }
}
