import Foundation
import TestSupport
import Testing

/// autopath @kubernetes with a real glibc client: getent in a network
/// namespace whose resolv.conf is a pod's (its namespace's search path,
/// ndots:5), its queries leaving from a pod's address. Asserted: the
/// answer, and how many queries the server saw for it.
@Suite(.serialized) struct AutopathTests {
    static let server = "10.0.0.10"
    static let outside = "10.0.0.53"
    static let prodPod = "10.244.1.5"
    static let shopPod = "10.244.2.7"
    static let stranger = "10.244.9.9"

    static let cluster = """
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: v1, kind: Namespace, metadata: {name: default}}
        - {apiVersion: v1, kind: Namespace, metadata: {name: prod}}
        - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
        - {apiVersion: v1, kind: Service, metadata: {name: kubernetes, namespace: default}, spec: {clusterIP: 10.0.0.1}}
        - {apiVersion: v1, kind: Service, metadata: {name: web, namespace: prod}, spec: {clusterIP: 10.0.1.1}}
        - {apiVersion: v1, kind: Service, metadata: {name: cart, namespace: shop}, spec: {clusterIP: 10.0.2.1}}
        - {apiVersion: v1, kind: Pod, metadata: {name: client-a, namespace: prod}, status: {phase: Running, podIP: \(prodPod)}}
        - {apiVersion: v1, kind: Pod, metadata: {name: client-b, namespace: shop}, status: {phase: Running, podIP: \(shopPod)}}

        """

    /// The world outside: www.example.com and db.corp.test, and NXDOMAIN for every other name.
    static let outsideCorefile = """
        .:53 {
            bind \(outside)
            template IN A example.com {
                match ^www[.]example[.]com[.]$
                answer "{{ .Name }} 60 IN A 192.0.2.10"
                fallthrough
            }
            template IN A corp.test {
                match ^db[.]corp[.]test[.]$
                answer "{{ .Name }} 60 IN A 192.0.2.77"
                fallthrough
            }
            template ANY ANY {
                rcode NXDOMAIN
            }
        }

        """

