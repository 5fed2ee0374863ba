/// `{$NAME}` and `{%NAME%}` in a token replaced by the variable's value,
/// or by nothing when it is not set, as CoreDNS reads its Corefile.
enum EnvironmentSubstitution {
    static func apply(_ text: String, _ environment: [String: String]) -> String {
        guard text.contains("{$") || text.contains("{%") else { return text }
        let unix = replace(text, open: "{$", close: "}", environment)
        return replace(unix, open: "{%", close: "%}", environment)
    }

    private static func replace(_ text: String, open: String, close: String, _ environment: [String: String]) -> String {
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: open), let end = rest[start.upperBound...].range(of: close) {
            result += rest[..<start.lowerBound]
            result += environment[String(rest[start.upperBound..<end.lowerBound])] ?? ""
            rest = rest[end.upperBound...]
        }
        return result + rest
    }
}
