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
/// already served stay. `pause` waits out the interval and says whether
/// a reload was asked for meanwhile (a signal): then the file is read
/// even if it looks the same.
public struct ObjectsFileWatcher: Sendable {
    public typealias Pause = @Sendable (Duration) async -> Bool

    public let path: String
    public let interval: Duration
    /// Whether a file with no objects is served; else it is taken for a
    /// bad edit (an editor or a tool that empties the file before writing
    /// it), which would make every name of the cluster NXDOMAIN.
    public let allowEmpty: Bool
    private let pause: Pause
    private let logger: Logger

    public init(
        path: String, interval: Duration = .milliseconds(500), allowEmpty: Bool = false,
        pause: @escaping Pause = { period in
            try? await Task.sleep(for: period)
            return false
        }, logger: Logger
    ) {
        self.path = path
        self.interval = interval
        self.allowEmpty = allowEmpty
        self.pause = pause
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
                    let asked = await pause(interval)
                    let now = identity()
                    guard now != last || asked else { continue }
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
        guard allowEmpty || objects != ClusterObjects() else {
            throw ObjectsFileError(path: path, reason: "no objects; an empty cluster is served only with --allow-empty-cluster")
        }
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
