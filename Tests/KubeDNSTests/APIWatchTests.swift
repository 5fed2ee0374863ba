import Foundation
import KubeAPISimulator
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The real binary watching the simulated API: every kind of change shows
/// up in answers, and no fault of the API loses what is served.
@Suite struct APIWatchTests {
    @Test func everyKindOfServiceChangeShowsUp() async throws {
        try await withSimulatedCluster([J.namespace("prod"), J.service("web", "prod", clusterIPs: ["10.0.0.20"])]) {
            simulator, server, _ throws in
            let port = server.port
            Lookup.expectEventually("web.prod.svc", port: port, Lookup.ok("a 10.0.0.20"))

            // ClusterIP: a new address, then dual-stack, then a named port.
            try simulator.apply(J.service("web", "prod", clusterIPs: ["10.0.0.21"]))
            Lookup.expectEventually("web.prod.svc", port: port, Lookup.ok("a 10.0.0.21"))
            try simulator.apply(J.service("web", "prod", clusterIPs: ["10.0.0.21", "fd00::21"], ports: [.init("http", 80)]))
            Lookup.expectEventually("web.prod.svc", "AAAA", port: port, Lookup.ok("aaaa fd00::21"))
            Lookup.expectEventually("_http._tcp.web.prod.svc", "SRV", port: port, Lookup.ok("srv 0 100 80 web.prod.svc.cluster.local."))
            Lookup.expectEventually("21.0.0.10.in-addr.arpa", "PTR", port: port, Lookup.ok("ptr web.prod.svc.cluster.local."))

            // Headless: ready endpoints only, then one becomes ready, then a port is added.
            try simulator.apply(J.service("db", "prod", clusterIPs: ["None"]))
            try simulator.apply(
                J.endpointSlice("db", "prod", endpoints: [.init("10.1.0.1", hostname: "db-0"), .init("10.1.0.2", ready: false)]))
            Lookup.expectEventually("db.prod.svc", port: port, Lookup.ok("a 10.1.0.1"))
            Lookup.expectEventually("db-0.db.prod.svc", port: port, Lookup.ok("a 10.1.0.1"))
            try simulator.apply(
                J.endpointSlice(
                    "db", "prod", endpoints: [.init("10.1.0.1", hostname: "db-0"), .init("10.1.0.2")], ports: [.init("pg", 5432)]))
            Lookup.expectEventually("db.prod.svc", port: port, Lookup.ok("a 10.1.0.1", "a 10.1.0.2"))
            Lookup.expectEventually(
                "_pg._tcp.db.prod.svc", "SRV", port: port,
                Lookup.ok("srv 0 50 5432 10-1-0-2.db.prod.svc.cluster.local.", "srv 0 50 5432 db-0.db.prod.svc.cluster.local."))
            // No ready endpoint left: the name is gone.
            try simulator.apply(J.endpointSlice("db", "prod", endpoints: [.init("10.1.0.1", ready: false)]))
            Lookup.expectEventually("db.prod.svc", port: port, Lookup.nxdomain)

            // ExternalName, then a type change back to ClusterIP.
            try simulator.apply(J.externalName("ext", "prod", target: "example.org"))
            Lookup.expectEventually("ext.prod.svc", "CNAME", port: port, Lookup.ok("cname example.org."))
            try simulator.apply(J.service("ext", "prod", clusterIPs: ["10.0.0.30"]))
            Lookup.expectEventually("ext.prod.svc", port: port, Lookup.ok("a 10.0.0.30"))
            try simulator.apply(J.externalName("web", "prod", target: "web.example.org"))
            Lookup.expectEventually("web.prod.svc", "CNAME", port: port, Lookup.ok("cname web.example.org."))
            Lookup.expectEventually("21.0.0.10.in-addr.arpa", "PTR", port: port, Lookup(rcode: "REFUSED", data: []))

            // A new namespace exists as soon as it is created.
            #expect(Lookup.of("staging.svc", port: port) == Lookup.nxdomain)
            try simulator.apply(J.namespace("staging"))
            Lookup.expectEventually("staging.svc", port: port, Lookup.nodata)

            // Deletes.
            simulator.delete(.services, namespace: "prod", name: "ext")
            Lookup.expectEventually("ext.prod.svc", port: port, Lookup.nxdomain)
            simulator.delete(.namespaces, name: "staging")
            Lookup.expectEventually("staging.svc", port: port, Lookup.nxdomain)
        }
    }

