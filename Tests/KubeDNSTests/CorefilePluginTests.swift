import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Each plugin option of a Corefile, asserted by its effect on answers:
/// what reaches the upstream and what does not, files read again, a
/// Corefile reloaded, and what stops the start.
@Suite(.serialized) struct CorefilePluginTests {
    /// Writes `text` as a Corefile and serves it with the fixture cluster as an objects file.
    static func serve(_ text: String, extra: [String] = []) throws -> (ServerProcess, path: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("Corefile-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (try ServerProcess(["--conf", path, "--kube-objects", Fixtures.clusterPath] + extra), path)
    }

    /// Serves `plugins` in front of the fixture cluster (`kubernetes
    /// cluster.local`, with `cache 30` when asked), forwarding the rest to
    /// Unbound (example.test).
    static func withUnbound(_ plugins: String, cache: Bool = false, _ body: (ServerProcess, UpstreamServer) throws -> Void) throws {
        let upstream = try unbound()
        defer { upstream.stop() }
        let (server, _) = try serve(
            ".:0 {\n\(plugins)\n\(cache ? "cache 30" : "")\nkubernetes cluster.local\nforward . \(upstream.address)\n}")
        defer { server.stop() }
        try body(server, upstream)
    }

    static func unbound() throws -> UpstreamServer {
        try UpstreamServer(.unbound, origin: "example.test", zone: CorefileFixtureTests.upstreamZone)
    }

    /// A stub domain's server: Knot with corp.test.
    static func knotStub() throws -> UpstreamServer {
        try UpstreamServer(.knot, origin: "corp.test", zone: CorefileFixtureTests.stubZone)
    }

    @Test func nodeLocalDNSCacheForwardsTheClusterOverTCPAndCaches() throws {
        let upstream = try Self.unbound()
        defer { upstream.stop() }
        let cluster = try ServerProcess(["--kube-objects", Fixtures.clusterPath])
        defer { cluster.stop() }
        let directory = FileManager.default.temporaryDirectory.path
        let text = FixtureCorefiles.adapt(
            try String(contentsOf: CorefileDeployTests.directory.appendingPathComponent("nodelocaldns.Corefile"), encoding: .utf8),
            .init(upstream: upstream.address, clusterDNS: "127.0.0.1:\(cluster.port)", directory: directory))
        let (cache, _) = try Self.serve(text)
        defer { cache.stop() }
        // Both bound addresses answer; the cluster's names come from kube-dns over TCP.
        for address in ["127.0.0.1", "127.0.0.2"] {
            let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: cache.port, server: address)
            #expect(reply.normalized.answer.first?.hasSuffix(" in a 10.0.0.1") == true, "\(reply.output)")
        }
        let upstreamSamples = try MetricsTests.scrape(cluster.metricsPort).samples
        // force_tcp: each forwarded query a connection (the loop probes alone go over UDP).
        #expect(upstreamSamples.first { $0.key.hasPrefix("kube_dns_tcp_connections_total") }?.value ?? 0 >= 2)
        // Other names go to the node's upstream, once: the second answer is the cache's.
        for _ in 0..<2 {
            let reply = try Dig.query("www.example.test.", "A", port: cache.port)
            #expect(reply.normalized.answer.count == 1, "\(reply.output)")
        }
        #expect(upstream.queries("www.example.test.", "A") == 1)
        let health = try #require(cache.ports["health"])
        #expect(try httpStatus("http://127.0.0.1:\(health)/health") == 200)
        #expect(try MetricsTests.scrape(try #require(cache.ports["metrics"])).text.contains("coredns_cache_hits_total"))
    }

    @Test func exceptZonesAndStubBlocksKeepNamesFromTheDefaultUpstream() throws {
        let upstream = try Self.unbound()
        defer { upstream.stop() }
        let stub = try Self.knotStub()
        defer { stub.stop() }
        let (server, _) = try Self.serve(
            """
            .:0 {
                kubernetes cluster.local
                forward . \(upstream.address) {
                    except blocked.test
                }
            }
            corp.test:0 {
                forward . \(stub.address)
            }
            """)
        defer { server.stop() }
        #expect(try Dig.query("www.blocked.test.", "A", port: server.port).rcode == "SERVFAIL")
        #expect(try Dig.query("db.corp.test.", "A", port: server.port).normalized.answer == ["db.corp.test. 120 in a 192.0.2.77"])
        #expect(upstream.queriedNames.allSatisfy { !$0.hasSuffix("blocked.test.") && !$0.hasSuffix("corp.test.") })
        // No cache plugin: every query goes upstream.
        for _ in 0..<2 { _ = try Dig.query("www.example.test.", "A", port: server.port) }
        #expect(upstream.queries("www.example.test.", "A") == 2)
    }

