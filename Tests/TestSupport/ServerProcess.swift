import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The real `kube-dns` binary, started on loopback ports of the kernel's
/// choosing (read back from the file it writes them to, `--port-file`)
/// and stopped by its PID. Ports picked
/// by the test and bound later could be taken meanwhile, and the DNS
/// sockets use SO_REUSEPORT, so a second server of the same user would
/// share them instead of failing: the kernel's choice avoids both.
public final class ServerProcess: @unchecked Sendable {
    // @unchecked: tests that share a server (the suite trait) read only
    // `port` and `healthzPort`, constants; the Process is started, read and
    // stopped by the owner alone, one call at a time; the log buffer is
    // guarded by its own lock.
    public let port: UInt16
    /// The probe port (`--healthz-port`).
    public let healthzPort: UInt16
    /// The metrics port (`--metrics-port`).
    public let metricsPort: UInt16
    /// Every port it wrote to `--port-file`, by name (with a Corefile:
    /// `dns`, `health`, `ready`, `metrics`).
    public let ports: [String: UInt16]
    private let process: Process
    private let stderr = LogBuffer()

    /// The built `kube-dns`, beside the test bundle in the build folder.
    public static var binaryPath: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("kube-dns").path
    }

    /// Starts `kube-dns` with `arguments` plus the bind address (loopback
    /// unless said) and port 0 for DNS and probes (unless the arguments name
    /// a probe port), and waits until it answers DNS: from its records, or
    /// (`untilSynced: false`) at all, SERVFAIL included.
    /// `listen`: the flags of the DNS address (`skydns` takes `--addr`).
    /// With `--conf`, the Corefile decides the addresses, ports and upstreams.
    /// `launcher`: a command that runs the binary (`prlimit --nofile=...`).
    public init(
        _ arguments: [String], bindAddress: String = "127.0.0.1", untilSynced: Bool = true,
        environment: [String: String] = [:], listen: [String]? = nil, launcher: [String] = []
    ) throws {
        let corefile = arguments.contains("--conf") || arguments.contains("-conf")
        var arguments = arguments
        if !corefile { arguments += Self.kubeDNSDefaults(arguments) + (listen ?? ["--dns-bind-address", bindAddress, "--dns-port", "0"]) }
        let portFile = PortFileReader.temporaryPath()
        arguments += ["--port-file", portFile]
        let process = Process()
        self.process = process
        process.executableURL = URL(fileURLWithPath: launcher.first ?? Self.binaryPath)
        process.arguments = launcher.isEmpty ? arguments : launcher.dropFirst() + [Self.binaryPath] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = try ChildStart.alone {
            let pipe = Pipe()
            // Both streams in one log: the query log goes to standard output, as CoreDNS's does.
            process.standardError = pipe
            process.standardOutput = pipe
            try process.run()
            return pipe
        }
        stderr.follow(pipe.fileHandleForReading)
        let written = PortFileReader.wait(portFile, for: process)
        guard let written, let dns = written["dns"], corefile || (written["healthz"] != nil && written["metrics"] != nil) else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            stderr.waitForEnd()
            throw process.terminationReason == .exit && process.terminationStatus != 0
                ? ServerError.exited(stderr: stderr.text) : ServerError.notAnswering(stderr: stderr.text)
        }
        port = dns
        healthzPort = written["healthz"] ?? written["health"] ?? 0
        metricsPort = written["metrics"] ?? 0
        ports = written
        try waitUntilAnswering(untilSynced: untilSynced)
    }

    /// kube-dns's flags the tests want unless they give them: probes on
    /// ports of the kernel's choosing, no upstreams, no lame duck.
    private static func kubeDNSDefaults(_ given: [String]) -> [String] {
        var arguments: [String] = []
        if !given.contains("--healthz-port") { arguments += ["--healthz-port", "0"] }
        if !given.contains("--metrics-port") { arguments += ["--metrics-port", "0"] }
        // No upstreams unless a test gives them (not the machine's resolv.conf):
        // names outside the cluster get REFUSED.
        if !given.contains("--nameservers") { arguments += ["--nameservers", ""] }
        if !given.contains("--config-dir") { arguments += ["--config-dir", "/nonexistent/kube-dns-config"] }
        // Tests stop servers often: no lame-duck wait unless a test asks for one.
        if !given.contains(where: { $0.hasPrefix("--lameduck") }) { arguments += ["--lameduck", "0"] }
        return arguments
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

    /// What the server has logged so far, on either stream (all of it once it has exited).
    public var log: String {
        if !process.isRunning { stderr.waitForEnd() }
        return stderr.text
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

    /// Runs `kube-dns` on `text` as its Corefile (a file named `Corefile`
    /// in a directory of its own) to its end, as for a Corefile it
    /// refuses: its exit status, standard error, and the Corefile's directory.
    public static func refusing(corefile text: String) throws -> (status: Int32, stderr: String, directory: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("corefile-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: directory + "/Corefile", atomically: true, encoding: .utf8)
        let result = try runToEnd(binaryPath, ["-conf", directory + "/Corefile"])
        return (result.status, result.stderr, directory)
    }

    /// Starts `kube-dns` with `arguments` as they are, its output dropped;
    /// for commands that need no log read back (exechealthz).
    public static func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binaryPath)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try ChildStart.alone { try process.run() }
        return process
    }

    public enum ServerError: Error {
        case exited(stderr: String)
        case notAnswering(stderr: String)
    }
}

/// A port free for both UDP and TCP on 127.0.0.1 right now, below Linux's
/// ephemeral range (32768 and up), so no socket the kernel numbers takes
/// it meanwhile. For servers that cannot report a port of the kernel's choosing.
public func freePort() throws -> UInt16 {
    for _ in 0..<50 {
        let port = UInt16.random(in: 20000...32000)
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

/// A process's standard error, read as it comes on a thread of its own.
final class LogBuffer: Sendable {
    private let data = Mutex(Data())
    private let ended = DispatchSemaphore(value: 0)

    func follow(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                data.withLock { $0.append(chunk) }
            }
            ended.signal()
        }
    }

    var text: String { String(decoding: data.withLock { $0 }, as: UTF8.self) }

    /// Waits (a second at most) until the writer has closed its end.
    func waitForEnd() {
        if ended.wait(timeout: .now() + 1) == .success { ended.signal() }
    }
}
