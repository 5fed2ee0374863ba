import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Names that are not the cluster's go to real upstreams (Unbound and Knot
/// DNS serving test zones on loopback ports), through the cache.
@Suite(.serialized) struct ForwardingTests {
    static let zone = """
        $ORIGIN example.test.
        $TTL 300
        @ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60
        @ IN NS ns.example.test.
        ns IN A 127.0.0.1
        www IN A 192.0.2.10
        www IN AAAA 2001:db8::10
        @ IN MX 10 mail.example.test.
        mail IN A 192.0.2.25
        txt IN TXT "hello world"
        x.sub IN A 192.0.2.99
        big IN TXT \((1...8).map { _ in "\"" + String(repeating: "x", count: 200) + "\"" }.joined(separator: " "))
        \((1...100).map { "many IN A 192.0.2.\($0)" }.joined(separator: "\n"))

        """
    static let stubZone = """
        $ORIGIN corp.test.
        $TTL 120
        @ IN SOA ns.corp.test. admin.corp.test. 1 3600 600 86400 60
        @ IN NS ns.corp.test.
        ns IN A 127.0.0.1
        db IN A 192.0.2.77

        """

    static let externalZone = """
        $ORIGIN example.com.
        $TTL 120
        @ IN SOA ns.example.com. admin.example.com. 1 3600 600 86400 60
        @ IN NS ns.example.com.
        ns IN A 127.0.0.1
        api IN A 192.0.2.80
        api IN A 192.0.2.81
        brief 1 IN A 192.0.2.90

        """

    /// A question as it was asked, letters of any case kept.
    static func question(_ reply: DigReply) -> String { reply.question.first?.split(separator: "\t").first.map(String.init) ?? "" }

    @Test func forwardsWhatIsNotOursAndKeepsTheQuestionsCase() throws {
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: Self.zone)
        defer { upstream.stop() }
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--nameservers", upstream.address])
        defer { server.stop() }
        let cases: [(String, String, [String])] = [
            ("WwW.ExAmPlE.tEsT.", "A", ["WwW.ExAmPlE.tEsT. 300 IN A 192.0.2.10"]),
            ("www.example.test.", "AAAA", ["www.example.test. 300 IN AAAA 2001:db8::10"]),
            ("example.test.", "MX", ["example.test. 300 IN MX 10 mail.example.test."]),
            ("txt.example.test.", "TXT", ["txt.example.test. 300 IN TXT \"hello world\""]),
        ]
        for (name, type, answer) in cases {
            let reply = try Dig.query(name, type, port: server.port)
            #expect(reply.rcode == "NOERROR", "\(name) \(type)")
            #expect(Self.question(reply) == name)
            #expect(reply.answer.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") } == answer)
            #expect(reply.flags.contains("ra") && !reply.flags.contains("aa"), "\(reply.flags)")
        }
        let missing = try Dig.query("Nope.example.test.", "A", port: server.port)
        #expect(missing.rcode == "NXDOMAIN")
        #expect(Self.question(missing) == "Nope.example.test.")
        #expect(missing.authority.first?.contains("SOA") == true)

        // The reverse name of an address the cluster does not own goes upstream
        // (Unbound answers for TEST-NET-1 from its own local zone).
        #expect(try Dig.query("10.2.0.192.in-addr.arpa.", "PTR", port: server.port).rcode == "NXDOMAIN")
        #expect(upstream.queries("10.2.0.192.in-addr.arpa.", "PTR") == 1)

