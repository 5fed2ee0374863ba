import DNSModel

/// `rewrite [continue|stop] FIELD ...` (coredns.io/plugins/rewrite): one
/// rule per directive, a block's rules in written order. Its fields here:
/// `name` (exact, prefix, suffix, substring, regex; `answer auto`,
/// `answer name FROM TO`), `type`, `class` and `ttl`.
extension RewriteRule {
    init(_ directive: Directive) throws(CorefileError) {
        let read = PluginArguments(plugin: "rewrite")
        var stop = true
        let action: Action
        // The block form gives the rule's words on lines of their own.
        var words = directive.arguments
        if words.count < 2, let block = directive.block {
            words += block.flatMap { [$0.name] + $0.arguments }
        }
        if let first = words.first?.lowercased(), first == "continue" || first == "stop" {
            stop = first == "stop"
            words.removeFirst()
            guard !words.isEmpty else { throw read.error("\(first) rule must begin with a rule type", at: directive) }
        }
        guard let field = words.first?.lowercased() else { throw read.error("no rule type specified for rewrite", at: directive) }
        let args = Array(words.dropFirst())
        switch field {
        case "name":
            action = try Self.nameRule(args, read, at: directive)
        case "type", "class":
            guard args.count == 2 else { throw read.error("\(field) rules must have exactly two arguments", at: directive) }
            if field == "type" {
                guard let from = RecordType(args[0]), let to = RecordType(args[1]) else {
                    throw read.error("invalid type \"\(args[RecordType(args[0]) == nil ? 0 : 1].uppercased())\"", at: directive)
                }
                action = .type(from: from, to: to)
            } else {
                guard let from = RecordClass.codes[args[0].uppercased()], let to = RecordClass.codes[args[1].uppercased()] else {
                    throw read.error(
                        "invalid class \"\(args[RecordClass.codes[args[0].uppercased()] == nil ? 0 : 1].uppercased())\"", at: directive)
                }
                action = .class(from: from, to: to)
            }
        case "ttl":
            action = try Self.ttlRule(args, read, at: directive)
        case "answer":
            throw read.error("response rewrites must begin with a name rule", at: directive)
        case "edns0", "cname", "rcode":
            throw read.error("rule type '\(field)' is not supported by this server", at: directive)
        default:
            throw read.error("invalid rule type \"\(words[0])\"", at: directive)
        }
        self.init(stop: stop, action: action)
    }

    /// `name [MATCH] FROM TO [answer auto | answer name FROM TO]...`
    private static func nameRule(_ args: [String], _ read: PluginArguments, at directive: Directive) throws(CorefileError) -> Action {
        guard args.count >= 2 else { throw read.error("too few arguments for a name rule", at: directive) }
        let kindText = args.count == 2 ? "exact" : args[0].lowercased()
        guard let kind = Match(rawValue: kindText) else {
            throw read.error(
                "name rule supports only exact, prefix, suffix, substring, and regex name matching, received: \(kindText)", at: directive)
        }
        let (fromText, toText) = args.count == 2 ? (args[0], args[1]) : (args[1], args[2])
        let from = kind == .regex ? try pattern(fromText, read, at: directive) : normalized(fromText)
        let to = normalized(toText)
        // No name is longer in text form: 255 bytes, each at most `\DDD`.
        guard to.utf8.count <= 4 * 255 else {
            throw read.error("'\(toText.prefix(40))...' is longer than any name", at: directive)
        }
        var answerAuto = false
        var answerNames: [AnswerName] = []
        var rest = ArraySlice(args.dropFirst(3))
        while let word = rest.first {
            guard word == "answer" || !(answerAuto || !answerNames.isEmpty) else {
                throw read.error("exceeded the number of arguments for a non-answer rule argument for \(kind) rule", at: directive)
            }
            if word == "answer" { rest = rest.dropFirst() }
            guard let what = rest.first else { throw read.error("type missing for answer rule for \(kind) rule", at: directive) }
            rest = rest.dropFirst()
            switch what {
            case "auto":
                answerAuto = true
            case "name":
                guard rest.count >= 2 else {
                    throw read.error("name answer rule for \(kind) rule: 2 arguments required", at: directive)
                }
                let patternText = try pattern(rest[rest.startIndex], read, at: directive)
                answerNames.append(AnswerName(pattern: patternText, replacement: normalized(rest[rest.startIndex + 1])))
                rest = rest.dropFirst(2)
            case "value":
                throw read.error("answer value rules are not supported by this server", at: directive)
            default:
                throw read.error("invalid type \"\(what)\" for answer rule for \(kind) rule", at: directive)
            }
        }
        if answerAuto && !answerNames.isEmpty {
            throw read.error("auto name answer rule cannot be combined with explicit name answer rules", at: directive)
        }
        return .name(kind, from: from, to: to, answerAuto: answerAuto, answerNames: answerNames)
    }

    /// `ttl [MATCH] NAME SECONDS|MIN-MAX`
    private static func ttlRule(_ args: [String], _ read: PluginArguments, at directive: Directive) throws(CorefileError) -> Action {
        guard args.count >= 2 else { throw read.error("too few (\(args.count)) arguments for a ttl rule", at: directive) }
        guard args.count <= 3 else { throw read.error("too many arguments for a ttl rule", at: directive) }
        let kindText = args.count == 2 ? "exact" : args[0].lowercased()
        guard let kind = Match(rawValue: kindText) else {
            throw read.error("ttl rule supports only exact, prefix, suffix, substring, and regex name matching", at: directive)
        }
        let nameText = args[args.count - 2]
        let name = kind == .regex ? try pattern(nameText, read, at: directive) : normalized(nameText)
        guard let (min, max) = ttlRange(args[args.count - 1]) else {
            throw read.error("invalid TTL '\(args[args.count - 1])' for a ttl rule", at: directive)
        }
        return .ttl(kind, name: name, min: min, max: max)
    }

    /// `30`, `30-300`, `-30` (0 to 30) or `30-` (30 and up).
    private static func ttlRange(_ text: String) -> (UInt32, UInt32)? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if parts.count == 1, let value = UInt32(parts[0]) { return (value, value) }
        guard parts.count == 2, !(parts[0].isEmpty && parts[1].isEmpty) else { return nil }
        guard let min = parts[0].isEmpty ? 0 : UInt32(parts[0]), let max = parts[1].isEmpty ? 2_147_483_647 : UInt32(parts[1]),
            min <= max
        else { return nil }
        return (min, max)
    }

    /// CoreDNS's normalised name: lower case, with the final dot.
    static func normalized(_ text: String) -> String {
        let lower = text.lowercased()
        return lower.hasSuffix(".") ? lower : lower + "."
    }

    /// A pattern checked as the data plane will compile it (see NamePattern).
    private static func pattern(_ text: String, _ read: PluginArguments, at directive: Directive) throws(CorefileError) -> String {
        do {
            return try NamePattern(text).posix
        } catch {
            throw read.error("invalid regex pattern '\(text)': \(error)", at: directive)
        }
    }
}
