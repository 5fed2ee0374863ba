import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM: not ready at once, answering through the lame-duck period, then a clean exit.
@Suite struct ShutdownTests {
    @Test func sigtermTurnsReadinessOffThenAnswersThroughTheLameDuckAndExitsZero() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--lameduck", "2s"])
        let readiness = "http://127.0.0.1:\(server.healthzPort)/readiness"
        #expect(try httpStatus(readiness) == 200)
        let signalled = Date()
        kill(server.pid, SIGTERM)
        #expect(eventually(timeout: .seconds(1)) { (try? httpStatus(readiness)) == 503 })
        // Queries keep being answered while the lame duck lasts.
        var answered = 0
        while Date().timeIntervalSince(signalled) < 1.5 {
            let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port, options: ["+time=1", "+tries=1"])
            #expect(reply.normalized.answer == ["kubernetes.default.svc.cluster.local. 30 in a 10.0.0.1"])
            answered += 1
        }
        #expect(answered > 5)
        #expect(server.stop(signal: 0) == 0)
        let took = Date().timeIntervalSince(signalled)
        #expect(took >= 2 && took < 4, "exited after \(took) s")
    }
}
