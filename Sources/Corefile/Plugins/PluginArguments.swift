import DNSModel

/// Reading a plugin's arguments and options, with CoreDNS's kind of error
/// (`plugin/cache: ...`) at the line that is wrong.
struct PluginArguments {
    let plugin: String

    func error(_ message: String, at directive: Directive) -> CorefileError {
        CorefileError("plugin/\(plugin): \(message)", at: directive.location)
    }

    /// The option lines of the plugin's block; an unknown one is an error.
    func options(of directive: Directive, _ handle: (Directive) throws(CorefileError) -> Bool) throws(CorefileError) {
        for option in directive.block ?? [] {
            guard try handle(option) else { throw error("unknown property '\(option.name)'", at: option) }
        }
    }

    func count(_ directive: Directive, _ range: ClosedRange<Int>) throws(CorefileError) {
        guard range.contains(directive.arguments.count) else {
            let count = directive.arguments.count
            let what = count == 0 ? "none" : "\(count)"
            throw error("'\(directive.name)' takes \(Self.describe(range)), not \(what)", at: directive)
        }
    }

    /// An option of one argument, a Go duration (`expire 10s`).
    func durationValue(of option: Directive) throws(CorefileError) -> Duration {
        try count(option, 1...1)
        return try duration(option.arguments[0], option.name, at: option)
    }

    /// An option of one argument, a whole number in `range` (`ttl 30`).
    func integerValue(of option: Directive, _ range: ClosedRange<Int>) throws(CorefileError) -> Int {
        try count(option, 1...1)
        return try integer(option.arguments[0], range, option.name, at: option)
    }

    /// An option of one argument, one of `Choice`'s cases (`pods insecure`).
    func choiceValue<Choice: RawRepresentable & CaseIterable>(of option: Directive, _ what: String) throws(CorefileError) -> Choice
    where Choice.RawValue == String {
        try count(option, 1...1)
        let text = option.arguments[0]
        guard let choice = Choice(rawValue: text) else {
            throw error("\(what) '\(text)' is not one of \(Choice.allCases.map(\.rawValue).joined(separator: ", "))", at: option)
        }
        return choice
    }

    /// An option without arguments (`force_tcp`): true.
    func flag(_ option: Directive) throws(CorefileError) -> Bool {
        try count(option, 0...0)
        return true
    }

    func noBlock(_ directive: Directive) throws(CorefileError) {
        guard directive.block == nil else { throw error("'\(directive.name)' takes no block", at: directive) }
    }

    func integer(_ text: String, _ range: ClosedRange<Int>, _ what: String, at directive: Directive) throws(CorefileError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw error("\(what) '\(text)' is not a whole number from \(range.lowerBound) to \(range.upperBound)", at: directive)
        }
        return value
    }

    func duration(_ text: String, _ what: String, at directive: Directive) throws(CorefileError) -> Duration {
        guard let value = GoDurationText.parse(text), value >= .zero else {
            throw error("\(what) '\(text)' is not a duration (such as 30s, 5m, 1h30m)", at: directive)
        }
        return value
    }

    func zones(_ texts: [String], at directive: Directive) throws(CorefileError) -> [DNSName] {
        var zones: [DNSName] = []
        for text in texts {
            if text.contains("/") {
                zones += try ServerKey.reverseZones(text, at: directive.location)
                continue
            }
            do { zones.append(try DNSName(text)) } catch { throw self.error("'\(text)' is not a zone: \(error)", at: directive) }
        }
        return zones
    }

    func oneOf(_ text: String, _ choices: [String], _ what: String, at directive: Directive) throws(CorefileError) -> String {
        guard choices.contains(text) else {
            throw error("\(what) '\(text)' is not one of \(choices.joined(separator: ", "))", at: directive)
        }
        return text
    }

    /// An option this server knows from CoreDNS but does not do yet.
    func notSupported(_ directive: Directive) -> CorefileError {
        error("property '\(directive.name)' is not supported by this server", at: directive)
    }

    private static func describe(_ range: ClosedRange<Int>) -> String {
        let unit = range.upperBound == 1 ? "argument" : "arguments"
        if range.lowerBound == range.upperBound { return range.lowerBound == 0 ? "no arguments" : "\(range.lowerBound) \(unit)" }
        if range.upperBound == Int.max { return "at least \(range.lowerBound) \(range.lowerBound == 1 ? "argument" : "arguments")" }
        return "\(range.lowerBound) to \(range.upperBound) \(unit)"
    }
}
