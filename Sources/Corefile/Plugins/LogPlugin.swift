import DNSModel

/// `log [NAMES...] [FORMAT] { class CLASSES... }` (coredns.io/plugins/log):
/// a rule per name; a query is logged by the first rule of its block
/// whose name it lies under, when its reply is of one of the rule's classes.
public struct LogRule: Sendable, Equatable {
    public enum Class: String, Sendable, CaseIterable { case all, success, denial, error }

    public var name: DNSName
    /// With `{common}` and `{combined}` written out.
    public var format: String
    public var classes: Set<Class>

    public init(name: DNSName, format: String, classes: Set<Class>) {
        self.name = name
        self.format = format
        self.classes = classes
    }

    public static let commonFormat =
        #"{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}"#
    public static let combinedFormat = commonFormat + #" "{>opcode}""#

    /// The rules of one directive.
    static func rules(_ directive: Directive) throws(CorefileError) -> [LogRule] {
        let read = PluginArguments(plugin: "log")
        var words = directive.arguments
        var format = commonFormat
        // The format is the last argument, told apart by its placeholders.
        if let last = words.last, last.contains("{") {
            format = last.replacing("{common}", with: commonFormat).replacing("{combined}", with: combinedFormat)
            words.removeLast()
        }
        var classes: Set<Class> = []
        try read.options(of: directive) { option throws(CorefileError) in
            guard option.name == "class" else { return false }
            try read.count(option, 1...Int.max)
            for text in option.arguments {
                guard let value = Class(rawValue: text) else { throw read.error("invalid Class: \(text)", at: option) }
                classes.insert(value)
            }
            return true
        }
        let names = words.isEmpty ? [DNSName.root] : try read.zones(words, at: directive)
        return names.map { LogRule(name: $0, format: format, classes: classes.isEmpty ? [.all] : classes) }
    }
}
