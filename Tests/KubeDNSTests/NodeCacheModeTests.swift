import Foundation
import NodeCache
import TestSupport
import Testing
import Yams

#if canImport(Glibc)
    import Glibc
#endif

/// `kube-dns node-cache` on a node of its own: a network namespace the
/// test makes, with the local addresses on its loopback (this kernel has
/// no dummy interfaces, so `-setupinterface=false`; the netlink requests
/// are tested in NodeCacheTests), a cluster DNS behind the
/// kube-dns-upstream address, an outside upstream, and the Corefile of
/// deploy/nodelocaldns with its pillars filled in as its header says.
@Suite(.serialized) struct NodeCacheModeTests {
    static let localAddress = "169.254.20.10"
    static let dnsServer = "10.0.0.10"
    static let clusterUpstream = "10.0.0.11"
    static let outsideUpstream = "10.0.0.53"
    static let manifest = NetworkSandbox.repositoryRoot.appendingPathComponent("deploy/nodelocaldns/nodelocaldns.yaml").path

    /// The ConfigMap's Corefile, as the operator's sed leaves it.
    static func baseCorefile() throws -> String {
        let documents = try Yams.load_all(yaml: String(contentsOfFile: manifest, encoding: .utf8)).compactMap { $0 as? [String: Any] }
        let configMap = try #require(documents.first { $0["kind"] as? String == "ConfigMap" })
        let corefile = try #require((configMap["data"] as? [String: Any])?["Corefile"] as? String)
        return corefile.replacingOccurrences(of: "__PILLAR__LOCAL__DNS__", with: localAddress)
            .replacingOccurrences(of: "__PILLAR__DNS__DOMAIN__", with: "cluster.local")
            .replacingOccurrences(of: "__PILLAR__DNS__SERVER__", with: dnsServer)
    }

