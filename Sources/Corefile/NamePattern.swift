#if canImport(Glibc)
    import Glibc
#endif

/// A regular expression of a Corefile (Go's RE2 syntax) as the data plane
/// runs it: a POSIX extended regular expression (regcomp). The common
/// shorthands are written out (`\d`: `[0-9]`); RE2's own constructs
/// (`(?i)`, `(?:...)`, lazy quantifiers) are refused rather than read
/// with another meaning.
public enum NamePattern {
    /// CoreDNS's limit on a pattern's length.
    static let maximumLength = 10000

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public static func posix(_ pattern: String) throws(Invalid) -> String {
        guard pattern.utf8.count <= maximumLength else {
            throw Invalid(description: "longer than \(maximumLength) characters")
        }
        if pattern.contains("(?") {
            throw Invalid(description: "(?...) groups and flags are Go's, not POSIX extended regular expressions")
        }
        for lazy in ["*?", "+?", "??", "}?"] where pattern.contains(lazy) {
            throw Invalid(description: "the lazy quantifier \(lazy) is Go's, not POSIX extended regular expressions")
        }
        let posix = pattern.replacing("\\d", with: "[0-9]").replacing("\\D", with: "[^0-9]")
        var compiled = regex_t()
        let status = regcomp(&compiled, posix, REG_EXTENDED)
        defer { if status == 0 { regfree(&compiled) } }
        guard status == 0 else {
            var reason = [CChar](repeating: 0, count: 128)
            regerror(status, &compiled, &reason, reason.count)
            throw Invalid(description: String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return posix
    }
}
