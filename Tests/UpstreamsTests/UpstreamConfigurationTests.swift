import DNSModel
import DataPlane
import Foundation
import Synchronization
import Testing
import Upstreams

/// Answers handed out in order, for a resolver under test.
final class AnswerScript: Sendable {
    private let answers: Mutex<[(addresses: [String], ttl: Int)?]>
    init(_ answers: [(addresses: [String], ttl: Int)?]) { self.answers = Mutex(answers) }
    func next() -> (addresses: [String], ttl: Int)? { answers.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
}

/// Reading where names outside the cluster go, from flags, resolv.conf and the ConfigMap.
@Suite struct UpstreamConfigurationTests {
    @Test func addressesWithAndWithoutPorts() throws {
        #expect(try UpstreamAddress.parse("10.0.0.1") == Forwarding.Upstream(host: "10.0.0.1", port: 53))
        #expect(try UpstreamAddress.parse("10.0.0.1:5353") == Forwarding.Upstream(host: "10.0.0.1", port: 5353))
        #expect(try UpstreamAddress.parse("fd00::1") == Forwarding.Upstream(host: "fd00::1", port: 53))
        #expect(try UpstreamAddress.parse("[fd00::1]:54") == Forwarding.Upstream(host: "fd00::1", port: 54))
        #expect(try UpstreamAddress.parseList("1.1.1.1, 8.8.8.8:53") == [.init(host: "1.1.1.1"), .init(host: "8.8.8.8")])
        for bad in ["dns.example", "10.0.0.1:0", "10.0.0.1:99999", "[fd00::1", "[fd00::1]x", "1.2.3"] {
            #expect(throws: UpstreamError.self, "\(bad)") { try UpstreamAddress.parse(bad) }
        }
    }

    @Test func resolvConfNameserversInOrder() {
        let text = """
            # generated
            search default.svc.cluster.local svc.cluster.local
            nameserver 10.0.0.2
            nameserver\t2001:db8::53
            options ndots:5
            nameserver fe80::1%eth0
            """
        #expect(ResolvConf.nameservers(in: text) == [.init(host: "10.0.0.2"), .init(host: "2001:db8::53")])
    }

