import Foundation
import KubeAPISimulator
import TestSupport
import Testing

/// The kubernetes plugin's options that pick and name records, asserted
/// by answers from a Corefile served against the API simulator, and by
/// what they make the server ask the API.
@Suite(.serialized) struct KubernetesOptionsTests {
    typealias JSON = KubeObjectJSON

    /// prod (team=a), dev (team=b) and staging (no label), each with a
    /// `web` service; in prod also a canary, a service without ready
    /// endpoints and a headless one whose endpoint is the pod db-7f9c.
    static func loadCluster(into simulator: KubeAPISimulator) throws {
        let web = ["app": "web"]
        for (number, namespace, team) in [(1, "prod", "a"), (2, "dev", "b"), (3, "staging", nil)] {
            try simulator.apply(JSON.namespace(namespace, labels: team.map { ["team": $0] } ?? [:]))
            try simulator.apply(JSON.service("web", namespace, clusterIPs: ["10.0.\(number).1"], labels: web))
            try simulator.apply(JSON.endpointSlice("web", namespace, endpoints: [.init("10.1.\(number).1")], labels: web))
        }
        let canary = ["app": "web", "canary": "true"]
        try simulator.apply(JSON.service("canary", "prod", clusterIPs: ["10.0.1.3"], labels: canary))
        try simulator.apply(JSON.endpointSlice("canary", "prod", endpoints: [.init("10.1.1.3")], labels: canary))
        try simulator.apply(JSON.service("idle", "prod", clusterIPs: ["10.0.1.2"], labels: web))
        try simulator.apply(JSON.endpointSlice("idle", "prod", endpoints: [.init("10.1.1.2", ready: false)], labels: web))
        try simulator.apply(JSON.service("db", "prod", clusterIPs: ["None"], labels: ["app": "db"]))
        try simulator.apply(JSON.endpointSlice("db", "prod", endpoints: [.init("10.1.1.9", pod: "db-7f9c")], labels: ["app": "db"]))
    }

    /// Runs `body` with a server of `.:0 { kubernetes cluster.local { endpoint ... ; options } }`.
    static func withServer(
        _ options: String, _ body: (ServerProcess, KubeAPISimulator) async throws -> Void
    ) async throws {
        try await withServer(corefile: "kubernetes cluster.local {\n    endpoint http://127.0.0.1:API\n    \(options)", body)
    }

    /// Runs `body` with a server of `.:0 { BODY\n  } }`, API standing for
    /// the port of a simulator configured so.
    static func withServer(
        corefile: String, simulator configuration: KubeAPISimulator.Configuration = .init(),
        _ body: (ServerProcess, KubeAPISimulator) async throws -> Void
    ) async throws {
        try await offThePool {
            let simulator = try KubeAPISimulator(configuration)
            try loadCluster(into: simulator)
            let apiPort = try await simulator.start()
            do {
                let path = FileManager.default.temporaryDirectory.appendingPathComponent("Corefile-\(UUID().uuidString)").path
                try ".:0 {\n  \(corefile.replacing("API", with: "\(apiPort)"))\n  }\n}\n".write(
                    toFile: path, atomically: true, encoding: .utf8)
                let server = try ServerProcess(["--conf", path])
                defer { server.stop() }
                try await body(server, simulator)
            } catch {
                await simulator.stop()
                throw error
            }
            await simulator.stop()
        }
    }

    static func answer(_ name: String, _ server: ServerProcess, _ type: String = "A") throws -> [String] {
        let reply = try Dig.query(name, type, port: server.port)
        return reply.rcode == "NOERROR" ? reply.normalized.answer : [reply.rcode]
    }

