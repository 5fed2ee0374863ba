import DNSModel

/// The part of Go's text/template that CoreDNS's template plugin
/// documents for its records: `{{ .Name }}`, `.Type`, `.Class`, `.Zone`,
/// `.Remote`, `index .Match N`, `.Group.NAME` (or `index .Group "NAME"`),
/// with `{{-` and `-}}` trimming space. Anything else is refused, naming it.
enum GoTemplate {
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    /// `text` with its actions as markers (TemplateRule.Text); a group
    /// name not in `groupNames` is added to it.
    static func compile(_ text: String, groupNames: inout [String]) throws(Unsupported) -> TemplateRule.Text {
        var out = ""
        var rest = Substring(text)
        var trimNext = false
        while let open = rest.range(of: "{{") {
            var literal = rest[..<open.lowerBound]
            if trimNext { literal = literal.drop { $0.isWhitespace } }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw Unsupported(description: "unclosed action in \"\(text)\"")
            }
            var action = rest[open.upperBound..<close.lowerBound]
            if action.hasPrefix("- ") {
                literal = Substring(String(literal.reversed().drop { $0.isWhitespace }.reversed()))
                action = action.dropFirst(2)
            }
            trimNext = action.hasSuffix(" -")
            if trimNext { action = action.dropLast(2) }
            out += literal
            out += try field(String(action), groupNames: &groupNames)
            rest = rest[close.upperBound...]
        }
        out += trimNext ? rest.drop { $0.isWhitespace } : rest
        return TemplateRule.Text(marked: out)
    }

    private static func field(_ action: String, groupNames: inout [String]) throws(Unsupported) -> String {
        let words = action.split(separator: " ").map(String.init)
        let marker = String(TemplateRule.Text.marker)
        func group(_ name: String) -> String {
            if let number = Int(name), (0..<16).contains(number) { return marker + String(UnicodeScalar(UInt8(48 + number))) }
            if !groupNames.contains(name) { groupNames.append(name) }
            return marker + "g" + String(UnicodeScalar(UInt8(48 + groupNames.firstIndex(of: name)!)))
        }
        switch words.count {
        case 1:
            let fields = [".Name": "N", ".Type": "T", ".Class": "C", ".Zone": "Z", ".Remote": "R"]
            if let code = fields[words[0]] { return marker + code }
            if words[0].hasPrefix(".Group."), words[0].count > 7 { return group(String(words[0].dropFirst(7))) }
        case 3 where words[0] == "index" && words[1] == ".Match":
            if let number = Int(words[2]), (0..<16).contains(number) { return group(words[2]) }
        case 3 where words[0] == "index" && words[1] == ".Group":
            if words[2].count > 2, words[2].first == "\"", words[2].last == "\"" { return group(String(words[2].dropFirst().dropLast())) }
        default:
            break
        }
        throw Unsupported(
            description:
                "template construct '{{ \(action.trimmingSpaces) }}' is not supported by this server"
                + " (it takes .Name, .Type, .Class, .Zone, .Remote, index .Match N, .Group.NAME)")
    }
}

extension String {
    fileprivate var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
