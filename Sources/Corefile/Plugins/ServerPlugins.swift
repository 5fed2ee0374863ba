/// `health [ADDRESS] { lameduck DURATION }` (coredns.io/plugins/health):
/// `/health` answers 200 "OK" while the process runs; on shutdown it keeps
/// serving for `lameduck` first.
public struct HealthPlugin: Sendable, Equatable {
    public var address = ":8080"
    public var lameduck: Duration = .zero

    init(_ directive: Directive) throws(CorefileError) {
        let read = PluginArguments(plugin: "health")
        try read.count(directive, 0...1)
        if let address = directive.arguments.first { self.address = address }
        try read.options(of: directive) { option throws(CorefileError) in
            guard option.name == "lameduck" else { return false }
            lameduck = try read.durationValue(of: option)
            return true
        }
    }
}

/// `reload [INTERVAL [JITTER]]` (coredns.io/plugins/reload): the Corefile
/// is checked for changes every INTERVAL, give or take JITTER.
public struct ReloadPlugin: Sendable, Equatable {
    public var interval: Duration = .seconds(30)
    public var jitter: Duration = .seconds(15)

    init(_ directive: Directive) throws(CorefileError) {
        let read = PluginArguments(plugin: "reload")
        try read.count(directive, 0...2)
        try read.noBlock(directive)
        if directive.arguments.count > 0 {
            interval = try read.duration(directive.arguments[0], "interval", at: directive)
            jitter = interval / 2
        }
        if directive.arguments.count > 1 { jitter = try read.duration(directive.arguments[1], "jitter", at: directive) }
        guard interval >= .seconds(2) else { throw read.error("interval cannot be under 2s", at: directive) }
        guard jitter >= .seconds(1), jitter <= interval / 2 else {
            throw read.error("jitter must be at least 1s and at most half the interval", at: directive)
        }
    }
}
