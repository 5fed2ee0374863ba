import Foundation
import KubeAPISimulator
import TestSupport
import Testing

/// The default Corefiles of kubeadm (old and current), k3s, EKS, AKS and
/// RKE2, adapted only in addresses and ports, served against the API
/// simulator: each gives the answer table's answers, forwards the rest
/// to a real Unbound, and answers its probes.
@Suite(.serialized) struct CorefileFixtureTests {
    /// A zone the default upstream serves, and a stub domain's (ForwardingTests' zones).
    static let upstreamZone = ForwardingTests.zone
    static let stubZone = ForwardingTests.stubZone

    /// The record TTL each fixture's kubernetes plugin gives (CoreDNS's default is 5).
    static let ttls: [String: UInt32] = ["kubeadm": 30, "kubeadm-1.20": 30, "k3s": 5, "eks": 5, "aks": 30, "rke2": 30]

    @Test(arguments: FixtureCorefiles.clusterNames)
    func servesTheClusterForwardsAndAnswersProbes(_ fixture: String) async throws {
        try await offThePool {
            let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: Self.upstreamZone)
            defer { upstream.stop() }
            let stub = try UpstreamServer(.knot, origin: "corp.test", zone: Self.stubZone)
            defer { stub.stop() }
            let simulator = try KubeAPISimulator()
            try FixtureCorefiles.loadCluster(into: simulator)
            let apiPort = try await simulator.start()
            do {
                let directory = try Self.directory(for: fixture, stub: stub.address)
                let path = directory + "/Corefile"
                let text = FixtureCorefiles.adapt(
                    try FixtureCorefiles.text(fixture), .init(apiPort: apiPort, upstream: upstream.address, directory: directory))
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                let server = try ServerProcess(["--conf", path, "-v", "2"])
                defer { server.stop() }
                let flagged = try ServerProcess([
                    "--kube-master-url", "http://127.0.0.1:\(apiPort)", "--ttl", "\(Self.ttls[fixture]!)", "--pods", "insecure",
                    "--nameservers", upstream.address,
                ])
                defer { flagged.stop() }
                try Self.expectTheSameAnswers(server.port, as: flagged.port)
                // `cache 30`: the zone's 300 s is kept 30 s, and clients are told so.
                let forwarded = try Dig.query("www.example.test.", "A", port: server.port)
                #expect(forwarded.normalized.answer == ["www.example.test. 30 in a 192.0.2.10"], "\(forwarded.output)")
                #expect(upstream.queries("www.example.test.", "A") == 1)
                try Self.expectProbes(server)
                if fixture == "k3s" || fixture == "aks" {
                    // The customisation the distribution documents: a stub domain in a *.server file.
                    let db = try Dig.query("db.corp.test.", "A", port: server.port)
                    #expect(db.normalized.answer == ["db.corp.test. 120 in a 192.0.2.77"], "\(db.output)")
                    #expect(upstream.queries("db.corp.test.", "A") == 0)
                }
                if fixture == "k3s" {
                    let node = try Dig.query("k3s-server-0.", "A", port: server.port)
                    #expect(node.normalized.answer == ["k3s-server-0. 60 in a 172.18.0.2"], "\(node.output)")
                    let ptr = try Dig.query("2.0.18.172.in-addr.arpa.", "PTR", port: server.port)
                    #expect(ptr.normalized.answer == ["2.0.18.172.in-addr.arpa. 60 in ptr k3s-server-0."])
                }
            } catch {
                await simulator.stop()
                throw error
            }
            await simulator.stop()
        }
    }

    /// The Corefile's directory, with what the distributions mount beside
    /// it: k3s's NodeHosts and coredns-custom files, AKS's custom/ directory.
    static func directory(for fixture: String, stub: String) throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corefile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/custom", withIntermediateDirectories: true)
        try "172.18.0.2 k3s-server-0\n".write(toFile: directory + "/NodeHosts", atomically: true, encoding: .utf8)
        try "corp.test:0 {\n    errors\n    forward . \(stub)\n}\n".write(
            toFile: directory + "/custom/corp.server", atomically: true, encoding: .utf8)
        try "log\n".write(toFile: directory + "/custom/query.override", atomically: true, encoding: .utf8)
        return directory
    }

    /// Every question of answers.txt gets from `port` what the
    /// flag-configured server on `reference` gives for the same cluster
    /// (the SOA serial aside: each server has its own clock), with no TTL
    /// above the fixtures' `cache 30` (the cluster's own are 30 or less;
    /// forwarded ones are cut to what the cache keeps them).
    static func expectTheSameAnswers(_ port: UInt16, as reference: UInt16) throws {
        for row in try Fixtures.expectedAnswers() {
            let reply = try Dig.query(row.name, row.type, port: port)
            let expected = try Dig.query(row.name, row.type, port: reference)
            #expect(reply.rcode == expected.rcode, "\(row): \(reply.output)")
            let records = expected.normalized
            #expect(reply.normalized == (capped(records.answer), capped(records.authority), capped(records.additional)), "\(row)")
        }
    }

    /// Normalised records with no TTL above 30.
    static func capped(_ records: [String]) -> [String] {
        records.map { line in
            var words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if words.count > 1, let ttl = UInt32(words[1]), ttl > 30 { words[1] = "30" }
            return words.joined(separator: " ")
        }
    }

    /// `/health` says OK, `/ready` says OK once synced, `/metrics` has CoreDNS's request counter.
    static func expectProbes(_ server: ServerProcess) throws {
        let health = try #require(server.ports["health"])
        let ready = try #require(server.ports["ready"])
        let metrics = try #require(server.ports["metrics"])
        #expect(try run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(health)/health"]).hasPrefix("OK"))
        #expect(try run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(ready)/ready"]).hasPrefix("OK"))
        let text = try run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(metrics)/metrics"])
        #expect(text.contains("coredns_dns_requests_total{"))
    }
}