    @Test func namespacesServesOnlyTheListedOnes() async throws {
        try await Self.withServer("namespaces prod staging") { server, _ throws in
            #expect(try Self.answer("web.prod.svc.cluster.local.", server) == ["web.prod.svc.cluster.local. 5 in a 10.0.1.1"])
            #expect(try Self.answer("web.staging.svc.cluster.local.", server) == ["web.staging.svc.cluster.local. 5 in a 10.0.3.1"])
            #expect(try Self.answer("web.dev.svc.cluster.local.", server) == ["NXDOMAIN"])
            #expect(try Self.answer("dev.svc.cluster.local.", server) == ["NXDOMAIN"])
            #expect(
                try Self.answer("1.1.0.10.in-addr.arpa.", server, "PTR") == ["1.1.0.10.in-addr.arpa. 5 in ptr web.prod.svc.cluster.local."])
            #expect(try Dig.query("1.2.0.10.in-addr.arpa.", "PTR", port: server.port).rcode != "NOERROR")
        }
    }

    @Test func labelsPickObjectsAtTheAPIServerAndFollowRelabelling() async throws {
        try await Self.withServer("labels app=web,!canary") { server, simulator throws in
            #expect(try Self.answer("web.dev.svc.cluster.local.", server) == ["web.dev.svc.cluster.local. 5 in a 10.0.2.1"])
            #expect(try Self.answer("canary.prod.svc.cluster.local.", server) == ["NXDOMAIN"])
            #expect(try Self.answer("db.prod.svc.cluster.local.", server) == ["NXDOMAIN"])
            // The selector went to the API server, as CoreDNS sends it.
            let asked = simulator.requests.compactMap { $0.uri.removingPercentEncoding }.filter { $0.hasPrefix("/api/v1/services?") }
            #expect(asked.count >= 2 && asked.allSatisfy { $0.contains("labelSelector=app=web,!canary") }, "\(asked)")
            #expect(simulator.requests.contains { $0.uri.hasPrefix("/api/v1/namespaces?") && !$0.uri.contains("labelSelector") })
            // Relabelled: the canary comes in (ADDED to the watch), web.dev goes (DELETED).
            try simulator.apply(JSON.service("canary", "prod", clusterIPs: ["10.0.1.3"], labels: ["app": "web"]))
            try simulator.apply(JSON.service("web", "dev", clusterIPs: ["10.0.2.1"], labels: ["app": "other"]))
            #expect(
                try eventually(timeout: .seconds(10)) {
                    try Self.answer("canary.prod.svc.cluster.local.", server) == ["canary.prod.svc.cluster.local. 5 in a 10.0.1.3"]
                        && Self.answer("web.dev.svc.cluster.local.", server) == ["NXDOMAIN"]
                })
        }
    }

    @Test func namespaceLabelsFollowTheNamespacesLabels() async throws {
        try await Self.withServer("namespace_labels team in (a)") { server, simulator throws in
            #expect(try Self.answer("web.prod.svc.cluster.local.", server) == ["web.prod.svc.cluster.local. 5 in a 10.0.1.1"])
            #expect(try Self.answer("web.dev.svc.cluster.local.", server) == ["NXDOMAIN"])
            #expect(try Self.answer("web.staging.svc.cluster.local.", server) == ["NXDOMAIN"])
            #expect(
                simulator.requests.contains {
                    $0.uri.hasPrefix("/api/v1/namespaces?") && $0.uri.removingPercentEncoding!.contains("labelSelector=team=a")
                })
            try simulator.apply(JSON.namespace("dev", labels: ["team": "a"]))
            try simulator.apply(JSON.namespace("prod", labels: ["team": "gone"]))
            #expect(
                try eventually(timeout: .seconds(10)) {
                    try Self.answer("web.dev.svc.cluster.local.", server) == ["web.dev.svc.cluster.local. 5 in a 10.0.2.1"]
                        && Self.answer("web.prod.svc.cluster.local.", server) == ["NXDOMAIN"]
                        && Self.answer("prod.svc.cluster.local.", server) == ["NXDOMAIN"]
                })
        }
    }

    @Test func endpointPodNamesNameAnEndpointForItsPod() async throws {
        try await Self.withServer("endpoint_pod_names") { server, _ throws in
            #expect(try Self.answer("db-7f9c.db.prod.svc.cluster.local.", server) == ["db-7f9c.db.prod.svc.cluster.local. 5 in a 10.1.1.9"])
            #expect(try Self.answer("10-1-1-9.db.prod.svc.cluster.local.", server) == ["NXDOMAIN"])
            #expect(
                try Self.answer("9.1.1.10.in-addr.arpa.", server, "PTR") == [
                    "9.1.1.10.in-addr.arpa. 5 in ptr db-7f9c.db.prod.svc.cluster.local."
                ])
        }
        try await Self.withServer("") { server, _ throws in
            #expect(
                try Self.answer("10-1-1-9.db.prod.svc.cluster.local.", server) == ["10-1-1-9.db.prod.svc.cluster.local. 5 in a 10.1.1.9"])
            #expect(try Self.answer("db-7f9c.db.prod.svc.cluster.local.", server) == ["NXDOMAIN"])
        }
    }

    @Test func noendpointsWatchesNoEndpointsAndHeadlessNamesAreNXDOMAIN() async throws {
        try await Self.withServer("noendpoints") { server, simulator throws in
            #expect(try Self.answer("web.prod.svc.cluster.local.", server) == ["web.prod.svc.cluster.local. 5 in a 10.0.1.1"])
            #expect(try Self.answer("db.prod.svc.cluster.local.", server) == ["NXDOMAIN"])
            #expect(try Self.answer("10-1-1-9.db.prod.svc.cluster.local.", server) == ["NXDOMAIN"])
            #expect(!simulator.requests.contains { $0.uri.contains("endpoints") }, "\(simulator.requests.map(\.uri))")
        }
    }

    @Test func ignoreEmptyServiceHidesAServiceUntilAnEndpointIsReady() async throws {
        try await Self.withServer("ignore empty_service") { server, simulator throws in
            #expect(try Self.answer("web.prod.svc.cluster.local.", server) == ["web.prod.svc.cluster.local. 5 in a 10.0.1.1"])
            #expect(try Self.answer("idle.prod.svc.cluster.local.", server) == ["NXDOMAIN"])
            #expect(try Dig.query("2.1.0.10.in-addr.arpa.", "PTR", port: server.port).rcode != "NOERROR")
            try simulator.apply(JSON.endpointSlice("idle", "prod", endpoints: [.init("10.1.1.2")], labels: ["app": "web"]))
            #expect(
                try eventually(timeout: .seconds(10)) {
                    try Self.answer("idle.prod.svc.cluster.local.", server) == ["idle.prod.svc.cluster.local. 5 in a 10.0.1.2"]
                })
        }
    }
}

