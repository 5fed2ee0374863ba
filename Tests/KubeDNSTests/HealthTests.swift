import Foundation
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `/healthz` tells a wedged worker loop from a busy one.
@Suite struct HealthTests {
    @Test func healthzFailsWhileAWorkerLoopIsWedgedAndRecovers() throws {
        let server = try ServerProcess(
            ["--kube-objects", Fixtures.clusterPath, "--threads", "2"], environment: ["KUBE_DNS_TEST_HOOKS": "1"])
        defer { server.stop() }
        let healthz = "http://127.0.0.1:\(server.healthzPort)/healthz"
        #expect(try httpStatus(healthz) == 200)
        kill(server.pid, SIGUSR2)
        #expect(try eventually(timeout: .seconds(4)) { try httpStatus(healthz) == 503 })
        let reason = try run("/usr/bin/curl", ["-s", "--max-time", "2", healthz])
        #expect(reason.contains("DNS worker 0 has not turned its event loop"), "\(reason)")
        // The other worker still answers meanwhile.
        #expect(try eventually(timeout: .seconds(10)) { try httpStatus(healthz) == 200 })
    }

    @Test func healthzAnswersAtOnceWhileTheWorkersAreFlooded() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--threads", "2"])
        defer { server.stop() }
        let flooding = FloodFlag()
        let floods = (0..<2).map { _ in
            Thread {
                guard let socket = try? LoopbackSocket(tcp: false, port: server.port) else { return }
                let query = QueryPacket.make(id: 1, name: "kubernetes.default.svc.cluster.local", type: 1)
                while flooding.isSet && flooding.sent < 10_000_000 {
                    for _ in 0..<64 { socket.send(query) }
                    flooding.count(64)
                }
            }
        }
        flooding.set()
        floods.forEach { $0.start() }
        defer { flooding.clear() }
        #expect(eventually { flooding.sent >= 100_000 })
        // A probe waiting behind DNS work would miss the kubelet's default
        // probe timeout of one second; how fast it answers is a benchmark's
        // business, not this test's.
        for _ in 0..<10 {
            #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/healthz", extra: ["--max-time", "1"]) == 200)
            usleep(100_000)
        }
        flooding.clear()
    }
}

/// The HTTP ports held all the connections anyone opened (10,000 idle
/// ones took about 8,000 descriptors and 37 MB) and kept a request that
/// never finished forever.
@Suite struct HTTPConnectionLimitTests {
    static func openDescriptors(_ pid: Int32) -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? 0
    }

    @Test func heldConnectionsAreCappedAndTheProbesStillAnswer() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath])
        defer { server.stop() }
        let before = Self.openDescriptors(server.pid)
        var held: [LoopbackSocket] = []
        for number in 0..<400 {
            let socket = try LoopbackSocket(tcp: true, port: server.healthzPort)
            // Some send half a request and go quiet.
            if number % 4 == 0 { socket.send(Array("GET /healthz HTTP/1.1\r\nHost: x\r\n".utf8)) }
            held.append(socket)
        }
        for _ in 0..<5 {
            #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/healthz", extra: ["--max-time", "1"]) == 200)
            #expect(try httpStatus("http://127.0.0.1:\(server.healthzPort)/readiness", extra: ["--max-time", "1"]) == 200)
        }
        #expect(eventually { Self.openDescriptors(server.pid) <= before + 260 }, "\(Self.openDescriptors(server.pid)) open")
        held.removeAll()
    }

    @Test func aRequestThatNeverEndsIsClosedAtItsDeadline() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath])
        defer { server.stop() }
        let slow = try LoopbackSocket(tcp: true, port: server.healthzPort, timeoutMilliseconds: 9000)
        slow.send(Array("GET /healthz HTTP/1.1\r\n".utf8))
        let start = ContinuousClock.now
        #expect(slow.peerClosed())
        #expect(ContinuousClock.now - start < .seconds(8))
    }

    @Test func theHTTPPortsBindTheAddressGiven() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--http-bind-address", "::1"])
        defer { server.stop() }
        #expect(try httpStatus("http://[::1]:\(server.healthzPort)/healthz") == 200)
        // Its listening TCP sockets, as the kernel lists them: ::1 only (a
        // request to 127.0.0.1 on the same port number could reach another
        // test's server, whose port the kernel picked in IPv4's own space).
        let listening = try run("/usr/bin/ss", ["-Hltnp"]).split(separator: "\n").filter { $0.contains("pid=\(server.pid),") }
        let addresses = Set(listening.map { String($0.split(separator: " ", omittingEmptySubsequences: true)[3]) })
        for port in [server.healthzPort, server.metricsPort] {
            #expect(addresses.filter { $0.hasSuffix(":\(port)") } == ["[::1]:\(port)"], "\(listening)")
        }
    }
}

/// A flag the flood threads read, and how many queries they have sent.
final class FloodFlag: Sendable {
    private let value = Atomic(false)
    private let queries = Atomic(0)
    var isSet: Bool { value.load(ordering: .relaxed) }
    var sent: Int { queries.load(ordering: .relaxed) }
    func set() { value.store(true, ordering: .relaxed) }
    func clear() { value.store(false, ordering: .relaxed) }
    func count(_ sent: Int) { queries.add(sent, ordering: .relaxed) }
}
