import DNSModel

/// `template CLASS TYPE [ZONE...] { match REGEX...; answer RR; additional
/// RR; authority RR; rcode CODE; fallthrough [ZONE...]; upstream }`
/// (coredns.io/plugins/template). `upstream` is accepted and ignored, as
/// CoreDNS does: a CNAME answer's target is always looked up.
extension TemplateRule {
    init(_ directive: Directive, blockZones: [DNSName]) throws(CorefileError) {
        let read = PluginArguments(plugin: "template")
        try read.count(directive, 2...Int.max)
        guard let qclass = RecordClass.codes[directive.arguments[0]] else {
            throw read.error("invalid query class \(directive.arguments[0])", at: directive)
        }
        guard let qtype = directive.arguments[1] == "ANY" ? .any : RecordType(directive.arguments[1]),
            directive.arguments[1] == directive.arguments[1].uppercased()
        else { throw read.error("invalid RR class \(directive.arguments[1])", at: directive) }
        let zones = directive.arguments.count > 2 ? try read.zones(Array(directive.arguments.dropFirst(2)), at: directive) : blockZones
        var patterns: [NamePattern] = []
        var groupNames: [String] = []
        var sections: [[Text]] = [[], [], []]
        var rcode: UInt8 = 0
        var fallthroughZones: [DNSName]?
        try read.options(of: directive) { option throws(CorefileError) in
            switch option.name {
            case "match":
                try read.count(option, 1...Int.max)
                for text in option.arguments {
                    do { patterns.append(try NamePattern(text)) } catch {
                        throw read.error("could not parse regex: \(text), \(error)", at: option)
                    }
                }
            case "answer", "additional", "authority":
                try read.count(option, 1...Int.max)
                let section = ["answer": 0, "additional": 1, "authority": 2][option.name]!
                for text in option.arguments {
                    do { sections[section].append(try GoTemplate.compile(text, groupNames: &groupNames)) } catch {
                        throw read.error("could not compile template: \(text): \(error)", at: option)
                    }
                }
            case "rcode":
                try read.count(option, 1...1)
                guard let code = ResponseCode.code(option.arguments[0]) else {
                    throw read.error("unknown rcode \(option.arguments[0])", at: option)
                }
                rcode = code
            case "fallthrough":
                fallthroughZones = try read.zones(option.arguments, at: option)
            case "upstream":
                break
            case "var", "expr", "ederror":
                throw read.notSupported(option)
            default:
                return false
            }
            return true
        }
        guard groupNames.count <= 16 else { throw read.error("more than 16 group names", at: directive) }
        self.init(
            qclass: qclass, qtype: qtype, zones: zones,
            patterns: patterns.map { pattern in
                Pattern(posix: pattern.posix, namedGroups: groupNames.map { pattern.groups[$0] ?? -1 })
            })
        (answer, additional, authority) = (sections[0], sections[1], sections[2])
        self.rcode = rcode
        self.fallthroughZones = fallthroughZones
    }
}
