import Logging
import RecordModel

#if canImport(Glibc)
    import Glibc
#endif

/// Follows an objects file: yields its objects each time it changes.
///
/// It polls the file's identity (device, inode, size, modification time),
/// which also sees a ConfigMap volume swapping its symlink. A file that
/// cannot be read or parsed is logged and yields nothing, so the records
/// already served stay.
public struct ObjectsFileWatcher: Sendable {
    public let path: String
    public let interval: Duration
    private let logger: Logger

    public init(path: String, interval: Duration = .milliseconds(500), logger: Logger) {
        self.path = path
        self.interval = interval
        self.logger = logger
    }

    /// The file's identity now; nil when it cannot be stat'ed.
    func identity() -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            seconds: Int64(info.st_mtim.tv_sec), nanoseconds: Int64(info.st_mtim.tv_nsec))
    }

    /// Yields the objects each time the file changes after `since`, until
    /// the task is cancelled.
    public func changes(since loaded: FileIdentity?) -> AsyncStream<ClusterObjects> {
        AsyncStream { continuation in
            let task = Task {
                var last = loaded
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    let now = identity()
                    guard now != last else { continue }
                    last = now
                    guard now != nil else {
                        logger.error("objects file is gone; serving the last records", metadata: ["path": "\(path)"])
                        continue
                    }
                    do {
                        continuation.yield(try load().objects)
                    } catch {
                        logger.error("objects file not loaded; serving the last records", metadata: ["error": "\(error)"])
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Loads the file now, with its identity for `changes(since:)`.
    public func load() throws(ObjectsFileError) -> (objects: ClusterObjects, identity: FileIdentity?) {
        let before = identity()
        let clock = ContinuousClock()
        let start = clock.now
        let objects = try ObjectsFile.load(path)
        logger.info(
            "objects file loaded",
            metadata: [
                "path": "\(path)", "services": "\(objects.services.count)", "duration": "\(clock.now - start)",
            ])
        return (objects, before)
    }
}

/// What tells one version of a file from the next.
public struct FileIdentity: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var seconds: Int64
    var nanoseconds: Int64
}
