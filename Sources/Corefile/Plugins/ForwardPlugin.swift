import DNSModel

/// `forward FROM TO... { ... }` (coredns.io/plugins/forward): names under
/// FROM, but not under an `except` zone, go to the upstreams.
public struct ForwardPlugin: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        /// An upstream, `ip[:port]` or `dns://ip[:port]` (port 53 unless written).
        case address(IPAddress, port: Int)
        /// An upstream asked over TLS, `tls://ip[:port]` (port 853 unless written).
        case tls(IPAddress, port: Int)
        /// The `nameserver` lines of a resolv.conf file, read when the configuration is.
        case resolvConf(path: String)
    }

    public enum Policy: String, Sendable, CaseIterable { case random, roundRobin = "round_robin", sequential }

    public var from: DNSName
    public var to: [Target]
    public var except: [DNSName] = []
    public var forceTCP = false
    public var preferUDP = false
    /// How long an idle upstream connection is kept.
    public var expire: Duration = .seconds(10)
    /// Failed health checks before an upstream is taken for down (0: never).
    public var maxFails = 2
    public var healthCheck: Duration = .milliseconds(500)
    public var policy = Policy.random
    /// Queries in flight at most; nil: no limit.
    public var maxConcurrent: Int?
    /// `tls [CERT KEY] [CA]`: for the `tls://` upstreams, a client
    /// certificate and the CA their certificates are checked with (nil: the system's).
    public var tls = TLSFiles()
    /// `tls_servername`: the name the upstreams' certificates carry (nil: their address).
    public var tlsServerName: String?

    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String?
        public var key: String?
        public var ca: String?

        public init(certificate: String? = nil, key: String? = nil, ca: String? = nil) {
            (self.certificate, self.key, self.ca) = (certificate, key, ca)
        }
    }

    /// CoreDNS takes at most 15 upstreams per forward.
    static let maxUpstreams = 15

    init(_ directive: Directive) throws(CorefileError) {
        let read = PluginArguments(plugin: "forward")
        try read.count(directive, 2...Int.max)
        from = try read.zones([directive.arguments[0]], at: directive)[0]
        to = []
        for text in directive.arguments.dropFirst() { to.append(try Self.target(text, read, at: directive)) }
        guard to.count <= Self.maxUpstreams else { throw read.error("more than \(Self.maxUpstreams) upstreams", at: directive) }
        try read.options(of: directive) { option throws(CorefileError) in
            switch option.name {
            case "except":
                try read.count(option, 1...Int.max)
                except = try read.zones(option.arguments, at: option)
            case "force_tcp":
                forceTCP = try read.flag(option)
            case "prefer_udp":
                preferUDP = try read.flag(option)
            case "expire":
                expire = try read.durationValue(of: option)
            case "max_fails":
                maxFails = try read.integerValue(of: option, 0...Int(Int32.max))
            case "health_check":
                try read.count(option, 1...4)
                healthCheck = try read.duration(option.arguments[0], "health_check", at: option)
                try Self.checkHealthOptions(Array(option.arguments.dropFirst()), read, at: option)
            case "policy":
                policy = try read.choiceValue(of: option, "policy")
            case "max_concurrent":
                maxConcurrent = try read.integerValue(of: option, 1...Int(Int32.max))
            case "tls":
                try read.count(option, 0...3)
                let files = option.arguments
                tls = TLSFiles(
                    certificate: files.count >= 2 ? files[0] : nil, key: files.count >= 2 ? files[1] : nil,
                    ca: files.count == 1 ? files[0] : files.count == 3 ? files[2] : nil)
            case "tls_servername":
                try read.count(option, 1...1)
                tlsServerName = option.arguments[0]
            case "next", "failfast_all_unhealthy_upstreams", "failover":
                throw read.notSupported(option)
            default:
                return false
            }
            return true
        }
        if forceTCP && preferUDP { throw read.error("force_tcp and prefer_udp cannot be used together", at: directive) }
    }

    /// `no_rec` and `domain FQDN` after the health check's interval; only the default (`.`, recursion desired) is done.
    private static func checkHealthOptions(_ words: [String], _ read: PluginArguments, at option: Directive) throws(CorefileError) {
        guard words.isEmpty else {
            throw read.error("health_check \(words.joined(separator: " ")) is not supported by this server", at: option)
        }
    }

    private static func target(_ text: String, _ read: PluginArguments, at directive: Directive) throws(CorefileError) -> Target {
        var rest = Substring(text)
        let tls = rest.hasPrefix("tls://")
        if tls {
            rest = rest.dropFirst(6)
        } else if rest.hasPrefix("dns://") {
            rest = rest.dropFirst(6)
        } else if rest.contains("/") {
            return .resolvConf(path: text)
        }
        var host = rest
        var port = tls ? 853 : 53
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()), (1...65535).contains(number) else {
                    throw read.error("\(text): bad port", at: directive)
                }
                port = number
            }
        } else if rest.filter({ $0 == ":" }).count == 1, let colon = rest.firstIndex(of: ":") {
            host = rest[..<colon]
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                throw read.error("\(text): bad port", at: directive)
            }
            port = number
        }
        guard let address = IPAddress(String(host)) else {
            throw read.error("\(text): not an IP address, dns://address, tls://address or resolv.conf path", at: directive)
        }
        return tls ? .tls(address, port: port) : .address(address, port: port)
    }
}