    @Test func theConfigMapFormat() throws {
        let stubs = try ConfigDirectory.parseStubDomains(#"{"acme.local": ["1.2.3.4"], "corp.example": ["10.0.0.5:5353", "[fd00::5]"]}"#)
        #expect(stubs.map(\.domain) == [try DNSName("acme.local"), try DNSName("corp.example")])
        #expect(stubs[1].upstreams == [.init(host: "10.0.0.5", port: 5353), .init(host: "fd00::5")])
        #expect(try ConfigDirectory.parseUpstreamNameservers(#"["8.8.8.8", "8.8.4.4:53"]"#).count == 2)
        // Host names, as kube-dns took them: resolved later.
        let named = try ConfigDirectory.parseStubDomains(#"{"corp.example": ["DNS.Corp.Example.", "ns-2.corp.example:5353"]}"#)
        #expect(named[0].upstreams == [.init(host: "dns.corp.example"), .init(host: "ns-2.corp.example", port: 5353)])
        #expect(ConfigDirectory(stubDomains: named).stubServerNames == [try DNSName("dns.corp.example"), try DNSName("ns-2.corp.example")])

        let errors: [(String, () throws -> Void)] = [
            ("not a JSON object", { _ = try ConfigDirectory.parseStubDomains("[1]") }),
            ("acme.local: not a non-empty list", { _ = try ConfigDirectory.parseStubDomains(#"{"acme.local": []}"#) }),
            ("acme.local: 1.2.3.4.5", { _ = try ConfigDirectory.parseStubDomains(#"{"acme.local": ["1.2.3.4.5"]}"#) }),
            ("not ip[:port] or host[:port]", { _ = try ConfigDirectory.parseStubDomains(#"{"acme.local": ["-bad-.example"]}"#) }),
            ("not ip[:port] or host[:port]", { _ = try ConfigDirectory.parseStubDomains(#"{"acme.local": ["dns.example:0"]}"#) }),
            ("4 servers; at most 3", { _ = try ConfigDirectory.parseUpstreamNameservers(#"["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4"]"#) }),
            ("not a JSON list", { _ = try ConfigDirectory.parseUpstreamNameservers("{") }),
        ]
        for (expected, parse) in errors {
            do {
                try parse()
                Issue.record("no error; expected \(expected)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }

    /// A name that stops resolving keeps its last addresses and is asked
    /// again after a short while; a name no longer configured is forgotten.
    @Test func stubServerNamesKeepTheirLastAddresses() async throws {
        let answers = AnswerScript([(["10.0.0.9"], 0), nil, (["10.0.0.10"], 300)])
        let resolver = StubNameResolver(lookup: { _, _ in answers.next() }, shortestTTL: 0, retry: .zero)
        let name = try DNSName("dns.corp.example")
        #expect(await resolver.resolve([name], through: []) == [name: ["10.0.0.9"]])
        #expect(await resolver.resolve([name], through: []) == [name: ["10.0.0.9"]])
        #expect(await resolver.resolve([name], through: []) == [name: ["10.0.0.10"]])
        // A TTL of 300 s: not due again.
        #expect(!resolver.isDue([name]))
        #expect(resolver.isDue([name, try DNSName("other.example")]))
        #expect(await resolver.resolve([], through: []).isEmpty)
        // The default keeps an answer 5 s at least.
        let kept = StubNameResolver(lookup: { _, _ in (["10.0.0.11"], 0) })
        _ = await kept.resolve([name], through: [])
        #expect(!kept.isDue([name]))
    }

    @Test func aDirectoryOfFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(try ConfigDirectory.read(directory.path) == ConfigDirectory())
        try #"["9.9.9.9"]"#.write(to: directory.appendingPathComponent("upstreamNameservers"), atomically: true, encoding: .utf8)
        try "\n".write(to: directory.appendingPathComponent("stubDomains"), atomically: true, encoding: .utf8)
        #expect(try ConfigDirectory.read(directory.path) == ConfigDirectory(upstreamNameservers: [.init(host: "9.9.9.9")]))
        try "{oops".write(to: directory.appendingPathComponent("stubDomains"), atomically: true, encoding: .utf8)
        #expect(throws: UpstreamError.self) { try ConfigDirectory.read(directory.path) }
    }

    @Test func thePlanKeepsKubeDNSsOrderAndRefusesLoops() throws {
        let cluster = try DNSName("cluster.local")
        let ourselves = SelfAddress(bindAddress: "127.0.0.1", port: 5300)
        let config = ConfigDirectory(
            stubDomains: [
                (try DNSName("acme.local"), [.init(host: "1.2.3.4")]),
                (try DNSName("x.cluster.local"), [.init(host: "1.2.3.5")]),
                (try DNSName("loop.example"), [.init(host: "127.0.0.1", port: 5300)]),
            ],
            upstreamNameservers: [.init(host: "9.9.9.9"), .init(host: "127.0.0.1", port: 5300)])
        let (forwarding, ignored) = ForwardingPlan.make(
            nameservers: [.init(host: "10.0.0.2")], config: config, clusterDomain: cluster, timeout: .seconds(2), ourselves: ourselves)
        let routes = try #require(forwarding).routes
        #expect(routes.map(\.domain) == [try DNSName("acme.local"), try DNSName("loop.example"), .root])
        // The ConfigMap's upstreams replace the flag's; ourselves never.
        #expect(routes.map(\.upstreams) == [[.init(host: "1.2.3.4")], [], [.init(host: "9.9.9.9")]])
        #expect(ignored.count == 3, "\(ignored)")
        #expect(ignored.contains { $0.contains("x.cluster.local") && $0.contains("cluster domain") })
        #expect(ignored.filter { $0.contains("127.0.0.1:5300") && $0.contains("loop") }.count == 2)

        let plain = ForwardingPlan.make(
            nameservers: [.init(host: "10.0.0.2")], config: ConfigDirectory(), clusterDomain: cluster, timeout: .seconds(2),
            ourselves: ourselves)
        #expect(plain.forwarding?.routes.map(\.upstreams) == [[.init(host: "10.0.0.2")]])
        #expect(
            ForwardingPlan.make(
                nameservers: [], config: ConfigDirectory(), clusterDomain: cluster, timeout: .seconds(2), ourselves: ourselves
            ).forwarding == nil)
    }

    @Test func aWildcardServerIsEveryLocalAddressOnItsPort() {
        let ourselves = SelfAddress(bindAddress: "0.0.0.0", port: 53)
        #expect(ourselves.isSelf(.init(host: "127.0.0.1")))
        #expect(ourselves.isSelf(.init(host: "127.0.0.53")))
        #expect(ourselves.isSelf(.init(host: "::1")))
        #expect(!ourselves.isSelf(.init(host: "127.0.0.1", port: 5353)))
        #expect(!ourselves.isSelf(.init(host: "192.0.2.1")))
    }
}
