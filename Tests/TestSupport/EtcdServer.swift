import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A real etcd (Debian's etcd-server) on loopback ports, with a temporary
/// data directory, started by the test and stopped by its PID.
public final class EtcdServer: @unchecked Sendable {
    // @unchecked: `port`, `peerPort` and `directory` are constants; the
    // Process is started, restarted and stopped by the owner alone.
    public let port: UInt16
    private let peerPort: UInt16
    private let directory: URL
    private var process: Process

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("etcd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var started: (Process, UInt16, UInt16)?
        for _ in 0..<5 where started == nil {
            let client = try freePort()
            let peer = try freePort()
            let process = Self.makeProcess(directory: directory, client: client, peer: peer)
            try ChildStart.alone { try process.run() }
            if Self.healthy(client) {
                started = (process, client, peer)
            } else {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
        }
        guard let started else { throw POSIXError(.EADDRINUSE) }
        (process, port, peerPort) = started
    }

    /// Starts etcd again after `stop()`, on the same ports with the same data.
    public func restart() throws {
        stop()
        process = Self.makeProcess(directory: directory, client: port, peer: peerPort)
        try ChildStart.alone { try process.run() }
        guard Self.healthy(port) else { throw POSIXError(.EADDRINUSE) }
    }

    private static func makeProcess(directory: URL, client: UInt16, peer: UInt16) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/etcd")
        process.arguments = [
            "--data-dir", directory.appendingPathComponent("data").path,
            "--listen-client-urls", "http://127.0.0.1:\(client)", "--advertise-client-urls", "http://127.0.0.1:\(client)",
            "--listen-peer-urls", "http://127.0.0.1:\(peer)",
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        return process
    }

    private static func healthy(_ port: UInt16) -> Bool {
        for _ in 0..<100 {
            if (try? httpStatus("http://127.0.0.1:\(port)/health")) == 200 { return true }
            usleep(100_000)
        }
        return false
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