    /// A Service whose port was a string, or that had no spec, made every
    /// later Service change wait until it was deleted and a relist came.
    @Test func anUndecodableServiceIsPassedOverAndTheRestFlows() async throws {
        let noSpec = #"{"kind":"Service","apiVersion":"v1","metadata":{"name":"nospec","namespace":"prod"}}"#
        let stringPort = J.service("odd", "prod", clusterIPs: ["10.0.0.40"], ports: [.init("http", 80)])
            .replacingOccurrences(of: #""port":80"#, with: #""port":"eighty""#)
        #expect(stringPort.contains("eighty"))
        try await withSimulatedCluster([J.namespace("prod"), noSpec, J.service("web", "prod", clusterIPs: ["10.0.0.20"])]) {
            simulator, server, _ throws in
            Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.20"))
            try simulator.apply(stringPort)
            try simulator.apply(J.service("later", "prod", clusterIPs: ["10.0.0.41"]))
            Lookup.expectEventually("later.prod.svc", port: server.port, Lookup.ok("a 10.0.0.41"))
            #expect(Lookup.of("odd.prod.svc", port: server.port) == Lookup.nxdomain)
            let skipped = try MetricsTests.scrape(server.metricsPort).samples["kube_dns_informer_skipped_total{resource=\"services\"}"]
            #expect(skipped == 2)
            #expect(server.log.components(separatedBy: "object=prod/nospec").count == 2, "\(server.log)")
            #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/readiness") == 200)
        }
    }

    @Test func anUpdateThatChangesNothingDNSReadsPublishesNothing() async throws {
        try await withSimulatedCluster([J.service("web", "prod", clusterIPs: ["10.0.0.20"])]) { simulator, server, _ throws in
            func sample(_ name: String) throws -> Double? { try MetricsTests.scrape(server.metricsPort).samples[name] }
            let publications = "kube_dns_publications_total"
            Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.20"))
            let before = try #require(try sample(publications))
            // The same Service again: a new resourceVersion, nothing else.
            try simulator.apply(J.service("web", "prod", clusterIPs: ["10.0.0.20"]))
            let modified = "kube_dns_informer_events_total{resource=\"services\",type=\"MODIFIED\"}"
            #expect(eventually { (try? sample(modified)) == 1 })
            #expect(try sample(publications) == before)
            // A real change is published once: one publication in all, so
            // the update before it made none, even one counted late.
            try simulator.apply(J.service("web", "prod", clusterIPs: ["10.0.0.21"]))
            Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.21"))
            #expect(eventually { ((try? sample(publications)) ?? 0) > before })
            #expect(try sample(publications) == before + 1)
        }
    }

    /// The SOA serial is the second of the last change, as CoreDNS numbers
    /// it, not a count of publications: a burst of changes, each answered
    /// before the next, does not run it ahead of the clock.
    @Test func aBurstOfChangesKeepsTheSerialAtTheClock() async throws {
        try await withSimulatedCluster([J.service("web", "prod", clusterIPs: ["10.0.0.20"])]) { simulator, server, _ throws in
            Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.20"))
            for last in 21...50 {
                try simulator.apply(J.service("web", "prod", clusterIPs: ["10.0.0.\(last)"]))
                Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.\(last)"))
            }
            let serial = try #require(UInt32(try Lookup.soaSerial(port: server.port)))
            let now = UInt32(Date().timeIntervalSince1970)
            #expect(serial <= now, "serial \(serial) after the clock's \(now)")
            #expect(serial + 60 > now, "serial \(serial) is not the time of a recent change (now \(now))")
        }
    }

    @Test func v1EndpointsWhenTheAPIHasNoEndpointSlices() async throws {
        try await offThePool {
            let simulator = try KubeAPISimulator()
            simulator.serveEndpointSlices(false)
            try simulator.apply(J.service("db", "prod", clusterIPs: ["None"]))
            try simulator.apply(J.endpoints("db", "prod", ready: ["10.1.0.1"], notReady: ["10.1.0.2"]))
            let apiPort = try await simulator.start()
            let server = try ServerProcess(["--kube-master-url", "http://127.0.0.1:\(apiPort)"])
            defer { server.stop() }
            Lookup.expectEventually("db.prod.svc", port: server.port, Lookup.ok("a 10.1.0.1"))
            try simulator.apply(J.endpoints("db", "prod", ready: ["10.1.0.1", "10.1.0.2"]))
            Lookup.expectEventually("db.prod.svc", port: server.port, Lookup.ok("a 10.1.0.1", "a 10.1.0.2"))
            await simulator.stop()
        }
    }

    @Test func apiFaultsLoseNothingAndChangesStillArrive() async throws {
        var configuration = KubeAPISimulator.Configuration()
        configuration.bookmarkInterval = .milliseconds(500)
        try await withSimulatedCluster(
            [J.service("web", "prod", clusterIPs: ["10.0.0.20"])], configuration: configuration, arguments: ["--watch-timeout", "2s"]
        ) { simulator, server, _ throws in
            let port = server.port
            Lookup.expectEventually("web.prod.svc", port: port, Lookup.ok("a 10.0.0.20"))
            let faults: [(String, () -> Void)] = [
                ("dropped watches", { simulator.dropWatches() }),
                (
                    "410 as a status",
                    {
                        simulator.reportGoneAsHTTPStatus(true)
                        simulator.dropWatches()
                        simulator.compact()
                    }
                ),
                (
                    "410 in the stream",
                    {
                        simulator.reportGoneAsHTTPStatus(false)
                        simulator.compact(endingWatches: true)
                    }
                ),
                ("a stalled stream", { simulator.stallWatches() }),
                (
                    "500s for 3 s",
                    {
                        simulator.fail(status: 500, for: .seconds(3))
                        simulator.dropWatches()
                    }
                ),
                (
                    "429s for 2 s",
                    {
                        simulator.fail(status: 429, for: .seconds(2))
                        simulator.dropWatches()
                    }
                ),
            ]
            for (index, (fault, inject)) in faults.enumerated() {
                inject()
                #expect(Lookup.of("web.prod.svc", port: port) == Lookup.ok("a 10.0.0.20"), "after \(fault)")
                try simulator.apply(J.service("s\(index)", "prod", clusterIPs: ["10.0.1.\(index)"]))
                Lookup.expectEventually("s\(index).prod.svc", port: port, Lookup.ok("a 10.0.1.\(index)"))
                #expect(Lookup.of("web.prod.svc", port: port) == Lookup.ok("a 10.0.0.20"), "after \(fault)")
            }
            #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/readiness") == 200)
        }
    }

    @Test func anAPIOutageOfTenSecondsServesEverythingAndCatchesUp() async throws {
        let services = (0..<20).map { J.service("s\($0)", "prod", clusterIPs: ["10.0.2.\($0)"]) }
        try await withSimulatedCluster(services) { simulator, server, apiPort throws in
            let port = server.port
            Lookup.expectEventually("s19.prod.svc", port: port, Lookup.ok("a 10.0.2.19"))
            await simulator.stop()
            // Changed while kube-dns cannot see it.
            simulator.delete(.services, namespace: "prod", name: "s0")
            try simulator.apply(J.service("s1", "prod", clusterIPs: ["10.0.3.1"]))
            try simulator.apply(J.service("late", "prod", clusterIPs: ["10.0.3.99"]))
            simulator.compact()
            let deadline = ContinuousClock.now + .seconds(10)
            var rounds = 0
            while ContinuousClock.now < deadline {
                for index in 0..<20 {
                    let answer = Lookup.of("s\(index).prod.svc", port: port)
                    #expect(answer == Lookup.ok("a 10.0.2.\(index)"), "s\(index) during the outage")
                }
                rounds += 1
            }
            #expect(rounds > 3)
            #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/readiness") == 200)
            _ = try await simulator.start(port: apiPort)
            Lookup.expectEventually("late.prod.svc", port: port, Lookup.ok("a 10.0.3.99"))
            Lookup.expectEventually("s1.prod.svc", port: port, Lookup.ok("a 10.0.3.1"))
            Lookup.expectEventually("s0.prod.svc", port: port, Lookup.nxdomain)
        }
    }

    @Test func aSlowInitialListIsServfailAndNotReadyUntilItArrives() async throws {
        try await offThePool {
            let simulator = try KubeAPISimulator()
            try simulator.apply(J.service("web", "prod", clusterIPs: ["10.0.0.20"]))
            simulator.delayLists(by: .seconds(4))
            let apiPort = try await simulator.start()
            let server = try ServerProcess(
                ["--kube-master-url", "http://127.0.0.1:\(apiPort)", "--initial-sync-timeout", "1s"], untilSynced: false)
            defer { server.stop() }
            let readiness = "http://127.0.0.1:\(server.healthzPort)/readiness"
            #expect(try httpStatus(readiness) == 503)
            #expect(Lookup.of("web.prod.svc", port: server.port) == Lookup(rcode: "SERVFAIL", data: []))
            #expect(Lookup.of("nothing.prod.svc", port: server.port) == Lookup(rcode: "SERVFAIL", data: []))
            Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.20"))
            #expect(try httpStatus(readiness) == 200)
            #expect(server.isRunning)
            await simulator.stop()
            server.stop()
            #expect(server.log.contains("initial sync not done in time"))
        }
    }

    /// Services s000 to s500 in prod, at 10.0.(n / 250).(n % 250 + 1):
    /// two of kube-dns's list pages of 500.
    static let twoPagesOfServices = (0..<501).map {
        J.service(String(format: "s%03d", $0), "prod", clusterIPs: ["10.0.\($0 / 250).\($0 % 250 + 1)"])
    }

    /// How many pages of Services after a first one the simulator was asked for.
    static func laterServicePages(_ simulator: KubeAPISimulator) -> Int {
        simulator.requests.filter { $0.uri.hasPrefix("/api/v1/services?") && $0.uri.contains("continue=") }.count
    }

    /// Nothing of a first list is served before its last page, though its
    /// pages go into the record store as they come.
    @Test func aListInPagesIsServedOnlyOnceItsLastPageArrives() async throws {
        try await offThePool {
            let simulator = try KubeAPISimulator()
            for service in Self.twoPagesOfServices { try simulator.apply(service) }
            simulator.delayLists(by: .seconds(3), afterFirstPage: true)
            let apiPort = try await simulator.start()
            let server = try ServerProcess(["--kube-master-url", "http://127.0.0.1:\(apiPort)"], untilSynced: false)
            defer { server.stop() }
            #expect(eventually { Self.laterServicePages(simulator) == 1 })
            #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/readiness") == 503)
            #expect(Lookup.of("s000.prod.svc", port: server.port) == Lookup(rcode: "SERVFAIL", data: []))
            Lookup.expectEventually("s000.prod.svc", port: server.port, Lookup.ok("a 10.0.0.1"))
            #expect(Lookup.of("s500.prod.svc", port: server.port) == Lookup.ok("a 10.0.2.1"))
            await simulator.stop()
        }
    }

    /// After the first table, a relist (here after a 410) changes the
    /// answers when its last page has come, not page by page.
    @Test func aRelistIsPublishedWhenItEnds() async throws {
        try await withSimulatedCluster(Self.twoPagesOfServices) { simulator, server, _ throws in
            let port = server.port
            Lookup.expectEventually("s500.prod.svc", port: port, Lookup.ok("a 10.0.2.1"))
            #expect(Self.laterServicePages(simulator) == 1)
            simulator.delayLists(by: .seconds(3), afterFirstPage: true)
            simulator.reportGoneAsHTTPStatus(true)
            simulator.dropWatches()
            try simulator.apply(J.service("s000", "prod", clusterIPs: ["10.0.9.9"]))
            simulator.compact()
            #expect(eventually { Self.laterServicePages(simulator) == 2 })
            #expect(Lookup.of("s000.prod.svc", port: port) == Lookup.ok("a 10.0.0.1"))
            Lookup.expectEventually("s000.prod.svc", port: port, Lookup.ok("a 10.0.9.9"))
        }
    }

    /// An object that makes no records is logged, whether it came in the
    /// first list or in an event, with every other object of its batch.
    @Test func objectsThatMakeNoRecordsAreLogged() async throws {
        try await withSimulatedCluster([
            J.externalName("listed-bad", "prod", target: "not a name!"), J.externalName("listed-too", "prod", target: "no way!"),
            J.service("web", "prod", clusterIPs: ["10.0.0.20"]),
        ]) { simulator, server, _ throws in
            Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.20"))
            try simulator.apply(J.externalName("watched-bad", "prod", target: "still not!"))
            #expect(eventually { server.log.contains("prod/watched-bad") })
            for name in ["listed-bad", "listed-too", "watched-bad"] {
                #expect(server.log.contains("service prod/\(name): externalName is not a DNS name"), "\(name)")
            }
            #expect(Lookup.of("web.prod.svc", port: server.port) == Lookup.ok("a 10.0.0.20"))
        }
    }

    @Test func anUnreachableAPIServerKeepsTheServerUpAndUnready() async throws {
        try await offThePool {
            let server = try ServerProcess(["--kube-master-url", "http://127.0.0.1:1", "--initial-sync-timeout", "1s"], untilSynced: false)
            #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/readiness") == 503)
            #expect(Lookup.of("kubernetes.default.svc", port: server.port) == Lookup(rcode: "SERVFAIL", data: []))
            #expect(eventually { server.log.contains("initial sync not done in time") }, "\(server.log)")
            #expect(server.isRunning)
            server.stop()
            #expect(server.log.contains("API discovery failed; retrying"), "\(server.log)")
        }
    }

    @Test func aKubeconfigWithTLSACAAClientCertificateAndAToken() async throws {
        try await offThePool {
            let certificates = try TestCertificates()
            defer { certificates.remove() }
            var configuration = KubeAPISimulator.Configuration()
            configuration.tls = (
                try certificates.read(certificates.serverCertificatePath), try certificates.read(certificates.serverKeyPath)
            )
            configuration.clientCA = try certificates.read(certificates.caPath)
            configuration.bearerToken = "sekret"
            let simulator = try KubeAPISimulator(configuration)
            try simulator.apply(J.service("web", "prod", clusterIPs: ["10.0.0.20"]))
            let apiPort = try await simulator.start()
            func base64(_ path: String) throws -> String { try Data(contentsOf: URL(fileURLWithPath: path)).base64EncodedString() }
            let kubeconfig = certificates.directory + "/kubeconfig"
            try """
            apiVersion: v1
            kind: Config
            current-context: test
            clusters:
            - name: sim
              cluster:
                server: https://127.0.0.1:\(apiPort)
                certificate-authority-data: \(try base64(certificates.caPath))
            contexts:
            - name: test
              context: {cluster: sim, user: dns}
            users:
            - name: dns
              user:
                token: sekret
                client-certificate-data: \(try base64(certificates.clientCertificatePath))
                client-key-data: \(try base64(certificates.clientKeyPath))
            """.write(toFile: kubeconfig, atomically: true, encoding: .utf8)
            let server = try ServerProcess(["--kubecfg-file", kubeconfig])
            defer { server.stop() }
            Lookup.expectEventually("web.prod.svc", port: server.port, Lookup.ok("a 10.0.0.20"))
            let request = simulator.requests.first { $0.uri.hasPrefix("/api/v1/services") }
            #expect(request?.userAgent?.hasPrefix("kube-dns/") == true)
            #expect(request?.accept == "application/json")
            await simulator.stop()
        }
    }
}