    /// A node: the namespace, the two upstreams, node-cache; `body` gets
    /// the sandbox, node-cache's process and the cluster DNS's metrics URL.
    static func withNode(
        _ extra: [String] = [], upstreamNameservers: String = #"["\#(outsideUpstream)"]"#,
        _ body: (NetworkSandbox, Process, String) throws -> Void
    ) throws {
        let sandbox = try NetworkSandbox()
        defer { sandbox.remove() }
        try sandbox.addAddresses([localAddress, dnsServer, clusterUpstream, outsideUpstream])
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("node-cache-\(UUID())").path
        try FileManager.default.createDirectory(atPath: directory + "/kube-dns", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let binary = ServerProcess.binaryPath
        let demo = NetworkSandbox.repositoryRoot.appendingPathComponent("deploy/demo/cluster.yaml").path
        let common = ["--kube-objects", demo, "--dns-port", "53", "--nameservers", "", "--lameduck", "0"]
        _ = try sandbox.start(
            [binary, "--dns-bind-address", clusterUpstream, "--healthz-port", "18081", "--metrics-port", "10055"] + common,
            log: directory + "/cluster.log")
        // The outside world: another domain, served elsewhere.
        _ = try sandbox.start(
            [
                binary, "--domain", "example.com.", "--dns-bind-address", outsideUpstream, "--healthz-port", "18082", "--metrics-port",
                "10056",
            ]
                + common, log: directory + "/outside.log")
        // The kube-dns ConfigMap names the outside upstream (else node-cache uses the node's resolv.conf).
        try upstreamNameservers.write(toFile: directory + "/kube-dns/upstreamNameservers", atomically: true, encoding: .utf8)
        try baseCorefile().write(toFile: directory + "/Corefile.base", atomically: true, encoding: .utf8)
        let nodeCache = try sandbox.start(
            [
                binary, "node-cache", "-localip", "\(localAddress),\(dnsServer)", "-setupinterface=false", "-syncinterval", "1",
                "-basecorefile", directory + "/Corefile.base", "-conf", directory + "/Corefile", "-kubednscm", directory + "/kube-dns",
                "-upstreamsvc", "kube-dns-upstream",
            ] + extra, environment: ["KUBE_DNS_UPSTREAM_SERVICE_HOST": clusterUpstream], log: directory + "/node-cache.log")
        let answering = try eventually {
            try sandbox.dig("kubernetes.default.svc.cluster.local", "A", server: localAddress).answer.count == 1
        }
        #expect(answering, "\((try? String(contentsOfFile: directory + "/node-cache.log", encoding: .utf8)) ?? "")")
        try body(sandbox, nodeCache, "http://\(clusterUpstream):10055/metrics")
    }

    static let rules = NodeCacheRules.rules(localAddresses: [localAddress, dnsServer], dnsPort: 53, healthPort: 8080)

    /// The rules of node-cache's that are in the namespace's tables.
    static func presentRules(_ sandbox: NetworkSandbox) throws -> [IPTablesRule] {
        try rules.filter { rule in
            try sandbox.run(["/usr/sbin/iptables", "-w", "5", "-t", rule.table, "-C", rule.chain] + rule.arguments).status == 0
        }
    }

    @Test func theRulesAppearAreRestoredAndGoAtExit() throws {
        try Self.withNode { sandbox, nodeCache, _ in
            #expect(try eventually { try Self.presentRules(sandbox) == Self.rules })
            // An operator (or another agent) deletes two; the next sync puts them back.
            for rule in [Self.rules[0], Self.rules[13]] {
                let deleted = try sandbox.run(["/usr/sbin/iptables", "-w", "5", "-t", rule.table, "-D", rule.chain] + rule.arguments)
                #expect(deleted.status == 0, "\(deleted.stderr)")
            }
            #expect(try Self.presentRules(sandbox).count == Self.rules.count - 2)
            #expect(try eventually { try Self.presentRules(sandbox) == Self.rules })
            kill(nodeCache.processIdentifier, SIGTERM)
            nodeCache.waitUntilExit()
            #expect(try Self.presentRules(sandbox).isEmpty)
            #expect(!(try sandbox.run(["/usr/sbin/iptables-save"]).stdout.contains("NodeLocal DNS Cache")))
        }
    }

    @Test func skipteardownLeavesTheRules() throws {
        try Self.withNode(["-skipteardown=true"]) { sandbox, nodeCache, _ throws in
            #expect(try eventually { try Self.presentRules(sandbox) == Self.rules })
            kill(nodeCache.processIdentifier, SIGTERM)
            nodeCache.waitUntilExit()
            #expect(try Self.presentRules(sandbox) == Self.rules)
        }
    }

    /// glibc's resolver with `nameserver 169.254.20.10` and the pods'
    /// search path: cluster names come from the cluster DNS over TCP,
    /// outside names from the upstream, and a second lookup from the cache.
    @Test func aGlibcClientResolvesThroughTheCache() throws {
        try Self.withNode { sandbox, _, metrics in
            let resolvConf = """
                nameserver \(Self.localAddress)
                search default.svc.cluster.local svc.cluster.local cluster.local
                options ndots:5

                """
            func lookup(_ name: String) throws -> String {
                let result = try sandbox.runWithResolvConf(resolvConf, ["/usr/bin/getent", "ahostsv4", name])
                return result.stdout.split(separator: "\n").first.map { String($0.split(separator: " ").first ?? "") } ?? ""
            }
            #expect(try lookup("kubernetes") == "10.0.0.1")
            #expect(try lookup("kubernetes.default.svc.example.com") == "10.0.0.1")
            #expect(try lookup("frontend.shop") == "10.0.12.7")
            let tcp = try Self.requests(sandbox, metrics, proto: "tcp")
            #expect(tcp > 0, "the cluster zone is forwarded with force_tcp")
            #expect(
                try Self.requests(sandbox, metrics, proto: "udp") == 0,
                "\((try? sandbox.get(metrics).body.split(separator: "\n").filter { $0.hasPrefix("coredns_dns_requests_total{") && !$0.hasSuffix(" 0") }) ?? [])"
            )
            let before = tcp
            #expect(try lookup("frontend.shop") == "10.0.12.7")
            #expect(try lookup("kubernetes") == "10.0.0.1")
            #expect(try Self.requests(sandbox, metrics, proto: "tcp") == before, "answered from the cache")
        }
    }

    /// NodeLocal's Corefile caches the cluster's denials 5 s
    /// (kubernetes/kubernetes#74093: StatefulSet pods polling for their
    /// peers' names) and other answers up to 30 s: each block's cache caps
    /// its own names, whatever the other blocks allow.
    @Test func theClustersDenialsAreCachedFiveSecondsAndTheRestThirty() throws {
        try Self.withNode { sandbox, _, _ in
            let denial = try sandbox.dig("nope.default.svc.cluster.local", "A", server: Self.localAddress)
            #expect(denial.rcode == "NXDOMAIN")
            let soaTTL = denial.authority.first.flatMap { Int($0.split(whereSeparator: \.isWhitespace)[1]) }
            #expect(soaTTL.map { $0 <= 5 } == true, "\(denial.output)")
            let answer = try sandbox.dig("kubernetes.default.svc.example.com", "A", server: Self.localAddress)
            let ttl = answer.answer.first.flatMap { Int($0.split(whereSeparator: \.isWhitespace)[1]) }
            #expect(ttl.map { $0 > 5 && $0 <= 30 } == true, "\(answer.output)")
        }
    }

    /// A kube-dns ConfigMap node-cache cannot use is left out and counted;
    /// the cluster's names are answered all the same.
    @Test func aBadKubeDNSConfigMapIsCountedAndLeftOut() throws {
        try Self.withNode(upstreamNameservers: "not json") { sandbox, _, _ in
            let metrics = try sandbox.get("http://127.0.0.1:9353/metrics").body
            #expect(metrics.contains(#"coredns_nodecache_setup_errors_total{errortype="configmap"} 1"#), "\(metrics.prefix(2000))")
        }
    }

    /// Requests the cluster DNS has had over `proto`, from its /metrics.
    static func requests(_ sandbox: NetworkSandbox, _ metrics: String, proto: String) throws -> Int {
        let page = try sandbox.get(metrics).body
        return page.split(separator: "\n").filter { $0.hasPrefix("coredns_dns_requests_total{") && $0.contains("proto=\"\(proto)\"") }
            .compactMap { Int(Double($0.split(separator: " ").last ?? "") ?? 0) }.reduce(0, +)
    }

    @Test func badFlagsAreNamed() throws {
        for (arguments, message) in [
            (["-localip", "169.254.20.x"], "--localip 169.254.20.x: not an IP address"),
            (["-localip", "169.254.20.10,fd00::10"], "the addresses must all be IPv4 or all IPv6"),
        ] {
            let result = try runToEnd(ServerProcess.binaryPath, ["node-cache"] + arguments)
            #expect(result.status != 0 && result.stderr.contains(message), "\(result.stderr)")
        }
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("base-\(UUID())").path
        try Self.baseCorefile().write(toFile: base, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: base) }
        let result = try runToEnd(
            ServerProcess.binaryPath,
            [
                "node-cache", "-localip", Self.localAddress, "-setupinterface=false", "-setupiptables=false", "-basecorefile", base,
                "-conf", base + ".out", "-upstreamsvc", "kube-dns-upstream",
            ])
        #expect(result.status != 0 && result.stderr.contains("KUBE_DNS_UPSTREAM_SERVICE_HOST is not set"), "\(result.stderr)")
    }
}
