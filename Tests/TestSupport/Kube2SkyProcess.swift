import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The real `kube-dns kube2sky`, writing a simulated cluster into a real
/// etcd; its probe on a port of the kernel's choosing, read from its port file.
public final class Kube2SkyProcess: @unchecked Sendable {
    // @unchecked: `healthzPort` is a constant; the Process is started and
    // stopped by the owner alone; the log buffer has its own lock.
    public let healthzPort: UInt16
    private let process: Process
    private let stderr = LogBuffer()

    public convenience init(etcd: String, apiServer: String) throws {
        try self.init(arguments: [
            "kube2sky", "--etcd-server", etcd, "--kube-master-url", apiServer, "--healthz-port", "0", "-v", "2",
        ])
    }

    /// `arguments`: the whole command line after the binary, `kube2sky` first.
    public init(arguments: [String]) throws {
        let portFile = PortFileReader.temporaryPath()
        let process = Process()
        self.process = process
        process.executableURL = URL(fileURLWithPath: ServerProcess.binaryPath)
        process.arguments = arguments + ["--port-file", portFile]
        process.standardOutput = FileHandle.nullDevice
        let pipe = try ChildStart.alone {
            let pipe = Pipe()
            process.standardError = pipe
            try process.run()
            return pipe
        }
        stderr.follow(pipe.fileHandleForReading)
        guard let port = PortFileReader.wait(portFile, for: process)?["healthz"] else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            stderr.waitForEnd()
            throw ServerProcess.ServerError.exited(stderr: stderr.text)
        }
        healthzPort = port
    }

    /// GET /readiness: its status, or nil when nothing answers.
    public var readiness: Int? { try? httpStatus("http://127.0.0.1:\(healthzPort)/readiness") }

    public var log: String {
        if !process.isRunning { stderr.waitForEnd() }
        return stderr.text
    }

    public var isRunning: Bool { process.isRunning }

    /// Stops it with SIGKILL (see ServerProcess: SIGTERM can be blocked in
    /// children of test threads) and waits.
    public func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}
