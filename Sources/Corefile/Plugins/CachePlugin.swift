import DNSModel

/// `cache [TTL] [ZONES...] { ... }` (coredns.io/plugins/cache): answers of
/// its zones (all when none is written) kept for at most TTL seconds.
public struct CachePlugin: Sendable, Equatable {
    public struct Store: Sendable, Equatable {
        /// Entries kept at most.
        public var capacity: Int
        /// The longest and shortest TTL an entry is kept for.
        public var maxTTL: UInt32
        public var minTTL: UInt32

        public init(capacity: Int, maxTTL: UInt32, minTTL: UInt32) {
            (self.capacity, self.maxTTL, self.minTTL) = (capacity, maxTTL, minTTL)
        }
    }

    public var zones: [DNSName]
    public var success = Store(capacity: 9984, maxTTL: 3600, minTTL: 5)
    public var denial = Store(capacity: 9984, maxTTL: 1800, minTTL: 5)
    /// Answers asked for `amount` times within `window` are fetched again
    /// when `percentage` of their TTL is left.
    public struct Prefetch: Sendable, Equatable {
        public var amount: Int
        public var window: Duration
        public var percentage: Int

        public init(amount: Int, window: Duration, percentage: Int) {
            (self.amount, self.window, self.percentage) = (amount, window, percentage)
        }
    }

    /// nil: no prefetch.
    public var prefetch: Prefetch?
    /// How long past their TTL entries may answer while upstreams fail; nil: never.
    public var serveStale: Duration?
    public var servfailTTL: Duration = .seconds(5)
    /// Zones whose successful or negative answers are never kept.
    public var disableSuccess: [DNSName] = []
    public var disableDenial: [DNSName] = []
    /// Answers keep their TTL as the upstream gave it rather than counting down.
    public var keepTTL = false

    init(_ directive: Directive, blockZones: [DNSName]) throws(CorefileError) {
        let read = PluginArguments(plugin: "cache")
        var arguments = directive.arguments[...]
        if let first = arguments.first, let ttl = UInt32(first) {
            guard ttl > 0 else { throw read.error("cache TTL must be above 0", at: directive) }
            success.maxTTL = ttl
            denial.maxTTL = ttl
            arguments = arguments.dropFirst()
        }
        zones = arguments.isEmpty ? blockZones : try read.zones(Array(arguments), at: directive)
        try read.options(of: directive) { option throws(CorefileError) in
            switch option.name {
            case "success", "denial":
                try read.count(option, 1...3)
                var store = option.name == "success" ? success : denial
                store.capacity = try read.integer(option.arguments[0], 1...Int(Int32.max), "capacity", at: option)
                if option.arguments.count > 1 {
                    store.maxTTL = UInt32(try read.integer(option.arguments[1], 1...Int(Int32.max), "TTL", at: option))
                }
                if option.arguments.count > 2 {
                    store.minTTL = UInt32(try read.integer(option.arguments[2], 0...Int(store.maxTTL), "minimum TTL", at: option))
                }
                if option.name == "success" { success = store } else { denial = store }
            case "prefetch":
                try read.count(option, 1...3)
                var setting = Prefetch(
                    amount: try read.integer(option.arguments[0], 1...Int(Int32.max), "amount", at: option), window: .seconds(60),
                    percentage: 10)
                if option.arguments.count > 1 { setting.window = try read.duration(option.arguments[1], "duration", at: option) }
                if option.arguments.count > 2 {
                    let text = option.arguments[2]
                    guard text.hasSuffix("%") else { throw read.error("percentage '\(text)' must end with %", at: option) }
                    setting.percentage = try read.integer(String(text.dropLast()), 0...100, "percentage", at: option)
                }
                prefetch = setting
            case "serve_stale":
                try read.count(option, 0...2)
                serveStale = option.arguments.isEmpty ? .seconds(3600) : try read.duration(option.arguments[0], "serve_stale", at: option)
                if option.arguments.count > 1 {
                    _ = try read.oneOf(option.arguments[1], ["immediate", "verify"], "refresh mode", at: option)
                    if option.arguments[1] == "verify" {
                        throw read.error("serve_stale verify is not supported by this server", at: option)
                    }
                }
            case "servfail":
                servfailTTL = try read.durationValue(of: option)
                guard servfailTTL <= .seconds(300) else { throw read.error("servfail cannot be above 5m", at: option) }
            case "disable":
                try read.count(option, 1...Int.max)
                let kind = try read.oneOf(option.arguments[0], ["success", "denial"], "disable", at: option)
                let disabled = option.arguments.count > 1 ? try read.zones(Array(option.arguments.dropFirst()), at: option) : zones
                if kind == "success" { disableSuccess += disabled } else { disableDenial += disabled }
            case "keepttl":
                keepTTL = try read.flag(option)
            default:
                return false
            }
            return true
        }
    }
}
