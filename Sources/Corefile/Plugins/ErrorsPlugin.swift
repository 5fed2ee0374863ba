/// `errors { consolidate DURATION REGEXP [LEVEL] [show_first]; stacktrace }`
/// (coredns.io/plugins/errors): each query answered SERVFAIL logged with
/// its reason; those matching a `consolidate` pattern counted over its
/// window and logged as one line instead.
public struct ErrorsPlugin: Sendable, Equatable {
    public struct Consolidation: Sendable, Equatable {
        public var window: Duration
        /// As written, for the summary line.
        public var pattern: String
        /// In POSIX extended syntax, as it is matched.
        public var posix: String
        /// `warning`, `error` (the default), `info` or `debug`.
        public var level: String
        /// The first error of a window is logged at once.
        public var showFirst: Bool

        public init(window: Duration, pattern: String, posix: String, level: String, showFirst: Bool) {
            (self.window, self.pattern, self.posix, self.level, self.showFirst) = (window, pattern, posix, level, showFirst)
        }
    }

    public var consolidations: [Consolidation] = []

    public init(consolidations: [Consolidation] = []) { self.consolidations = consolidations }

    static let levels = ["warning", "error", "info", "debug"]

    init(_ directive: Directive) throws(CorefileError) {
        let read = PluginArguments(plugin: "errors")
        try read.count(directive, 0...0)
        try read.options(of: directive) { option throws(CorefileError) in
            switch option.name {
            case "stacktrace":
                _ = try read.flag(option)
            case "consolidate":
                try read.count(option, 2...4)
                let window = try read.duration(option.arguments[0], "consolidate", at: option)
                let pattern = option.arguments[1]
                let posix: String
                do { posix = try NamePattern(pattern).posix } catch {
                    throw read.error("invalid regex pattern '\(pattern)': \(error)", at: option)
                }
                var level = "error"
                var showFirst = false
                for word in option.arguments.dropFirst(2) {
                    if word == "show_first" {
                        showFirst = true
                    } else {
                        level = try read.oneOf(word, Self.levels, "level", at: option)
                    }
                }
                consolidations.append(
                    Consolidation(window: window, pattern: pattern, posix: posix, level: level, showFirst: showFirst))
            default:
                return false
            }
            return true
        }
    }
}
