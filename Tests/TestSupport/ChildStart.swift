import Foundation

/// Starts the tests' children one at a time. On Linux, Foundation's
/// Process closes in the child only the descriptors open when it looks
/// (there is no POSIX_SPAWN_CLOEXEC_DEFAULT), so a child started on one
/// thread inherits the pipes and exit-watch socket another thread is making
/// for its own child. A long-lived child (a server) then holds them, and
/// that other test never sees its child's output end or its exit: an `ip`
/// left a zombie while its caller waited for it.
public enum ChildStart {
    private static let lock = NSLock()

    /// Runs `body`, which makes a child's descriptors and starts it, while
    /// no other child is being started.
    public static func alone<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