    static func withCluster(
        autopath: Bool,
        _ body: (NetworkSandbox, (String, String) throws -> (answer: String, queries: Int), _ objectsFile: String) throws -> Void
    ) throws {
        let sandbox = try NetworkSandbox()
        defer { sandbox.remove() }
        try sandbox.addAddresses([server, outside, prodPod, shopPod, stranger])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("autopath-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try cluster.write(toFile: directory + "/cluster.yaml", atomically: true, encoding: .utf8)
        try outsideCorefile.write(toFile: directory + "/outside.Corefile", atomically: true, encoding: .utf8)
        let corefile = """
            .:53 {
                bind \(server)
                \(autopath ? "autopath @kubernetes" : "")
                kubernetes cluster.local {
                    pods verified
                }
                forward . \(outside)
                prometheus \(server):9153
            }

            """
        try corefile.write(toFile: directory + "/Corefile", atomically: true, encoding: .utf8)
        let binary = ServerProcess.binaryPath
        _ = try sandbox.start([binary, "-conf", directory + "/outside.Corefile"], log: directory + "/outside.log")
        // The server's own resolv.conf gives the search domain after the pod's three.
        _ = try sandbox.start(
            [binary, "-conf", directory + "/Corefile", "--kube-objects", directory + "/cluster.yaml"],
            resolvConf: "search corp.test\nnameserver \(outside)\n", log: directory + "/server.log")
        let answering = try eventually {
            try sandbox.dig("kubernetes.default.svc.cluster.local", "A", server: server).answer.count == 1
                && sandbox.dig("www.example.com", "A", server: outside).answer.count == 1
        }
        #expect(answering, "\((try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? "")")
        func requests() throws -> Int {
            try sandbox.get("http://\(server):9153/metrics").body.split(separator: "\n")
                .filter { $0.hasPrefix("coredns_dns_requests_total{") }
                .compactMap { Int(Double($0.split(separator: " ").last ?? "") ?? 0) }.reduce(0, +)
        }
        /// Looks `name` up as the pod at `client` would; the first address and the queries it took.
        func lookup(_ name: String, from client: String) throws -> (answer: String, queries: Int) {
            let namespace = [prodPod: "prod", shopPod: "shop"][client] ?? "default"
            try sandbox.send(to: server, from: client)
            let before = try requests()
            let resolvConf = """
                nameserver \(server)
                search \(namespace).svc.cluster.local svc.cluster.local cluster.local
                options ndots:5

                """
            let result = try sandbox.runWithResolvConf(resolvConf, ["/usr/bin/getent", "ahostsv4", name])
            let answer = result.stdout.split(separator: "\n").first.map { String($0.split(separator: " ").first ?? "") } ?? ""
            return (answer, try requests() - before)
        }
        try body(sandbox, lookup, directory + "/cluster.yaml")
    }

    @Test func aPodsSearchPathIsWalkedInOneQuery() throws {
        try Self.withCluster(autopath: true) { sandbox, lookup, objectsFile throws in
            // Its own namespace: the first name of the path exists.
            #expect(try lookup("web", Self.prodPod) == ("10.0.1.1", 1))
            // Another namespace's service, found at the path's second domain.
            #expect(try lookup("cart.shop", Self.prodPod) == ("10.0.2.1", 1))
            // The same names from a pod of the other namespace.
            #expect(try lookup("cart", Self.shopPod) == ("10.0.2.1", 1))
            #expect(try lookup("web.prod", Self.shopPod) == ("10.0.1.1", 1))
            // Outside the cluster: the server's own search domain, then the name itself, forwarded.
            #expect(try lookup("db", Self.prodPod) == ("192.0.2.77", 1))
            #expect(try lookup("www.example.com", Self.prodPod) == ("192.0.2.10", 1))
            // A client that is no known pod gets the ordinary answers: one query per search domain.
            #expect(try lookup("www.example.com", Self.stranger) == ("192.0.2.10", 4))
            // The reply: the client's name, a CNAME to the name found, its records.
            try sandbox.send(to: Self.server, from: Self.prodPod)
            let reply = try sandbox.dig("cart.shop.prod.svc.cluster.local", "A", server: Self.server)
            #expect(
                reply.normalized.answer == [
                    "cart.shop.prod.svc.cluster.local. 5 in cname cart.shop.svc.cluster.local.",
                    "cart.shop.svc.cluster.local. 5 in a 10.0.2.1",
                ], "\(reply.output)")
            let metrics = try sandbox.get("http://\(Self.server):9153/metrics").body
            let successes = metrics.split(separator: "\n").first { $0.hasPrefix("coredns_autopath_success_total") }
            #expect(successes.flatMap { Double($0.split(separator: " ").last ?? "") }.map { $0 >= 7 } == true, "\(successes ?? "none")")
            // The pod at prodPod's address now runs in shop: its search path follows at the next table.
            try sandbox.send(to: Self.server, from: Self.prodPod)
            let shopName = "web.prod.shop.svc.cluster.local"
            #expect(try sandbox.dig(shopName, "A", server: Self.server).rcode == "NXDOMAIN")
            try Self.cluster.replacing(
                "namespace: prod}, status: {phase: Running, podIP: \(Self.prodPod)",
                with: "namespace: shop}, status: {phase: Running, podIP: \(Self.prodPod)"
            ).write(toFile: objectsFile, atomically: true, encoding: .utf8)
            #expect(
                try eventually(timeout: .seconds(10)) {
                    try sandbox.dig(shopName, "A", server: Self.server).normalized.answer.contains(
                        "web.prod.svc.cluster.local. 5 in a 10.0.1.1")
                })
        }
    }

    @Test func withoutAutopathEachSearchDomainIsAQuery() throws {
        try Self.withCluster(autopath: false) { _, lookup, _ throws in
            #expect(try lookup("web", Self.prodPod) == ("10.0.1.1", 1))
            #expect(try lookup("cart.shop", Self.prodPod) == ("10.0.2.1", 2))
            #expect(try lookup("www.example.com", Self.prodPod) == ("192.0.2.10", 4))
        }
    }
}
