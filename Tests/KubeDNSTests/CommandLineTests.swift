import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The command line: spellings, errors, signals, pod modes.
@Suite struct CommandLineTests {
    /// Runs kube-dns to its end; returns its status and standard error.
    func runToEnd(_ arguments: [String]) throws -> (status: Int32, stderr: String) {
        let result = try TestSupport.runToEnd(ServerProcess.binaryPath, arguments)
        return (result.status, result.stderr)
    }

    @Test(arguments: [
        (["--kube-objects", "/nonexistent/cluster.yaml", "--dns-port", "0"], "/nonexistent/cluster.yaml"),
        (["--kube-objects", "x", "--no-such-flag"], "--no-such-flag"),
        (["--kube-objects", "x", "--pods", "sometimes"], "sometimes"),
        (["--kube-objects", "x", "--domain", "a..b"], "--domain"),
        (["--kube-objects", "x", "--domain", String(repeating: "abcdefghi.", count: 25)], "too long for dns-version"),
        (["--kube-objects", "x", "--dns-port", "70000"], "70000"),
        (["--dns-port", "0"], "KUBERNETES_SERVICE_HOST"),
        (
            ["--kube-objects", Fixtures.clusterPath, "--dns-bind-address", "not-an-address", "--dns-port", "0", "--healthz-port", "0"],
            "not-an-address"
        ),
        (["--kube-objects", "x", "--kube-master-url", "http://127.0.0.1:1"], "--kube-objects"),
        (["--kube-master-url", "ftp://example"], "--kube-master-url"),
        (["--kubecfg-file", "/nonexistent/kubeconfig"], "/nonexistent/kubeconfig"),
        (["--kube-master-url", "http://127.0.0.1:1", "--initial-sync-timeout", "soon"], "soon"),
    ])
    func badInputExitsWithAOneLineReason(_ arguments: [String], _ mentioned: String) throws {
        let (status, stderr) = try runToEnd(arguments)
        #expect(status != 0)
        let reason = stderr.split(separator: "\n").first { $0.hasPrefix("Error: ") }.map(String.init) ?? ""
        #expect(reason.contains(mentioned), "\(stderr)")
    }

    /// Values past 32 bits used to trap where they met the data plane.
    static let outOfRange: [([String], String)] = [
        (["--cache-size", "4294967296"], "--cache-size 4294967296: from 0 to 10000000"),
        (["--tcp-max-connections", "4294967296"], "--tcp-max-connections 4294967296: from 1 to 65536"),
        (["--max-concurrent-forwards", "4294967296"], "--max-concurrent-forwards 4294967296: from 1 to 65536"),
        (["--tcp-idle-timeout", "5000000"], "--tcp-idle-timeout 5000000: from 1 to 3600"),
        (["--serve-stale", "2000000h"], "--serve-stale 2000000h: from 0s to 168h"),
        (["--serve-stale", "99999999999999999999s"], "99999999999999999999s"),
        (["--forward-timeout", "1e300"], "1e300"),
        (["--lameduck", "2h"], "--lameduck 2h: from 0s to 1h"),
        (["--threads", "0"], "--threads 0: from 1 to 1024"),
        (["--healthz-port", "65536"], "--healthz-port 65536: from 0 to 65535"),
        (["--nameservers", sixteenNameservers], "--nameservers: 16 servers; at most 15"),
    ]
    static let sixteenNameservers = (1...16).map { "127.0.0.\($0)" }.joined(separator: ",")

    @Test(arguments: outOfRange)
    func aNumericFlagOutOfRangeNamesTheFlagAndItsRange(_ given: [String], _ reason: String) throws {
        let (status, stderr) = try runToEnd(["--kube-objects", Fixtures.clusterPath, "--dns-port", "0"] + given)
        #expect(status != 0)
        let line = stderr.split(separator: "\n").first { $0.hasPrefix("Error: ") }.map(String.init) ?? ""
        #expect(line.contains(reason), "\(stderr)")
        #expect(!stderr.contains("crashed"), "\(stderr)")
    }

