import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `kube-dns exechealthz`, the exec-healthz sidecar, run as a process and
/// probed with curl.
@Suite struct ExecHealthzTests {
    /// Runs exechealthz with `command` until `body` returns, then stops it by its PID.
    func withExecHealthz(_ command: String, latency: String = "2s", _ body: (String) throws -> Void) throws {
        let port = try freePort()
        let process = try ServerProcess.start(
            ["exechealthz", "--cmd", command, "--port", "\(port)", "--period", "200ms", "--latency", latency, "--quiet"])
        defer {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        let url = "http://127.0.0.1:\(port)/healthz"
        #expect(eventually { (try? httpStatus(url)) ?? 0 != 0 })
        try body(url)
    }

    func body(_ url: String) throws -> String { try run("/usr/bin/curl", ["-s", "--max-time", "2", url]) }

    @Test func aSucceedingCommandIsOkWithItsOutput() throws {
        try withExecHealthz("echo all good") { url throws in
            #expect(eventually { (try? body(url)) == "ok\nall good\n" })
            #expect(try httpStatus(url) == 200)
        }
    }

    @Test func aFailingCommandIs503WithItsErrorAndOutput() throws {
        try withExecHealthz("echo broken; exit 3") { url throws in
            #expect(eventually { (try? httpStatus(url)) == 503 })
            let text = try body(url)
            #expect(text.contains("Healthz probe error: Result of last exec: broken"), "\(text)")
            #expect(text.contains("exit status 3"), "\(text)")
        }
    }

    @Test func aHangingCommandIsKilledWithItsChildrenAndTooOldMeanwhile() throws {
        let pidFile = FileManager.default.temporaryDirectory.appendingPathComponent("hang-\(UUID()).pid").path
        defer { try? FileManager.default.removeItem(atPath: pidFile) }
        try withExecHealthz("sleep 300 & echo $! > \(pidFile); wait", latency: "1s") { url throws in
            // Healthy for the first latency, as the original starts.
            #expect(try httpStatus(url) == 200)
            #expect(eventually(timeout: .seconds(5)) { (try? httpStatus(url)) == 503 })
            let child = try #require(
                eventually { FileManager.default.fileExists(atPath: pidFile) }
                    ? Int32(String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)) : nil)
            // The run is killed at the latency, the background sleep with it.
            #expect(eventually(timeout: .seconds(5)) { kill(child, 0) != 0 })
            #expect(eventually(timeout: .seconds(5)) { ((try? body(url)) ?? "").contains("did not finish") })
        }
    }

    @Test func aCommandThatRecoversMakesTheProbeHealthyAgain() throws {
        let flag = FileManager.default.temporaryDirectory.appendingPathComponent("flag-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: flag) }
        try withExecHealthz("test -f \(flag)") { url throws in
            #expect(eventually { (try? httpStatus(url)) == 503 })
            #expect(FileManager.default.createFile(atPath: flag, contents: Data()))
            #expect(eventually { (try? httpStatus(url)) == 200 })
        }
    }
}
