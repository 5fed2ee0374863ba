/// One iptables rule: its table, chain and match-and-target arguments.
public struct IPTablesRule: Sendable, Equatable, CustomStringConvertible {
    public var table: String
    public var chain: String
    public var arguments: [String]

    public init(_ table: String, _ chain: String, _ arguments: [String]) {
        self.table = table
        self.chain = chain
        self.arguments = arguments
    }

    public var description: String { "-t \(table) \(chain) \(arguments.joined(separator: " "))" }
}

/// The rules node-cache keeps for each local address (kubernetes/dns
/// cmd/node-cache/app/cache_app.go): queries to it and its answers skip
/// connection tracking (the raw table's NOTRACK: no conntrack entry, so
/// no insertion race between a client's parallel A and AAAA queries, the
/// 5-second timeouts of kubernetes/kubernetes#56903), and the filter
/// table accepts them, since its usual rules accept only tracked flows.
/// The health port's traffic skips tracking too (the liveness probe).
public enum NodeCacheRules {
    public static let skipConntrack = "NodeLocal DNS Cache: skip conntrack"
    public static let allowTraffic = "NodeLocal DNS Cache: allow DNS traffic"

    public static func rules(localAddresses: [String], dnsPort: Int, healthPort: Int) -> [IPTablesRule] {
        localAddresses.flatMap { address in
            let port = "\(dnsPort)"
            let health = "\(healthPort)"
            func rule(_ table: String, _ chain: String, _ proto: String, _ match: [String], _ target: String, _ comment: String)
                -> IPTablesRule
            {
                IPTablesRule(table, chain, ["-p", proto] + match + ["-j", target, "-m", "comment", "--comment", comment])
            }
            return [
                rule("raw", "PREROUTING", "tcp", ["-d", address, "--dport", port], "NOTRACK", skipConntrack),
                rule("raw", "PREROUTING", "udp", ["-d", address, "--dport", port], "NOTRACK", skipConntrack),
                rule("filter", "INPUT", "tcp", ["-d", address, "--dport", port], "ACCEPT", allowTraffic),
                rule("filter", "INPUT", "udp", ["-d", address, "--dport", port], "ACCEPT", allowTraffic),
                rule("raw", "OUTPUT", "tcp", ["-s", address, "--sport", port], "NOTRACK", skipConntrack),
                rule("raw", "OUTPUT", "udp", ["-s", address, "--sport", port], "NOTRACK", skipConntrack),
                rule("filter", "OUTPUT", "tcp", ["-s", address, "--sport", port], "ACCEPT", allowTraffic),
                rule("filter", "OUTPUT", "udp", ["-s", address, "--sport", port], "ACCEPT", allowTraffic),
                // Queries from the node itself (host-network pods).
                rule("raw", "OUTPUT", "tcp", ["-d", address, "--dport", port], "NOTRACK", skipConntrack),
                rule("raw", "OUTPUT", "udp", ["-d", address, "--dport", port], "NOTRACK", skipConntrack),
                rule("raw", "OUTPUT", "tcp", ["-d", address, "--dport", health], "NOTRACK", skipConntrack),
                rule("raw", "OUTPUT", "tcp", ["-s", address, "--sport", health], "NOTRACK", skipConntrack),
            ]
        }
    }
}
