import Logging
import Synchronization

/// glog-style `-v N` to swift-log levels: 0 says what matters to an
/// operator, 2 adds what is routine, 4 and more is for debugging.
enum Verbosity {
    static func level(_ v: Int) -> Logger.Level {
        switch v {
        case ..<1: .notice
        case 1...3: .info
        case 4...5: .debug
        default: .trace
        }
    }

    private static let bootstrapped = Mutex(false)

    /// Sets the level once per process (a mode that starts another, as
    /// node-cache starts the server, sets it first).
    static func bootstrap(_ v: Int) {
        guard
            bootstrapped.withLock({ done in
                defer { done = true }
                return !done
            })
        else { return }
        let level = level(v)
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
