import NodeCache
import Testing

@Suite struct NodeCacheRulesTests {
    /// node-cache's twelve rules per address, in its order.
    @Test func eachLocalAddressGetsNodeCachesRules() {
        let rules = NodeCacheRules.rules(localAddresses: ["169.254.20.10", "10.0.0.10"], dnsPort: 53, healthPort: 8080)
        #expect(rules.count == 24)
        let skip = ["-m", "comment", "--comment", "NodeLocal DNS Cache: skip conntrack"]
        let allow = ["-m", "comment", "--comment", "NodeLocal DNS Cache: allow DNS traffic"]
        #expect(
            Array(rules.prefix(12)) == [
                IPTablesRule("raw", "PREROUTING", ["-p", "tcp", "-d", "169.254.20.10", "--dport", "53", "-j", "NOTRACK"] + skip),
                IPTablesRule("raw", "PREROUTING", ["-p", "udp", "-d", "169.254.20.10", "--dport", "53", "-j", "NOTRACK"] + skip),
                IPTablesRule("filter", "INPUT", ["-p", "tcp", "-d", "169.254.20.10", "--dport", "53", "-j", "ACCEPT"] + allow),
                IPTablesRule("filter", "INPUT", ["-p", "udp", "-d", "169.254.20.10", "--dport", "53", "-j", "ACCEPT"] + allow),
                IPTablesRule("raw", "OUTPUT", ["-p", "tcp", "-s", "169.254.20.10", "--sport", "53", "-j", "NOTRACK"] + skip),
                IPTablesRule("raw", "OUTPUT", ["-p", "udp", "-s", "169.254.20.10", "--sport", "53", "-j", "NOTRACK"] + skip),
                IPTablesRule("filter", "OUTPUT", ["-p", "tcp", "-s", "169.254.20.10", "--sport", "53", "-j", "ACCEPT"] + allow),
                IPTablesRule("filter", "OUTPUT", ["-p", "udp", "-s", "169.254.20.10", "--sport", "53", "-j", "ACCEPT"] + allow),
                IPTablesRule("raw", "OUTPUT", ["-p", "tcp", "-d", "169.254.20.10", "--dport", "53", "-j", "NOTRACK"] + skip),
                IPTablesRule("raw", "OUTPUT", ["-p", "udp", "-d", "169.254.20.10", "--dport", "53", "-j", "NOTRACK"] + skip),
                IPTablesRule("raw", "OUTPUT", ["-p", "tcp", "-d", "169.254.20.10", "--dport", "8080", "-j", "NOTRACK"] + skip),
                IPTablesRule("raw", "OUTPUT", ["-p", "tcp", "-s", "169.254.20.10", "--sport", "8080", "-j", "NOTRACK"] + skip),
            ])
        #expect(rules[12].arguments.contains("10.0.0.10"))
    }
}
