import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The real `kube-dns` binary, started on a free loopback port and stopped
/// by its PID.
public final class ServerProcess: @unchecked Sendable {
    // @unchecked: tests that share a server (the suite trait) read only
    // `port`, a constant; the Process is started, read and stopped by the
    // owner alone, one call at a time.
    public let port: UInt16
    /// The probe port (`--healthz-port`), free unless the arguments name one.
    public let healthzPort: UInt16
    private let process: Process
    private let stderrPipe = Pipe()

    /// The built `kube-dns`, beside the test bundle in the build folder.
    public static var binaryPath: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("kube-dns").path
    }

    /// Starts `kube-dns` with `arguments` plus the bind address (loopback
    /// unless said) and a free port, and waits until it answers DNS: from
    /// its records, or (`untilSynced: false`) at all, SERVFAIL included.
    public init(
        _ arguments: [String], bindAddress: String = "127.0.0.1", untilSynced: Bool = true,
        environment: [String: String] = [:]
    ) throws {
        port = try freePort()
        var arguments = arguments
        if let index = arguments.firstIndex(of: "--healthz-port"), let given = UInt16(arguments[index + 1]) {
            healthzPort = given
        } else {
            healthzPort = try freePort()
            arguments += ["--healthz-port", "\(healthzPort)"]
        }
        // Tests stop servers often: no lame-duck wait unless a test asks for one.
        if !arguments.contains(where: { $0.hasPrefix("--lameduck") }) { arguments += ["--lameduck", "0"] }
        process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binaryPath)
        process.arguments = arguments + ["--dns-bind-address", bindAddress, "--dns-port", "\(port)"]
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardError = stderrPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        try waitUntilAnswering(untilSynced: untilSynced)
    }

    private func waitUntilAnswering(untilSynced: Bool) throws {
        for _ in 0..<100 {
            guard process.isRunning else { throw ServerError.exited(stderr: log) }
            if let reply = try? Dig.query("dns-version.cluster.local.", "TXT", port: port, options: ["+time=1", "+tries=1"]),
                !reply.rcode.isEmpty, !untilSynced || reply.rcode != "SERVFAIL"
            {
                return
            }
            usleep(100_000)
        }
        throw ServerError.notAnswering(stderr: log)
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// What the server logged so far (read once it has exited).
    public var log: String {
        String(decoding: stderrPipe.fileHandleForReading.availableData, as: UTF8.self)
    }

    /// Sends `signal` and waits for the exit; returns the exit status.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { stop(signal: SIGKILL) }

    /// Runs `body` with the port of a server started with `arguments`,
    /// then stops the server.
    public static func with<T>(
        _ arguments: [String], bindAddress: String = "127.0.0.1", _ body: (UInt16) throws -> T
    ) throws -> T {
        let server = try ServerProcess(arguments, bindAddress: bindAddress)
        defer { server.stop() }
        return try body(server.port)
    }

    public enum ServerError: Error {
        case exited(stderr: String)
        case notAnswering(stderr: String)
    }
}

/// A port free for both UDP and TCP on 127.0.0.1 right now.
public func freePort() throws -> UInt16 {
    for _ in 0..<50 {
        let port = UInt16.random(in: 20000...60000)
        if canBind(port, Int32(SOCK_DGRAM.rawValue)) && canBind(port, Int32(SOCK_STREAM.rawValue)) { return port }
    }
    throw POSIXError(.EADDRINUSE)
}

private func canBind(_ port: UInt16, _ type: Int32) -> Bool {
    let fd = socket(AF_INET, type, 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    } == 0
}
