import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Started with `--nofile=512`, 600 connections made the accept loop spin
/// at a full core writing "Too many open files" (120 MB in 4 s), and
/// /healthz stopped answering.
@Suite(.serialized) struct DescriptorLimitTests {
    /// User and system CPU time of `pid`, in clock ticks.
    static func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }

    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    @Test func theCapsAreFittedInsideALowLimitAndTheProbesKeepRoom() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath], launcher: ["/usr/bin/prlimit", "--nofile=512:512", "--"])
        defer { server.stop() }
        #expect(server.log.contains("open-file limit too low for the caps asked; caps lowered to fit"), "\(server.log)")
        var held: [LoopbackSocket] = []
        for _ in 0..<600 { held.append(try LoopbackSocket(tcp: true, port: server.port)) }
        // Within the limit less the budget's reserve of 64: room left for the probes and files.
        #expect(Self.openDescriptors(server.pid) <= 512 - 64)
        for _ in 0..<3 {
            #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/healthz", extra: ["--max-time", "1"]) == 200)
        }
        let client = try LoopbackSocket(tcp: true, port: server.port)
        client.sendFramed(QueryPacket.make(id: 1, name: "kubernetes.default.svc.cluster.local", type: 1))
        #expect(client.receiveFramed().map(ReplyCheck.rcode) == 0)
        held.removeAll()
    }

    @Test func outOfDescriptorsAcceptingPausesInsteadOfSpinning() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--threads", "1"])
        defer { server.stop() }
        let pid = String(server.pid)
        let used = Self.openDescriptors(server.pid)
        _ = try run("/usr/bin/prlimit", ["--pid", pid, "--nofile=\(used + 4):\(used + 4)"])
        var held: [LoopbackSocket] = []
        for _ in 0..<50 { held.append(try LoopbackSocket(tcp: true, port: server.port)) }
        let before = Self.cpuTicks(server.pid)
        let logged = server.log.utf8.count
        usleep(2_000_000)
        // Spinning, the loop would take about 200 ticks of the 2 s.
        #expect(Self.cpuTicks(server.pid) - before < 50)
        #expect(server.log.utf8.count - logged < 10_000)
        _ = try run("/usr/bin/prlimit", ["--pid", pid, "--nofile=4096:4096"])
        held.removeAll()
        let metrics = try #require(try? MetricsTests.scrape(server.metricsPort))
        #expect((metrics.samples.first { $0.key.hasPrefix("kube_dns_tcp_accept_pauses_total") }?.value ?? 0) > 0)
        let client = try LoopbackSocket(tcp: true, port: server.port)
        client.sendFramed(QueryPacket.make(id: 1, name: "kubernetes.default.svc.cluster.local", type: 1))
        #expect(client.receiveFramed().map(ReplyCheck.rcode) == 0)
    }
}