        // The cluster's own names, forward and reverse, never go upstream.
        #expect(try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port).rcode == "NOERROR")
        #expect(try Dig.query("nothing.default.svc.cluster.local.", "A", port: server.port).rcode == "NXDOMAIN")
        #expect(try Dig.query("1.0.0.10.in-addr.arpa.", "PTR", port: server.port).rcode == "NOERROR")
        #expect(!upstream.queriedNames.isEmpty)
        #expect(
            upstream.queriedNames.allSatisfy { !$0.contains("cluster.local") && !$0.hasSuffix("10.in-addr.arpa.") },
            "\(upstream.queriedNames)")
    }

    @Test func repeatsComeFromTheCacheWithTTLsCountedDown() throws {
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: Self.zone)
        defer { upstream.stop() }
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--nameservers", upstream.address])
        defer { server.stop() }
        for _ in 0..<5 {
            #expect(try Dig.query("www.example.test.", "A", port: server.port).rcode == "NOERROR")
            #expect(try Dig.query("nope.example.test.", "A", port: server.port).rcode == "NXDOMAIN")
        }
        #expect(try Dig.query("www.example.test.", "AAAA", port: server.port).rcode == "NOERROR")
        // One upstream query per question within its TTL, negative answers included (RFC 2308).
        #expect(upstream.queries("www.example.test.", "A") == 1)
        #expect(upstream.queries("nope.example.test.", "A") == 1)
        #expect(upstream.queries("www.example.test.", "AAAA") == 1)
        sleep(2)
        let later = try Dig.query("www.example.test.", "A", port: server.port)
        let ttl = later.answer.first.flatMap { Int($0.split(whereSeparator: \.isWhitespace)[1]) }
        #expect(ttl.map { $0 <= 298 && $0 > 200 } == true, "\(later.answer)")
        // NXDOMAIN is kept for the SOA's MINIMUM (60), and counted down too.
        let negative = try Dig.query("nope.example.test.", "A", port: server.port)
        let negativeTTL = negative.authority.first.flatMap { Int($0.split(whereSeparator: \.isWhitespace)[1]) }
        #expect(negativeTTL.map { $0 <= 298 } == true, "\(negative.authority)")
        #expect(upstream.queries("www.example.test.", "A") == 1)
    }

    @Test func externalNamesOutsideTheClusterAreFollowedUpstream() throws {
        let upstream = try UpstreamServer(.knot, origin: "example.com", zone: Self.externalZone)
        defer { upstream.stop() }
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--nameservers", upstream.address])
        defer { server.stop() }
        // The CNAME from the cluster, then the target's addresses from upstream, over UDP and TCP.
        for tcp in [false, true] {
            let reply = try Dig.query("Ext.Prod.svc.cluster.local.", "A", port: server.port, tcp: tcp)
            #expect(reply.rcode == "NOERROR")
            #expect(Self.question(reply) == "Ext.Prod.svc.cluster.local.")
            #expect(
                reply.answer.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") } == [
                    "Ext.Prod.svc.cluster.local. 30 IN CNAME api.example.com.",
                    "api.example.com. 120 IN A 192.0.2.80", "api.example.com. 120 IN A 192.0.2.81",
                ])
        }
        // No such type at the target: the CNAME, and the target zone's SOA.
        let nodata = try Dig.query("ext.prod.svc.cluster.local.", "TXT", port: server.port)
        #expect(nodata.rcode == "NOERROR" && nodata.answer.count == 1)
        #expect(nodata.authority.first?.contains("example.com.") == true)
        // Asked for the CNAME itself, or for a target inside the cluster: the table alone.
        #expect(try Dig.query("ext.prod.svc.cluster.local.", "CNAME", port: server.port).answer.count == 1)
        #expect(try Dig.query("alias.prod.svc.cluster.local.", "A", port: server.port).answer.count == 2)
    }

    @Test func staleAnswersWhileTheUpstreamIsDownOnlyWhenAskedFor() throws {
        for serveStale in [false, true] {
            let upstream = try UpstreamServer(.knot, origin: "example.com", zone: Self.externalZone)
            defer { upstream.stop() }
            let server = try ServerProcess(
                ["--kube-objects", Fixtures.clusterPath, "--nameservers", upstream.address, "--forward-timeout", "1s"]
                    + (serveStale ? ["--serve-stale", "1h"] : []))
            defer { server.stop() }
            #expect(try Dig.query("brief.example.com.", "A", port: server.port).answer.first?.hasSuffix("192.0.2.90") == true)
            upstream.stop()
            sleep(2)  // past its TTL of one second
            let reply = try Dig.query("brief.example.com.", "A", port: server.port, options: ["+time=4", "+tries=1"])
            if serveStale {
                // RFC 8767 §4: a stale answer with a TTL of 30 s.
                #expect(
                    reply.answer.map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") } == [
                        "brief.example.com. 30 IN A 192.0.2.90"
                    ])
            } else {
                #expect(reply.rcode == "SERVFAIL")
            }
        }
    }

    /// A forwarded answer too long for the client's UDP buffer came back TC
    /// with no records; now with the whole records that fit.
    @Test func aForwardedAnswerTooLongForUDPKeepsTheRecordsThatFit() throws {
        let upstream = try UpstreamServer(.knot, origin: "example.test", zone: Self.zone)
        defer { upstream.stop() }
        try ServerProcess.with(["--kube-objects", Fixtures.clusterPath, "--nameservers", upstream.address]) { port throws in
            for _ in 0..<2 {
                let udp = try Dig.query("many.example.test.", "A", port: port, options: ["+ignore", "+bufsize=512"])
                #expect(udp.flags.contains("tc"))
                #expect(udp.answer.count == (512 - 11 - 35) / 16, "\(udp.output)")
            }
            let tcp = try Dig.query("many.example.test.", "A", port: port, tcp: true)
            #expect(tcp.answer.count == 100)
        }
    }

    @Test func aTruncatedUpstreamReplyIsAskedAgainOverTCP() throws {
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: Self.zone)
        defer { upstream.stop() }
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--nameservers", upstream.address])
        defer { server.stop() }
        let reply = try Dig.query("big.example.test.", "TXT", port: server.port, tcp: true)
        #expect(reply.rcode == "NOERROR")
        #expect(reply.answer.count == 1 && reply.answer[0].components(separatedBy: "\"x").count == 9)
        // Over UDP (1,232 bytes) the upstream said TC; the whole answer came over TCP.
        #expect(upstream.queries("big.example.test.", "TXT") == 2)
        // A UDP client is told to come back over TCP, from the cache.
        let udp = try Dig.query("big.example.test.", "TXT", port: server.port, options: ["+ignore"])
        #expect(udp.flags.contains("tc"))
        #expect(upstream.queries("big.example.test.", "TXT") == 2)
    }

    @Test func stubDomainsAndUpstreamNameserversFromTheConfigDirectoryReadAgain() throws {
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: Self.zone)
        defer { upstream.stop() }
        let stub = try UpstreamServer(.knot, origin: "corp.test", zone: Self.stubZone)
        defer { stub.stop() }
        let silent = try SilentUpstream()
        defer { silent.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kube-dns-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ file: String, _ text: String) throws {
            try text.write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        try write("stubDomains", #"{"corp.test": ["\#(stub.address)"], "sub.example.test": ["\#(silent.address)"]}"#)
        try write("upstreamNameservers", #"["\#(upstream.address)"]"#)
        // --nameservers is replaced by the ConfigMap's upstreamNameservers.
        let server = try ServerProcess([
            "--kube-objects", Fixtures.clusterPath, "--nameservers", silent.address, "--config-dir", directory.path,
            "--config-period", "0.2s", "--forward-timeout", "1s",
        ])
        defer { server.stop() }
        #expect(try Dig.query("db.corp.test.", "A", port: server.port).answer.first?.hasSuffix("192.0.2.77") == true)
        #expect(try Dig.query("www.example.test.", "A", port: server.port).answer.first?.hasSuffix("192.0.2.10") == true)
        // A stub domain's servers failing is SERVFAIL, not the default upstreams' answer.
        #expect(try Dig.query("x.sub.example.test.", "A", port: server.port, options: ["+time=4", "+tries=1"]).rcode == "SERVFAIL")
        #expect(upstream.queries("x.sub.example.test.", "A") == 0)
        #expect(silent.queries > 0)

        // An invalid file keeps what was configured, and says why.
        try write("stubDomains", "{oops")
        #expect(eventually { server.log.contains("upstream configuration invalid; keeping the previous one") })
        #expect(try Dig.query("db.corp.test.", "A", port: server.port).answer.first?.hasSuffix("192.0.2.77") == true)

        // A corrected file is read again within the period.
        try write("stubDomains", #"{"corp.test": ["\#(stub.address)"]}"#)
        #expect(
            try eventually(timeout: .seconds(10)) {
                try Dig.query("x.sub.example.test.", "A", port: server.port, options: ["+time=4", "+tries=1"]).answer.first?.hasSuffix(
                    "192.0.2.99") == true
            })
        #expect(server.log.contains("upstream configuration reloaded"))
    }

    /// kube-dns took stub servers given by host name and resolved them; a
    /// cluster moving from it lost such stub domains without a word.
    @Test func aStubServerGivenByNameIsResolvedThroughTheUpstreams() throws {
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: Self.zone)
        defer { upstream.stop() }
        let stub = try UpstreamServer(.knot, origin: "corp.test", zone: Self.stubZone)
        defer { stub.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kube-dns-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // ns.example.test is 127.0.0.1 in the upstream's zone.
        try #"{"corp.test": ["ns.example.test:\#(stub.port)"]}"#.write(
            to: directory.appendingPathComponent("stubDomains"), atomically: true, encoding: .utf8)
        let server = try ServerProcess([
            "--kube-objects", Fixtures.clusterPath, "--nameservers", upstream.address, "--config-dir", directory.path,
        ])
        defer { server.stop() }
        #expect(try eventually { try Dig.query("db.corp.test.", "A", port: server.port).answer.first?.hasSuffix("192.0.2.77") == true })
        #expect(upstream.queries("ns.example.test.", "A") >= 1)
    }

    @Test(arguments: [SIGHUP, SIGUSR1])
    func aReloadSignalReadsTheConfigDirectoryAtOnce(_ signal: Int32) throws {
        let stub = try UpstreamServer(.knot, origin: "corp.test", zone: Self.stubZone)
        defer { stub.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kube-dns-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess([
            "--kube-objects", Fixtures.clusterPath, "--nameservers", "", "--config-dir", directory.path, "--config-period", "1h",
        ])
        defer { server.stop() }
        #expect(try Dig.query("db.corp.test.", "A", port: server.port).rcode == "REFUSED")
        try #"{"corp.test": ["\#(stub.address)"]}"#.write(
            to: directory.appendingPathComponent("stubDomains"), atomically: true, encoding: .utf8)
        kill(server.pid, signal)
        #expect(try eventually { try Dig.query("db.corp.test.", "A", port: server.port).answer.first?.hasSuffix("192.0.2.77") == true })
        #expect(server.isRunning)
    }

    /// A 10 MB stubDomains file made a 20-million-character log line,
    /// repeated every period.
    @Test func aHugeBadFileIsQuotedShortAndReportedOnce() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kube-dns-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let huge = String(repeating: "a", count: 1 << 20)
        try #"{"corp.test": ["\#(huge)"]}"#.write(to: directory.appendingPathComponent("stubDomains"), atomically: true, encoding: .utf8)
        let server = try ServerProcess([
            "--kube-objects", Fixtures.clusterPath, "--config-dir", directory.path, "--config-period", "0.1s",
        ])
        defer { server.stop() }
        usleep(1_500_000)
        let log = server.log
        #expect(log.components(separatedBy: "upstream configuration invalid").count == 2, "\(log.prefix(2000))")
        #expect(log.split(separator: "\n").allSatisfy { $0.utf8.count < 1000 })
        #expect(log.contains("(1048576 bytes) is not ip[:port]"))
    }

    @Test func aSilentUpstreamGetsServfailInTimeWhileClusterNamesAnswer() throws {
        let silent = try SilentUpstream()
        defer { silent.stop() }
        let server = try ServerProcess([
            "--kube-objects", Fixtures.clusterPath, "--nameservers", silent.address, "--forward-timeout", "1s",
        ])
        defer { server.stop() }
        // dig gives up after 4 s: a SERVFAIL at all means we said it in time.
        let start = Date()
        #expect(try Dig.query("www.example.test.", "A", port: server.port, options: ["+time=4", "+tries=1"]).rcode == "SERVFAIL")
        #expect(Date().timeIntervalSince(start) < 4)

        let rssBefore = try residentKiB(server.pid)
        let socket = try LoopbackSocket(tcp: false, port: server.port)
        socket.enlargeReceiveBuffer()
        var servfails = 0
        for round in 0..<3 {
            // Queries piling up upstream do not slow the cluster's names.
            for i in 0..<1000 {
                socket.send(QueryPacket.make(id: UInt16(i), name: "q\(round)-\(i).example.test", type: 1))
            }
            let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port, options: ["+time=1", "+tries=1"])
            #expect(reply.answer.count == 1)
            // Every one of them ends, with SERVFAIL.
            for _ in 0..<1000 {
                guard let reply = socket.receiveDatagram() else { break }
                if reply.count >= 4, reply[3] & 0x0F == 2 { servfails += 1 }
            }
        }
        #expect(servfails == 3000)
        let grown = try residentKiB(server.pid) - rssBefore
        #expect(grown < 8 * 1024, "RSS grew by \(grown) KiB")
        #expect(silent.queries >= 3000)
    }

    @Test func failoverToTheNextUpstream() throws {
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: Self.zone)
        defer { upstream.stop() }
        let silent = try SilentUpstream()
        defer { silent.stop() }
        let closed = try freePort()
        // A closed port refuses at once (ICMP); a silent one takes its turn.
        for first in ["127.0.0.1:\(closed)", silent.address] {
            let server = try ServerProcess([
                "--kube-objects", Fixtures.clusterPath, "--nameservers", "\(first),\(upstream.address)", "--forward-timeout", "2s",
            ])
            defer { server.stop() }
            let reply = try Dig.query("www.example.test.", "A", port: server.port, options: ["+time=4", "+tries=1"])
            #expect(reply.answer.first?.hasSuffix("192.0.2.10") == true, "after \(first)")
        }
        let alone = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--nameservers", "127.0.0.1:\(closed)"])
        defer { alone.stop() }
        #expect(try Dig.query("www.example.test.", "A", port: alone.port, options: ["+time=4", "+tries=1"]).rcode == "SERVFAIL")
    }

    @Test func forwardingLoopsAreRefused() throws {
        let upstream = try UpstreamServer(.unbound, origin: "example.test", zone: Self.zone)
        defer { upstream.stop() }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("kube-dns-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try ServerProcess([
            "--kube-objects", Fixtures.clusterPath, "--config-dir", directory.path, "--config-period", "0.2s",
        ])
        defer { server.stop() }
        // Unbound forwarding everything back to us: a loop through another server.
        let forwarder = try UpstreamServer(.unboundForwarder(to: server.port), origin: "cluster.local")
        defer { forwarder.stop() }
        try #"["127.0.0.1:\#(forwarder.port)", "\#(upstream.address)"]"#.write(
            to: directory.appendingPathComponent("upstreamNameservers"), atomically: true, encoding: .utf8)
        #expect(eventually { server.log.contains("forwarding loop: the upstream sends our queries back to us; not used") })
        #expect(server.log.contains("upstream=127.0.0.1:\(forwarder.port)"))
        #expect(
            try Dig.query("www.example.test.", "A", port: server.port, options: ["+time=4", "+tries=1"]).answer.first?.hasSuffix(
                "192.0.2.10") == true)

        // Ourselves as an upstream is refused before any query is sent.
        try #"["127.0.0.1:\#(server.port)"]"#.write(
            to: directory.appendingPathComponent("upstreamNameservers"), atomically: true, encoding: .utf8)
        #expect(
            eventually { server.log.contains("upstream 127.0.0.1:\(server.port) for names outside the cluster is this server itself") })
    }
}

/// The resident set of a process, in KiB.
func residentKiB(_ pid: Int32) throws -> Int {
    let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return Int(line.split(whereSeparator: \.isWhitespace).dropFirst().first ?? "") ?? 0
}
