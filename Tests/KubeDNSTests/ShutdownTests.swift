import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// SIGTERM under load: not ready at once, answering through the lame-duck
/// period, then a clean exit.
@Suite struct ShutdownTests {
    @Test func sigtermTurnsReadinessOffThenAnswersThroughTheLameDuckAndExitsZero() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--lameduck", "3s", "--threads", "2"])
        let readiness = "http://127.0.0.1:\(server.healthzPort)/readiness"
        #expect(try httpStatus(readiness) == 200)
        // Load from two threads (about 30,000 queries/s, short of saturating
        // this machine, where UDP would drop the test's own queries) until
        // the process has exited.
        let flooding = FloodFlag()
        let port = server.port
        let floods = (0..<2).map { _ in
            Thread {
                guard let socket = try? LoopbackSocket(tcp: false, port: port) else { return }
                let query = QueryPacket.make(id: 7, name: "kubernetes.default.svc.cluster.local", type: 1)
                var sent = 0
                while flooding.isSet && sent < 1_000_000 {
                    for _ in 0..<16 { socket.send(query) }
                    sent += 16
                    usleep(1000)
                }
            }
        }
        flooding.set()
        floods.forEach { $0.start() }
        defer { flooding.clear() }
        let signalled = Date()
        kill(server.pid, SIGTERM)
        #expect(eventually(timeout: .seconds(2)) { (try? httpStatus(readiness)) == 503 })
        // Queries keep being answered while the lame duck lasts.
        var answered = 0
        while Date().timeIntervalSince(signalled) < 2 {
            let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port, options: ["+time=1", "+tries=3"])
            #expect(reply.normalized.answer == ["kubernetes.default.svc.cluster.local. 30 in a 10.0.0.1"])
            answered += 1
        }
        #expect(answered > 5)
        #expect(server.stop(signal: 0) == 0)
        let took = Date().timeIntervalSince(signalled)
        // Not before the lame duck ends; the upper bound only catches a hang.
        #expect(took >= 3 && took < 10, "exited after \(took) s")
    }
}