/// k8s_external: Services' external addresses in a zone of their own.
@Suite(.serialized) struct K8sExternalTests {
    typealias JSON = KubeObjectJSON

    @Test func loadBalancersAndExternalIPsAnswerInTheExternalZone() async throws {
        let corefile =
            "k8s_external example.org {\n    headless\n    ttl 7\n  }\n  kubernetes cluster.local {\n    endpoint http://127.0.0.1:API"
        try await KubernetesOptionsTests.withServer(corefile: corefile) { server, simulator throws in
            func answer(_ name: String, _ type: String = "A") throws -> [String] {
                try KubernetesOptionsTests.answer(name, server, type)
            }
            try simulator.apply(
                JSON.service("shop", "prod", clusterIPs: ["10.0.1.7"], ports: [.init("https", 443)], loadBalancer: ["203.0.113.7"]))
            try simulator.apply(JSON.service("api", "prod", clusterIPs: ["10.0.1.8"], externalIPs: ["198.51.100.8", "2001:db8::8"]))
            try simulator.apply(JSON.service("cdn", "prod", clusterIPs: ["10.0.1.9"], loadBalancer: ["edge.example.net"]))
            try simulator.apply(JSON.service("kube-dns", "kube-system", clusterIPs: ["10.0.0.10"], externalIPs: ["203.0.113.53"]))
            #expect(
                try eventually(timeout: .seconds(10)) {
                    try answer("shop.prod.example.org.") == ["shop.prod.example.org. 7 in a 203.0.113.7"]
                })
            #expect(
                try answer("_https._tcp.shop.prod.example.org.", "SRV") == [
                    "_https._tcp.shop.prod.example.org. 7 in srv 0 100 443 shop.prod.example.org."
                ])
            #expect(try answer("api.prod.example.org.") == ["api.prod.example.org. 7 in a 198.51.100.8"])
            #expect(try answer("api.prod.example.org.", "AAAA") == ["api.prod.example.org. 7 in aaaa 2001:db8::8"])
            #expect(try answer("cdn.prod.example.org.", "CNAME") == ["cdn.prod.example.org. 7 in cname edge.example.net."])
            // headless: the endpoints, named as in the cluster zone.
            #expect(try answer("db.prod.example.org.") == ["db.prod.example.org. 7 in a 10.1.1.9"])
            #expect(try answer("10-1-1-9.db.prod.example.org.") == ["10-1-1-9.db.prod.example.org. 7 in a 10.1.1.9"])
            // No external address: not in the zone.
            #expect(try answer("web.prod.example.org.") == ["NXDOMAIN"])
            // The apex: SOA and NS naming ns1.dns, which has the DNS service's external address.
            let soa = try Dig.query("example.org.", "SOA", port: server.port)
            #expect(
                soa.normalized.answer.first?.hasPrefix("example.org. 7 in soa ns1.dns.example.org. hostmaster.dns.example.org.") == true)
            #expect(try answer("example.org.", "NS") == ["example.org. 7 in ns ns1.dns.example.org."])
            #expect(try answer("ns1.dns.example.org.") == ["ns1.dns.example.org. 7 in a 203.0.113.53"])
            let nodata = try Dig.query("shop.prod.example.org.", "TXT", port: server.port)
            #expect(nodata.rcode == "NOERROR" && nodata.normalized.answer.isEmpty && nodata.flags.contains("aa"))
            // Gone from the load balancer: gone from the zone.
            try simulator.apply(JSON.service("shop", "prod", clusterIPs: ["10.0.1.7"]))
            #expect(try eventually(timeout: .seconds(10)) { try answer("shop.prod.example.org.") == ["NXDOMAIN"] })
        }
    }
}