    @Test func aBrokenObjectsFileAtStartIsAnError() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("broken-\(UUID()).yaml").path
        try "kind: Service\nmetadata: {namespace: x}\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, stderr) = try runToEnd(["--kube-objects", path, "--dns-bind-address", "127.0.0.1", "--dns-port", "0"])
        #expect(status != 0)
        #expect(stderr.contains("\(path): .metadata.name: required field missing"), "\(stderr)")
    }

    @Test func aSecondServerOnTheSamePortIsAnErrorNotASharedPort() throws {
        let first = try ServerProcess(["--kube-objects", Fixtures.clusterPath])
        defer { first.stop() }
        let (status, stderr) = try runToEnd([
            "--kube-objects", Fixtures.clusterPath, "--dns-bind-address", "127.0.0.1", "--dns-port", "\(first.port)",
            "--healthz-port", "0",
        ])
        #expect(status != 0)
        #expect(stderr.contains("port \(first.port) is in use by another process"), "\(stderr)")
    }

    /// Said as "bind(descriptor:ptr:bytes:)", without the port.
    @Test func aBusyHTTPPortIsNamed() throws {
        let first = try ServerProcess(["--kube-objects", Fixtures.clusterPath])
        defer { first.stop() }
        let (status, stderr) = try runToEnd([
            "--kube-objects", Fixtures.clusterPath, "--dns-port", "0", "--healthz-port", "\(first.healthzPort)",
        ])
        #expect(status != 0)
        #expect(stderr.contains("Error: HTTP port 0.0.0.0:\(first.healthzPort): Address already in use"), "\(stderr)")
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func aSignalStopsTheServerCleanly(_ signal: Int32) throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath])
        #expect(server.stop(signal: signal) == 0)
        #expect(!server.isRunning)
    }

    /// Their default action ended the process: no lame duck, no 503 first.
    @Test(arguments: [SIGHUP, SIGUSR1, SIGUSR2])
    func anotherSignalLeavesTheServerAnswering(_ signal: Int32) throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath])
        defer { server.stop() }
        for _ in 0..<3 { kill(server.pid, signal) }
        let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port)
        #expect(reply.normalized.answer == ["kubernetes.default.svc.cluster.local. 30 in a 10.0.0.1"])
        #expect(server.isRunning)
    }

    /// SIGQUIT reached the Swift runtime's crash reporter, which printed a
    /// backtrace and left the server running.
    @Test func sigquitEndsTheServerAtOnceWithoutACrashReport() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--lameduck", "30s"])
        let start = ContinuousClock.now
        #expect(server.stop(signal: SIGQUIT) == 0)
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(server.log.contains("SIGQUIT: stopping at once"))
        #expect(!server.log.contains("crashed"), "\(server.log)")
    }

    @Test func goAndUnderscoreSpellingsAreAccepted() throws {
        try ServerProcess.with(["-kube_objects=" + Fixtures.clusterPath, "-domain=cluster.local.", "--v=2", "-ttl", "7"]) { port throws in
            let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: port)
            #expect(reply.normalized.answer == ["kubernetes.default.svc.cluster.local. 7 in a 10.0.0.1"])
        }
    }

    @Test func podsVerifiedAnswersOnlyExistingPods() throws {
        try ServerProcess.with(["--kube-objects", Fixtures.clusterPath, "--pods", "verified"]) { port throws in
            let running = try Dig.query("10-1-5-5.prod.pod.cluster.local.", "A", port: port)
            #expect(running.normalized.answer == ["10-1-5-5.prod.pod.cluster.local. 30 in a 10.1.5.5"])
            #expect(try Dig.query("10-1-5-6.prod.pod.cluster.local.", "A", port: port).rcode == "NXDOMAIN")
            #expect(try Dig.query("10-1-5-7.prod.pod.cluster.local.", "A", port: port).rcode == "NXDOMAIN")
        }
    }

    @Test func podsDisabledHasNoPodNames() throws {
        try ServerProcess.with(["--kube-objects", Fixtures.clusterPath, "--pods", "disabled"]) { port throws in
            #expect(try Dig.query("10-1-5-5.prod.pod.cluster.local.", "A", port: port).rcode == "NXDOMAIN")
            #expect(try Dig.query("pod.cluster.local.", "A", port: port).rcode == "NXDOMAIN")
        }
    }

    /// Bound to a wildcard address, replies go through the IP_PKTINFO /
    /// IPV6_PKTINFO path (a wrong control message fails the send). dig
    /// drops a reply from another address than it asked; on loopback only
    /// 127.0.0.1 and ::1 may be asked, so that case cannot be staged here.
    @Test(arguments: [("0.0.0.0", ["127.0.0.1"]), ("::", ["::1", "127.0.0.1"])])
    func aWildcardBindAnswersOnLoopback(_ bind: String, _ servers: [String]) throws {
        try ServerProcess.with(["--kube-objects", Fixtures.clusterPath], bindAddress: bind) { port throws in
            for address in servers {
                for tcp in [false, true] {
                    let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: port, server: address, tcp: tcp)
                    #expect(reply.normalized.answer == ["kubernetes.default.svc.cluster.local. 30 in a 10.0.0.1"], "\(address)")
                    #expect(reply.output.contains("SERVER: \(address)#\(port)"), "\(reply.output)")
                }
            }
        }
    }

    @Test func recordsPrintsTheZonesAsZoneFileText() throws {
        let result = try TestSupport.runToEnd(ServerProcess.binaryPath, ["records", "--kube-objects", Fixtures.clusterPath])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        // The SOA first, as a zone file has it; then every record, once.
        #expect(lines.first == "cluster.local. 30 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 7200 1800 86400 30")
        #expect(lines.contains("kubernetes.default.svc.cluster.local. 30 IN A 10.0.0.1"))
        #expect(lines.contains("_pg._tcp.db.prod.svc.cluster.local. 30 IN SRV 0 50 5432 db-0.db.prod.svc.cluster.local."))
        #expect(lines.contains("1.1.0.10.in-addr.arpa. 30 IN PTR web.prod.svc.cluster.local."))
        #expect(Set(lines).count == lines.count)
        let clusterOnly = try TestSupport.runToEnd(
            ServerProcess.binaryPath, ["records", "--kube-objects", Fixtures.clusterPath, "--cluster-zone-only"])
        #expect(!clusterOnly.stdout.contains("in-addr.arpa"))
        #expect(clusterOnly.stdout.contains("dns-version.cluster.local. 30 IN TXT \"1.1.0\""))
    }

    @Test func anotherDomainIsServed() throws {
        try ServerProcess.with(["--kube-objects", Fixtures.clusterPath, "--domain", "Corp.Example"]) { port throws in
            let reply = try Dig.query("kubernetes.default.svc.corp.example.", "A", port: port)
            #expect(reply.normalized.answer == ["kubernetes.default.svc.corp.example. 30 in a 10.0.0.1"])
            #expect(try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: port).rcode == "REFUSED")
        }
    }
}
