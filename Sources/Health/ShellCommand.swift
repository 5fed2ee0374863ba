import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One run of a shell command, in a process group of its own so that a
/// run that hangs is killed with every process it started.
public struct ShellCommand: Sendable {
    public let command: String

    public init(_ command: String) { self.command = command }

    public struct Outcome: Sendable {
        /// Standard output and standard error, as they came.
        public var output: String
        /// nil when the command exited 0, else why it failed.
        public var error: String?
    }

    /// Runs `sh -c command`; kills its process group at `timeout`.
    public func run(timeout: Duration) -> Outcome {
        // Foundation starts the child as the leader of a process group of
        // its own (its pid is the group's id), which the command's children join.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return Outcome(output: "", error: "cannot run sh: \(error)")
        }
        let collected = OutputCollector(pipe.fileHandleForReading)
        let deadline = ContinuousClock.now + timeout
        var killed = false
        while process.isRunning {
            if ContinuousClock.now >= deadline {
                if kill(-process.processIdentifier, SIGKILL) != 0 { kill(process.processIdentifier, SIGKILL) }
                killed = true
                break
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        let output = collected.finish()
        if killed { return Outcome(output: output, error: "killed after \(timeout): it did not finish") }
        switch (process.terminationReason, process.terminationStatus) {
        case (.exit, 0): return Outcome(output: output, error: nil)
        case (.exit, let status): return Outcome(output: output, error: "exit status \(status)")
        case (_, let signal): return Outcome(output: output, error: "killed by signal \(signal)")
        }
    }
}

/// Reads a pipe to its end on a thread of its own, so a chatty command
/// never blocks on a full pipe.
private final class OutputCollector: @unchecked Sendable {
    // @unchecked: `data` is written by the reading thread only before
    // `done` is signalled, and read by the caller only after waiting on it.
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    /// The whole output; the pipe's last writers are gone (exited or killed),
    /// so the end comes, but a grandchild that left the group could hold it:
    /// wait a second at most.
    func finish() -> String {
        guard done.wait(timeout: .now() + 1) == .success else { return "" }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