/// multicluster: ServiceImports in the clusterset zone, by the
/// Multi-Cluster Services DNS specification (KEP-1645).
@Suite(.serialized) struct MulticlusterTests {
    typealias JSON = KubeObjectJSON
    static let corefile =
        "kubernetes cluster.local clusterset.local {\n    endpoint http://127.0.0.1:API\n    multicluster clusterset.local"

    static func importClusterset(into simulator: KubeAPISimulator) throws {
        try simulator.apply(JSON.serviceImport("web", "prod", ips: ["10.9.0.1"], ports: [.init("http", 80)]))
        try simulator.apply(JSON.serviceImport("db", "prod", ips: []))
        try simulator.apply(
            JSON.importedSlice(
                "db", "prod", cluster: "east", endpoints: [.init("10.10.1.1", hostname: "db-0"), .init("10.10.1.2")],
                ports: [.init("pg", 5432)]))
        try simulator.apply(
            JSON.importedSlice("db", "prod", cluster: "west", endpoints: [.init("10.20.1.1", hostname: "db-0")], ports: [.init("pg", 5432)])
        )
    }

    @Test func clusterSetIPAndHeadlessImportsAnswer() async throws {
        try await KubernetesOptionsTests.withServer(corefile: Self.corefile) { server, simulator throws in
            func answer(_ name: String, _ type: String = "A") throws -> [String] { try KubernetesOptionsTests.answer(name, server, type) }
            try Self.importClusterset(into: simulator)
            #expect(
                try eventually(timeout: .seconds(10)) {
                    try answer("web.prod.svc.clusterset.local.") == ["web.prod.svc.clusterset.local. 5 in a 10.9.0.1"]
                })
            #expect(
                try answer("_http._tcp.web.prod.svc.clusterset.local.", "SRV") == [
                    "_http._tcp.web.prod.svc.clusterset.local. 5 in srv 0 100 80 web.prod.svc.clusterset.local."
                ])
            #expect(
                try eventually(timeout: .seconds(10)) {
                    try answer("db.prod.svc.clusterset.local.") == [
                        "db.prod.svc.clusterset.local. 5 in a 10.10.1.1", "db.prod.svc.clusterset.local. 5 in a 10.10.1.2",
                        "db.prod.svc.clusterset.local. 5 in a 10.20.1.1",
                    ]
                })
            #expect(try answer("db-0.east.db.prod.svc.clusterset.local.") == ["db-0.east.db.prod.svc.clusterset.local. 5 in a 10.10.1.1"])
            #expect(try answer("db-0.west.db.prod.svc.clusterset.local.") == ["db-0.west.db.prod.svc.clusterset.local. 5 in a 10.20.1.1"])
            #expect(
                try answer("10-10-1-2.east.db.prod.svc.clusterset.local.") == [
                    "10-10-1-2.east.db.prod.svc.clusterset.local. 5 in a 10.10.1.2"
                ])
            #expect(
                try answer("_pg._tcp.db.prod.svc.clusterset.local.", "SRV") == [
                    "_pg._tcp.db.prod.svc.clusterset.local. 5 in srv 0 33 5432 10-10-1-2.east.db.prod.svc.clusterset.local.",
                    "_pg._tcp.db.prod.svc.clusterset.local. 5 in srv 0 33 5432 db-0.east.db.prod.svc.clusterset.local.",
                    "_pg._tcp.db.prod.svc.clusterset.local. 5 in srv 0 33 5432 db-0.west.db.prod.svc.clusterset.local.",
                ])
            // The cluster's own names are the cluster's: an imported slice is no Service's.
            #expect(try answer("web.prod.svc.cluster.local.") == ["web.prod.svc.cluster.local. 5 in a 10.0.1.1"])
            #expect(try answer("nosuch.prod.svc.clusterset.local.") == ["NXDOMAIN"])
            // Gone from the clusterset: gone from the zone.
            #expect(simulator.delete(.serviceImports, namespace: "prod", name: "web"))
            #expect(try eventually(timeout: .seconds(10)) { try answer("web.prod.svc.clusterset.local.") == ["NXDOMAIN"] })
        }
    }

    @Test func anAPIWithoutServiceImportsStillSyncs() async throws {
        var configuration = KubeAPISimulator.Configuration()
        configuration.servesServiceImports = false
        try await KubernetesOptionsTests.withServer(corefile: Self.corefile, simulator: configuration) { server, _ throws in
            #expect(
                try KubernetesOptionsTests.answer("web.prod.svc.cluster.local.", server) == ["web.prod.svc.cluster.local. 5 in a 10.0.1.1"])
            #expect(try KubernetesOptionsTests.answer("web.prod.svc.clusterset.local.", server) == ["NXDOMAIN"])
            #expect(server.log.contains("the API serves no ServiceImports"), "\(server.log)")
        }
    }
}