    @Test func aBlocksForwardsAreTriedInWrittenOrder() throws {
        let upstream = try Self.unbound()
        defer { upstream.stop() }
        let stub = try Self.knotStub()
        defer { stub.stop() }
        let (server, _) = try Self.serve(
            """
            .:0 {
                kubernetes cluster.local
                forward corp.test \(stub.address) {
                    except skip.corp.test
                }
                forward . \(upstream.address)
                forward example.test \(stub.address)
            }
            """)
        defer { server.stop() }
        #expect(try Dig.query("db.corp.test.", "A", port: server.port).normalized.answer == ["db.corp.test. 120 in a 192.0.2.77"])
        // `.` comes before example.test's forward, and takes its names first.
        #expect(try Dig.query("www.example.test.", "A", port: server.port).normalized.answer == ["www.example.test. 300 in a 192.0.2.10"])
        // The first forward passes its except names on to the next.
        _ = try Dig.query("x.skip.corp.test.", "A", port: server.port)
        #expect(upstream.queriedNames.contains("x.skip.corp.test."))
        #expect(!upstream.queriedNames.contains("db.corp.test."))
    }

    @Test func policyDecidesWhichUpstreamIsAskedFirst() throws {
        let first = try Self.unbound()
        defer { first.stop() }
        let second = try Self.unbound()
        defer { second.stop() }
        for (policy, bothAsked) in [("sequential", false), ("round_robin", true)] {
            let (server, _) = try Self.serve(
                ".:0 {\nkubernetes cluster.local\nforward . \(first.address) \(second.address) {\npolicy \(policy)\n}\n}")
            defer { server.stop() }
            let before = (first.queries("www.example.test.", "A"), second.queries("www.example.test.", "A"))
            for _ in 0..<8 { _ = try Dig.query("www.example.test.", "A", port: server.port) }
            let asked = (first.queries("www.example.test.", "A") - before.0, second.queries("www.example.test.", "A") - before.1)
            #expect(asked.0 + asked.1 == 8, "\(policy)")
            #expect((asked.1 > 0) == bothAsked, "\(policy): \(asked)")
        }
    }

    @Test func kubernetesFallthroughSendsTheClustersMissesOn() throws {
        let upstream = try Self.unbound()
        defer { upstream.stop() }
        for fallsThrough in [false, true] {
            let block = fallsThrough ? " {\nfallthrough\n}" : ""
            let (server, _) = try Self.serve(".:0 {\nkubernetes cluster.local\(block)\nforward . \(upstream.address)\n}")
            defer { server.stop() }
            let reply = try Dig.query("nosuch.default.svc.cluster.local.", "A", port: server.port)
            // Ours: NXDOMAIN, authoritative; passed on: what the upstream says.
            if !fallsThrough { #expect(reply.rcode == "NXDOMAIN", "\(reply.output)") }
            #expect(reply.flags.contains("aa") == !fallsThrough, "\(reply.output)")
            #expect(upstream.queries("nosuch.default.svc.cluster.local.", "A") == (fallsThrough ? 1 : 0))
            // A name the cluster has is its own either way.
            let kubernetes = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port)
            #expect(kubernetes.flags.contains("aa"))
        }
    }

    @Test func theLogPluginWritesEachQueryInCoreDNSsFormat() throws {
        let (server, _) = try Self.serve(".:0 {\nlog\nkubernetes cluster.local\n}")
        defer { server.stop() }
        _ = try Dig.query("KuBeRnEtEs.default.svc.cluster.local.", "A", port: server.port)
        _ = try Dig.query("nosuch.default.svc.cluster.local.", "AAAA", port: server.port, tcp: true)
        let udp =
            #/\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN KuBeRnEtEs\.default\.svc\.cluster\.local\. udp \d+ false 1232" NOERROR qr,aa \d+ \d+(\.\d+)?s/#
        let tcp =
            #/\[INFO\] 127\.0\.0\.1:\d+ - \d+ "AAAA IN nosuch\.default\.svc\.cluster\.local\. tcp \d+ false \d+" NXDOMAIN qr,aa \d+ \d+(\.\d+)?s/#
        #expect(eventually(timeout: .seconds(5)) { server.log.contains(udp) && server.log.contains(tcp) }, "\(server.log)")
    }

