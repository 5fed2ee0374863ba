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
