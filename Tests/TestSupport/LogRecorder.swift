import Logging
import Synchronization

/// Keeps the messages logged through its loggers, for tests that assert
/// what was said (a publication whole or as a delta, an error logged).
public final class LogRecorder: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    /// Every message so far, oldest first, as "level message".
    public var messages: [String] { lines.withLock { $0 } }

    public func count(_ message: String) -> Int { messages.filter { $0.hasSuffix(" " + message) }.count }

    /// A logger at `level` whose messages this recorder keeps.
    public func logger(level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "test") { _ in Handler(recorder: self) }
        logger.logLevel = level
        return logger
    }

    fileprivate func record(_ line: String) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { recorder.record("\(event.level) \(event.message)") }
    }
}