    @Test func logRulesPickNamesClassesAndFormat() throws {
        let corefile = """
            .:0 {
                log prod.svc.cluster.local "{proto} {name} {type} {rcode} {/log/class} {/log/type} {>id}" {
                    class denial
                }
                log default.svc.cluster.local
                kubernetes cluster.local
            }
            """
        let (server, _) = try Self.serve(corefile)
        defer { server.stop() }
        _ = try Dig.query("web.prod.svc.cluster.local.", "A", port: server.port)
        _ = try Dig.query("nosuch.prod.svc.cluster.local.", "A", port: server.port)
        _ = try Dig.query("web.prod.svc.cluster.local.", "TXT", port: server.port, tcp: true)
        _ = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port)
        _ = try Dig.query("kube-dns.kube-system.svc.cluster.local.", "A", port: server.port)
        let common = #/\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN kubernetes\.default\.svc\.cluster\.local\. udp \d+ false \d+" NOERROR/#
        #expect(
            eventually(timeout: .seconds(5)) {
                server.log.contains(common) && server.log.contains("[INFO] udp nosuch.prod.svc.cluster.local. A NXDOMAIN denial NXDOMAIN ")
                    && server.log.contains("[INFO] tcp web.prod.svc.cluster.local. TXT NOERROR denial NODATA ")
            }, "\(server.log)")
        // A success under the first rule's name is not of its class; a name under no rule's is not logged.
        #expect(!server.log.contains("web.prod.svc.cluster.local. A NOERROR"), "\(server.log)")
        #expect(!server.log.contains("kube-dns.kube-system"), "\(server.log)")
    }

    @Test func errorsAreLoggedAndConsolidated() throws {
        // An upstream that is not there: its port is closed, every query fails at once.
        let dead = try freePort()
        let corefile = """
            .:0 {
                errors
                kubernetes cluster.local
                forward . 127.0.0.1:\(dead)
            }
            example.test:0 {
                errors {
                    consolidate 2s "no upstream answered" warning show_first
                }
                forward . 127.0.0.1:\(dead)
            }
            """
        let (server, _) = try Self.serve(corefile)
        defer { server.stop() }
        for name in ["a.example.test.", "b.example.test.", "c.example.test.", "www.outside.test."] {
            #expect(try Dig.query(name, "A", port: server.port).rcode == "SERVFAIL")
        }
        _ = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port)
        let plain = "[ERROR] plugin/errors: 2 www.outside.test. A: forward: no upstream answered (each failed or timed out)"
        let first = "[WARNING] plugin/errors: 2 a.example.test. A: forward: no upstream answered (each failed or timed out)"
        let summary = "[WARNING] 3 errors like 'no upstream answered' occurred in last 2s"
        #expect(eventually(timeout: .seconds(10)) { server.log.contains(summary) }, "\(server.log)")
        #expect(server.log.contains(plain) && server.log.contains(first), "\(server.log)")
        // Consolidated: the other two of the window are in the count only; answers are no errors.
        #expect(!server.log.contains("b.example.test. A:") && !server.log.contains("kubernetes.default"), "\(server.log)")
    }

    @Test func aHostsFileEditedIsReadAgain() throws {
        let hostsPath = FileManager.default.temporaryDirectory.appendingPathComponent("hosts-\(UUID().uuidString)").path
        try "10.9.0.1 first.node\n".write(toFile: hostsPath, atomically: true, encoding: .utf8)
        let (server, _) = try Self.serve(
            """
            .:0 {
                hosts \(hostsPath) {
                    10.9.0.9 inline.node
                    ttl 42
                    reload 1s
                    no_reverse
                }
            }
            """)
        defer { server.stop() }
        #expect(try Dig.query("first.node.", "A", port: server.port).normalized.answer == ["first.node. 42 in a 10.9.0.1"])
        #expect(try Dig.query("inline.node.", "A", port: server.port).normalized.answer == ["inline.node. 42 in a 10.9.0.9"])
        // no_reverse: no PTR; without fallthrough the name is NXDOMAIN, and so is a name the file lacks.
        #expect(try Dig.query("1.0.9.10.in-addr.arpa.", "PTR", port: server.port).rcode == "NXDOMAIN")
        #expect(try Dig.query("second.node.", "A", port: server.port).rcode == "NXDOMAIN")
        try "10.9.0.1 first.node\n10.9.0.2 second.node second\n".write(toFile: hostsPath, atomically: false, encoding: .utf8)
        #expect(
            try eventually(timeout: .seconds(10)) {
                try Dig.query("second.node.", "A", port: server.port).normalized.answer == ["second.node. 42 in a 10.9.0.2"]
            })
        #expect(try Dig.query("second.", "A", port: server.port).normalized.answer == ["second. 42 in a 10.9.0.2"])
    }

    /// CoreDNS's reload restarts the kubernetes plugin with its new
    /// options; here the cluster is read again beside the records served,
    /// which stay until the new ones are out.
    @Test func aChangedKubernetesPluginIsAppliedWithoutALostQuery() throws {
        let corefile = { (ttl: Int) in ".:0 {\nkubernetes cluster.local {\nttl \(ttl)\n}\n}\n" }
        let (server, path) = try Self.serve(corefile(5))
        defer { server.stop() }
        func ttl() throws -> UInt32? { try CorefileCacheTests.ttl("kubernetes.default.svc.cluster.local.", port: server.port) }
        #expect(try ttl() == 5)
        try corefile(30).write(toFile: path, atomically: true, encoding: .utf8)
        let failures = try Self.queryWhile(port: server.port) { kill(server.pid, SIGUSR1) }
        #expect(failures == 0)
        #expect(try eventually(timeout: .seconds(5)) { try ttl() == 30 })
        #expect(server.log.contains("kubernetes plugin applied; the cluster is read again"))
        // Without the plugin the block answers no cluster name; with it again, it does.
        try ".:0 {\nerrors\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        kill(server.pid, SIGUSR1)
        #expect(
            try eventually(timeout: .seconds(5)) {
                try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port).rcode == "SERVFAIL"
            })
        try corefile(7).write(toFile: path, atomically: true, encoding: .utf8)
        kill(server.pid, SIGUSR1)
        #expect(try eventually(timeout: .seconds(5)) { try ttl() == 7 })
    }

    @Test func aReloadedCorefileLosesNoQueryAndAnInvalidOneIsKeptOut() throws {
        let upstream = try Self.unbound()
        defer { upstream.stop() }
        let stub = try Self.knotStub()
        defer { stub.stop() }
        let base = ".:0 {\nkubernetes cluster.local\nforward . \(upstream.address)\nreload 2s 1s\nprometheus 127.0.0.1:0\n}\n"
        let (server, path) = try Self.serve(base)
        defer { server.stop() }
        #expect(try Dig.query("db.corp.test.", "A", port: server.port).rcode != "NOERROR")
        // Queries keep coming while the edited Corefile is taken, on SIGUSR1.
        try (base + "corp.test:0 {\nforward . \(stub.address)\n}\n").write(toFile: path, atomically: true, encoding: .utf8)
        let failures = try Self.queryWhile(port: server.port) { kill(server.pid, SIGUSR1) }
        #expect(failures == 0)
        #expect(
            try eventually(timeout: .seconds(5)) {
                try Dig.query("db.corp.test.", "A", port: server.port).normalized.answer == ["db.corp.test. 120 in a 192.0.2.77"]
            })
        // An invalid edit: the running configuration stays, and the log says why.
        try (base + "corp.test:0 {\nforward . \(stub.address)\nnosuchplugin\n}\n").write(toFile: path, atomically: true, encoding: .utf8)
        kill(server.pid, SIGUSR1)
        #expect(eventually(timeout: .seconds(5)) { server.log.contains("Unknown directive 'nosuchplugin'") })
        #expect(server.log.contains("Corefile not reloaded; the running configuration stays"))
        #expect(try Dig.query("db.corp.test.", "A", port: server.port).normalized.answer == ["db.corp.test. 120 in a 192.0.2.77"])
        // CoreDNS's configuration metrics: the plugins each block runs, the failed reload.
        let (text, samples) = try MetricsTests.scrape(try #require(server.ports["metrics"]))
        let dns = "server=\"dns://:\(server.port)\""
        #expect(samples["coredns_plugin_enabled{\(dns),zone=\"corp.test.\",view=\"\",name=\"forward\"}"] == 1)
        #expect(samples["coredns_plugin_enabled{\(dns),zone=\".\",view=\"\",name=\"kubernetes\"}"] == 1)
        // SIGUSR1's reload, and the reload plugin's when its interval came first.
        #expect((samples["coredns_reload_failed_total"] ?? 0) >= 1)
        #expect(samples.filter { $0.key.hasPrefix("coredns_reload_version_info") && $0.value == 1 }.count == 1)
        #expect(try MetricsTests.parsesAsPrometheusText(text))
        // The reload plugin notices an edit by itself: the stub zone goes again.
        try base.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try eventually(timeout: .seconds(10)) { try Dig.query("db.corp.test.", "A", port: server.port).rcode != "NOERROR" })
        #expect(server.isRunning)
    }

    /// Asks a cluster name over and over while `during` runs (and a second
    /// after); returns how many got no NOERROR answer.
    static func queryWhile(port: UInt16, _ during: () -> Void) throws -> Int {
        let socket = try LoopbackSocket(tcp: false, port: port)
        var failures = 0
        var done = false
        var sent = 0
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            let query = QueryPacket.make(id: UInt16(sent & 0xFFFF), name: "kubernetes.default.svc.cluster.local.", type: 1)
            socket.send(query)
            sent += 1
            let reply = socket.receiveDatagram()
            if reply.map({ ReplyCheck.rcode($0) != 0 || ReplyCheck.count($0, section: 1) != 1 }) ?? true { failures += 1 }
            if !done, sent == 50 {
                during()
                done = true
            }
        }
        return failures
    }

    @Test(arguments: [
        (".:0 {\nnosuchplugin\n}", "Corefile:2 - Error during parsing: Unknown directive 'nosuchplugin'"),
        (".:0 {\nforward . 10.0.0.1 {\nbogus 1\n}\n}", "Corefile:3 - Error during parsing: plugin/forward: unknown property 'bogus'"),
        (
            ".:0 {\nkubernetes cluster.local {\nttl forever\n}\n}",
            "Corefile:3 - Error during parsing: plugin/kubernetes: ttl 'forever' is not a whole number from 0 to 3600"
        ),
        (".:0 {\nerrors\n", "Corefile:2 - Error during parsing: Unexpected EOF: the block opened at line 1 is not closed"),
        ("tls://.:0 {\nerrors\n}", "Corefile:1 - Error during parsing: tls://.:0: the tls:// scheme is not supported, only dns://"),
        (
            ".:0 {\nk8s_external example.org\n}",
            "Corefile:2 - Error during parsing: plugin/k8s_external: serves the kubernetes plugin's objects; add kubernetes"
        ),
        (
            ".:0 {\nkubernetes cluster.local\nk8s_external example.org {\napex ns.1\n}\n}",
            "Corefile:4 - Error during parsing: plugin/k8s_external: apex 'ns.1' is not a DNS label"
        ),
        (
            ".:0 {\nkubernetes cluster.local {\nmulticluster clusterset.local\n}\n}",
            "Corefile:3 - Error during parsing: plugin/kubernetes: multicluster zone clusterset.local. is not one of the plugin's zones"
        ),
        (".:0 {\nautopath\n}", "Corefile:2 - Error during parsing: plugin/autopath: 'autopath' takes at least 1 argument, not none"),
        (
            ".:0 {\nautopath @etcd\n}",
            "Corefile:2 - Error during parsing: plugin/autopath: @etcd: no plugin of that name gives a search path (@kubernetes does)"
        ),
        (
            ".:0 {\nkubernetes cluster.local\nk8s_external cluster.local\n}",
            "Corefile:3 - Error during parsing: plugin/k8s_external: zone cluster.local. overlaps the cluster domain cluster.local."
        ),
    ])
    func whatCannotBeServedStopsTheStartWithOneLine(_ text: String, _ message: String) throws {
        let result = try ServerProcess.refusing(corefile: text)
        #expect(result.status != 0)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasSuffix(result.directory + "/" + message), "\(result.stderr)")
    }
}
