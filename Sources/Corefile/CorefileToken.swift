/// A word of a Corefile, with where it was written.
public struct CorefileToken: Sendable, Equatable {
    public var text: String
    public var location: CorefileLocation
    /// Written in quotes: never a brace, a comment or a directive's block.
    public var quoted: Bool
    /// The line it stands on once imports are expanded: tokens on one
    /// line are a directive and its arguments.
    var lineID = 0

    public init(_ text: String, at location: CorefileLocation, quoted: Bool = false) {
        self.text = text
        self.location = location
        self.quoted = quoted
    }

    /// An unquoted `{` or `}`.
    public var opensBlock: Bool { !quoted && text == "{" }
    public var closesBlock: Bool { !quoted && text == "}" }
}

/// Splits a Corefile into tokens as CoreDNS's (Caddy's) lexer does: words
/// separated by white space; `#` outside quotes starts a comment to the end
/// of the line; a token that starts with `"` runs to the next unescaped
/// `"` (new lines included, `\"` a quote); braces are tokens of their own
/// only when white space separates them.
enum CorefileLexer {
    static func tokens(of text: String, file: String) throws(CorefileError) -> [CorefileToken] {
        var tokens: [CorefileToken] = []
        var line = 1
        var current: [Character] = []
        var start = line
        var quoted = false
        var inQuotes = false
        var escaped = false
        var comment = false

        func finish() {
            guard !current.isEmpty || quoted else { return }
            tokens.append(CorefileToken(String(current), at: CorefileLocation(file: file, line: start), quoted: quoted))
            current = []
            quoted = false
        }

        for character in text {
            if comment {
                if character == "\n" {
                    comment = false
                    line += 1
                }
                continue
            }
            if inQuotes {
                if escaped {
                    if character != "\"" && character != "\\" { current.append("\\") }
                    current.append(character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inQuotes = false
                    finish()
                } else {
                    current.append(character)
                }
                if character == "\n" { line += 1 }
                continue
            }
            switch character {
            case "\n", " ", "\t", "\r", "\r\n":
                finish()
                if character == "\n" || character == "\r\n" { line += 1 }
            case "#":
                finish()
                comment = true
            case "\"" where current.isEmpty:
                (inQuotes, quoted, start) = (true, true, line)
            default:
                if current.isEmpty { start = line }
                current.append(character)
            }
        }
        if inQuotes {
            throw CorefileError("Unexpected EOF: a quoted token is not closed", at: CorefileLocation(file: file, line: start))
        }
        finish()
        return tokens
    }
}
