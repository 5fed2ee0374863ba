import DNSModel
import Testing

@Suite struct DNSNameTests {
    @Test func parsesAndPrintsCaseInsensitively() throws {
        let name = try DNSName("Kube-DNS.kube-system.SVC.cluster.local")
        #expect(name.description == "kube-dns.kube-system.svc.cluster.local.")
        #expect(name == (try DNSName("kube-dns.kube-system.svc.cluster.local.")))
        #expect(name.wire.prefix(9) == [8, 107, 117, 98, 101, 45, 100, 110, 115])
        #expect(name.wire.last == 0)
        #expect(DNSName.root.wire == [0])
    }

    @Test func rejectsWhatDNSCannotCarry() {
        #expect(throws: DNSNameError.emptyLabel) { try DNSName("a..b") }
        #expect(throws: DNSNameError.labelTooLong(String(repeating: "x", count: 64))) {
            try DNSName(String(repeating: "x", count: 64) + ".local")
        }
        #expect(throws: DNSNameError.nameTooLong) {
            try DNSName(Array(repeating: String(repeating: "y", count: 63), count: 4).joined(separator: "."))
        }
        #expect(throws: DNSNameError.unsupportedCharacter("a b")) { try DNSName("a b.local") }
        #expect(throws: DNSNameError.empty) { try DNSName("") }
    }

    @Test func canonicalOrderGoesFromTheRoot() throws {
        let names = try ["b.a.", "a.", "z.a.", "a.b."].map { try DNSName($0) }
        #expect(names.sorted().map(\.description) == ["a.", "b.a.", "z.a.", "a.b."])
    }

    @Test func addressesHaveDashedAndReverseNames() throws {
        let v4 = try #require(IPAddress("10.1.2.3"))
        #expect(v4.dashed == "10-1-2-3")
        #expect(v4.reverseName.description == "3.2.1.10.in-addr.arpa.")
        let v6 = try #require(IPAddress("fd00::1"))
        #expect(v6.dashed == "fd00--1")
        #expect(IPAddress("fd00::")?.dashed == "fd00--0")
        #expect(v6.reverseName.description.hasPrefix("1.0.0.0.0.0.0.0"))
        #expect(v6.reverseName.description.hasSuffix("0.0.d.f.ip6.arpa."))
        #expect(v6.reverseName.labels.count == 34)
        #expect(IPAddress(reverseName: v4.reverseName) == v4)
        #expect(IPAddress(reverseName: v6.reverseName) == v6)
        #expect(IPAddress(reverseName: try DNSName("03.2.1.10.in-addr.arpa")) == nil)
        #expect(IPAddress(reverseName: try DNSName("256.2.1.10.in-addr.arpa")) == nil)
        #expect(IPAddress(reverseName: try DNSName("2.1.10.in-addr.arpa")) == nil)
        #expect(IPAddress(reverseName: try DNSName("3.2.1.10.in-addr.example")) == nil)
        #expect(IPAddress(reverseName: v6.reverseName.parent!) == nil)
        #expect(IPAddress("10.1.2") == nil)
        #expect(IPAddress("None") == nil)
    }
}
