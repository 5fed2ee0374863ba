import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `--kube-objects` is re-read when the file changes; a broken file keeps
/// the records already served.
@Suite struct ObjectsFileReloadTests {
    let extra = """
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: added, namespace: prod}
        spec: {clusterIP: 10.0.7.7}

        """

    /// A temporary copy of the fixture cluster to edit: its path and text.
    static func copyOfTheFixture() throws -> (path: String, text: String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cluster-\(UUID()).yaml").path
        let original = try String(contentsOfFile: Fixtures.clusterPath, encoding: .utf8)
        try original.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, original)
    }

    @Test func anEditShowsUpAndABrokenEditKeepsTheOldAnswers() throws {
        let (path, original) = try Self.copyOfTheFixture()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let server = try ServerProcess(["--kube-objects", path])
        defer { server.stop() }
        let port = server.port
        #expect(try Dig.query("added.prod.svc.cluster.local.", "A", port: port).rcode == "NXDOMAIN")

        try (original + extra).write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try eventually { try Dig.query("added.prod.svc.cluster.local.", "A", port: port).rcode == "NOERROR" })
        let added = try Dig.query("added.prod.svc.cluster.local.", "A", port: port)
        #expect(added.normalized.answer == ["added.prod.svc.cluster.local. 30 in a 10.0.7.7"])

        // A broken edit: the last good records stay, and the server says why.
        try (original + extra + "\n- this: [is not\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(eventually { server.log.contains("objects file not loaded; serving the last records") })
        #expect(try Dig.query("added.prod.svc.cluster.local.", "A", port: port).rcode == "NOERROR")
        #expect(try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: port).rcode == "NOERROR")

        // An edit in place (same inode) that removes the service.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: Data(original.utf8))
        try handle.close()
        #expect(try eventually { try Dig.query("added.prod.svc.cluster.local.", "A", port: port).rcode == "NXDOMAIN" })
        server.stop()
        #expect(server.log.contains("objects file not loaded"))
    }

    /// An editor or a tool that truncates the file before writing it leaves
    /// it empty for a moment; served, every cluster name would be NXDOMAIN.
    @Test func anEmptiedFileKeepsTheRecordsUnlessAnEmptyClusterIsAllowed() throws {
        let (path, _) = try Self.copyOfTheFixture()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let server = try ServerProcess(["--kube-objects", path])
        defer { server.stop() }
        try "# nothing yet\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(eventually { server.log.contains("no objects; an empty cluster is served only with --allow-empty-cluster") })
        #expect(try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: server.port).rcode == "NOERROR")

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("empty-\(UUID()).yaml").path
        try "".write(toFile: empty, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let refused = try TestSupport.runToEnd(ServerProcess.binaryPath, ["--kube-objects", empty, "--dns-port", "0"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("Error: \(empty): no objects"), "\(refused.stderr)")
        try ServerProcess.with(["--kube-objects", empty, "--allow-empty-cluster"]) { port throws in
            #expect(try Dig.query("kubernetes.default.svc.cluster.local.", "A", port: port).rcode == "NXDOMAIN")
        }
    }
}
