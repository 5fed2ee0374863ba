import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM: not ready at once, answering through the lame-duck period, then a clean exit.
@Suite struct ShutdownTests {
    @Test func sigtermTurnsReadinessOffThenAnswersThroughTheLameDuckAndExitsZero() throws {
        let server = try ServerProcess(["--kube-objects", Fixtures.clusterPath, "--lameduck", "3s"])
        let readiness = "http://127.0.0.1:\(server.healthzPort)/readiness"
        #expect(try httpStatus(readiness) == 200)
        let signalled = Date()
        kill(server.pid, SIGTERM)
        #expect(eventually(timeout: .seconds(2)) { (try? httpStatus(readiness)) == 503 })
        // Queries keep being answered while the lame duck lasts.
        var answered = 0
        while Date().timeIntervalSince(signalled) < 2 {
            let reply = try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port, options: ["+time=1", "+tries=1"])
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
